"""A customer signs in to the app with the code of an SMS, as a new user of the demo would: the
gateway has campaigns' sender put the code in the local outbox, the customer signs in with it and
reads their own points and coupons through the gateway; another member's are 403. A newcomer
signs up with a code the same way. When a member is erased, members announces it over the broker
and the gateway refuses their token from then on."""

import re

import pytest

from shared.auth import Role
from tests.support.factories import member_body
from tests.support.platform import TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


async def code_from_outbox(p, phone: str) -> str:
    """What the customer reads on their phone: the code of the newest SMS to the number."""
    masked = f"{phone[:3]}****{phone[-4:]}"
    sent = (await p.campaigns.get("/v1/outbox", headers=p.env.auth(Role.OPERATOR))).json()
    text = next(e["text"] for e in sent if e["recipient"] == masked)
    assert phone not in text
    [code] = re.findall(r"\d{6}", text)
    return code


async def sign_in(p, phone: str) -> dict:
    r = await p.gateway.post("/identity/v1/members/code", json={"phone": phone})
    assert r.status_code == 202, r.text
    r = await p.gateway.post("/identity/v1/members/token", json={"phone": phone, "code": await code_from_outbox(p, phone)})
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_customer_signs_in_with_the_sms_code_and_sees_only_their_own_points_and_coupons(
    env: TestEnv, database_factory,
) -> None:
    async with platform(env, database_factory) as p:
        assert p.campaigns is not None
        desk = p.env.auth(Role.SERVICE_DESK, store_id="S001")
        customers = []
        for _ in range(2):
            r = await p.gateway.post("/api/v1/members", json=member_body(), headers=desk)
            assert r.status_code == 201, r.text
            customers.append(r.json())
        me, other = customers

        async def accounts_opened() -> bool:
            for c in customers:
                r = await p.gateway.get(f"/api/points/v1/accounts/{c['id']}", headers=desk)
                if r.status_code != 200:
                    return False
            return True

        await eventually(accounts_opened, timeout=60, what="points opens both members' accounts")

        token = await sign_in(p, me["phone"])
        assert token["member_id"] == me["id"]
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        points = await p.gateway.get(f"/api/points/v1/accounts/{me['id']}", headers=bearer)
        assert points.status_code == 200, points.text
        coupons = await p.gateway.get(f"/api/campaigns/v1/members/{me['id']}/coupons", headers=bearer)
        assert coupons.status_code == 200, coupons.text
        assert (await p.gateway.get(f"/api/points/v1/accounts/{other['id']}", headers=bearer)).status_code == 403
        assert (await p.gateway.get(f"/api/campaigns/v1/members/{other['id']}/coupons", headers=bearer)).status_code == 403

        # A newcomer signs up in the app with their code, and is a member with consents given there.
        phone = "13700002468"
        r = await p.gateway.post("/identity/v1/members/code", json={"phone": phone})
        assert r.status_code == 202, r.text
        signup = {**member_body(phone=phone, consents={"sms": True}), "code": await code_from_outbox(p, phone)}
        del signup["channel"]
        r = await p.gateway.post("/identity/v1/members/register", json=signup)
        assert r.status_code == 200, r.text
        newcomer = r.json()["member_id"]
        profile = (await p.members.get(f"/v1/members/{newcomer}", headers=p.env.auth(Role.ADMIN))).json()
        assert profile["consents"]["marketing_sms"]["channel"] == "app"

        # Erased: the gateway hears of it from members over the broker and refuses the token.
        r = await p.members.post(f"/v1/members/{me['id']}/erasure", headers=p.env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text

        async def refused() -> bool:
            r = await p.gateway.get(f"/api/points/v1/accounts/{me['id']}", headers=bearer)
            return r.status_code == 401

        await eventually(refused, timeout=60, what="the gateway refuses the erased member's token")
        r = await p.gateway.post("/identity/v1/members/code", json={"phone": me["phone"]})
        assert r.status_code == 202  # the same answer for everyone, and the number is nobody's now
        r = await p.gateway.post("/identity/v1/members/token",
                                 json={"phone": me["phone"], "code": await code_from_outbox(p, me["phone"])})
        assert r.status_code == 404
