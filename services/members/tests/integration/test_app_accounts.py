"""The gateway's member sign-in asks members, with its service token, whose a proved phone is and
registers customers signing up in the app: consents recorded with channel `app`; a phone that is a
member's already is that member, with the consents the form answers; an erased member's phone is nobody's; other roles may not ask."""

import asyncio
import json

import pytest

from shared.auth import Role
from tests.support.factories import member_body
from tests.support.members import desk, outbox, register

pytestmark = pytest.mark.integration

CONSENT_CHANGED = "crm.members.consent_changed.v1"
REGISTERED = "crm.members.member_registered.v1"


def sign_up_body(**overrides):
    body = member_body(**{"consents": {"sms": True, "service_tips_sms": False}, **overrides})
    del body["channel"]  # the app's sign-up does not choose the membership channel
    return body


async def test_a_phone_is_identified_as_its_members_and_a_strangers_is_404(members, env) -> None:
    m = await register(members, env)
    r = await members.post("/v1/app-accounts/identify", json={"phone": m["phone"]}, headers=env.auth(Role.SERVICE))
    assert r.status_code == 200, r.text
    assert r.json() == {"member_id": m["id"], "created": False}
    r = await members.post("/v1/app-accounts/identify", json={"phone": "13700000001"}, headers=env.auth(Role.SERVICE))
    assert r.status_code == 404


async def test_signing_up_in_the_app_registers_with_consents_given_in_the_app(members, env) -> None:
    body = sign_up_body()
    r = await members.post("/v1/app-accounts", json=body, headers=env.auth(Role.SERVICE))
    assert r.status_code == 201, r.text
    member_id = r.json()["member_id"]
    assert r.json()["created"] is True

    profile = (await members.get(f"/v1/members/{member_id}", headers=desk(env))).json()
    assert (profile["phone"], profile["channel"], profile["home_store_id"]) == (body["phone"], "retail", None)
    assert profile["consents"]["marketing_sms"]["channel"] == "app"
    assert profile["consents"]["service_tips_sms"] == {**profile["consents"]["service_tips_sms"], "granted": False, "channel": "app"}
    announced = [json.loads(e.envelope)["data"] for e in await outbox(members, CONSENT_CHANGED)]
    assert {(d["purpose"], d["channel"]) for d in announced} == {("marketing_sms", "app"), ("service_tips_sms", "app")}
    assert len(await outbox(members, REGISTERED)) == 1


async def test_signing_up_with_a_members_phone_is_that_member_with_the_consents_answered(members, env) -> None:
    m = await register(members, env, name="李四", consents={"sms": True, "email": True})
    body = sign_up_body(phone=m["phone"], name="张三", address="别处 1 号", consents={"sms": False, "service_tips_sms": True})
    r = await members.post("/v1/app-accounts", json=body, headers=env.auth(Role.SERVICE))
    assert r.status_code == 200, r.text
    assert r.json() == {"member_id": m["id"], "created": False}
    profile = (await members.get(f"/v1/members/{m['id']}", headers=desk(env))).json()
    # The profile stays as it was; the answers given on the form are the member's, in the app.
    assert (profile["name"], profile["address"]) == ("李四", m["address"])
    consents = {purpose: (c["granted"], c["channel"]) for purpose, c in profile["consents"].items() if c}
    assert consents == {"marketing_sms": (False, "app"), "marketing_email": (True, "service_desk"), "service_tips_sms": (True, "app")}
    assert len(await outbox(members, REGISTERED)) == 1
    changed = [json.loads(e.envelope)["data"] for e in await outbox(members, CONSENT_CHANGED)]
    # Announced after the two answers of the registration at the desk.
    assert {(d["purpose"], d["granted"], d["channel"]) for d in changed[2:]} == {
        ("marketing_sms", False, "app"), ("service_tips_sms", True, "app")} and len(changed) == 4

    # The same form again (a retry) changes and announces nothing more.
    r = await members.post("/v1/app-accounts", json=body, headers=env.auth(Role.SERVICE))
    assert r.status_code == 200, r.text
    assert len(await outbox(members, CONSENT_CHANGED)) == len(changed)


async def test_one_phone_signing_up_twice_at_once_is_one_member(members, env) -> None:
    body = sign_up_body()
    answers = await asyncio.gather(*(
        members.post("/v1/app-accounts", json=body, headers=env.auth(Role.SERVICE)) for _ in range(4)
    ))
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 201], [r.text for r in answers]
    assert len({r.json()["member_id"] for r in answers}) == 1
    assert len(await outbox(members, REGISTERED)) == 1


async def test_an_erased_members_phone_is_nobodys(members, env) -> None:
    m = await register(members, env)
    r = await members.post(f"/v1/members/{m['id']}/erasure", headers=env.auth(Role.ADMIN))
    assert r.status_code == 200, r.text
    r = await members.post("/v1/app-accounts/identify", json={"phone": m["phone"]}, headers=env.auth(Role.SERVICE))
    assert r.status_code == 404


@pytest.mark.parametrize(("change", "field"), [
    ({"phone": "1234"}, "phone"), ({"address": "  "}, "address"), ({"email": "not-an-address"}, "email"),
    ({"birthday": "2099-01-01"}, "birthday"), ({"birthday": 0}, "birthday"), ({"birthday": "1800-01-01"}, "130 years"),
    ({"consents": {"sms": "yes"}}, "consents"),
])
async def test_a_bad_sign_up_is_422_naming_the_field(members, env, change, field) -> None:
    r = await members.post("/v1/app-accounts", json=sign_up_body(**change), headers=env.auth(Role.SERVICE))
    assert r.status_code == 422, r.text
    assert field in r.text


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.ADMIN, Role.MEMBER, Role.POS])
async def test_only_platform_services_identify_phones_or_sign_customers_up(members, env, role) -> None:
    claims = {"member_id": "m-1"} if role == Role.MEMBER else {"store_id": "S001"} if role in (Role.SERVICE_DESK, Role.POS) else {}
    headers = env.auth(role, **claims)
    assert (await members.post("/v1/app-accounts/identify", json={"phone": "13700000001"}, headers=headers)).status_code == 403
    assert (await members.post("/v1/app-accounts", json=sign_up_body(), headers=headers)).status_code == 403
