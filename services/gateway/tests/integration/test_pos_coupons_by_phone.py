"""A customer without their card names their phone at the till, and their own coupons apply: the
gateway finds the member through members (the points preview's look-up, on the till's one budget
of phone look-ups) and asks campaigns, in process here, by member id. The phone reaches members'
request body and nothing else: not campaigns, a URL, a log or the bus."""

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import col, select

from campaigns.config import Settings as CampaignsSettings
from campaigns.main import create_app as campaigns_app
from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from shared.events.envelope import Envelope
from shared.events.registry import COUPON_REDEEMED, COUPON_RELEASED, COUPON_REVERSED
from shared.outbox import OutboxRecord
from tests.support.campaigns import CampaignsDriver, Clock
from tests.support.factories import line, refund_body, sale_body
from tests.support.identity import answering
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration

PHONE = "17626251654"
MEMBER = "m-phone-1"


class Recording(httpx.AsyncBaseTransport):
    """Campaigns in process, with every request the gateway sends it kept (URL and body)."""

    def __init__(self, app) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.seen: list[tuple[str, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((str(request.url), await request.aread()))
        return await self.inner.handle_async_request(request)


def members_knowing(phone: str, member_id: str):
    def members(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content) == {"phone": phone}:
            return httpx.Response(200, json={"member_id": member_id, "created": False})
        return httpx.Response(404, json={"detail": "no member has this phone"})
    return members


@pytest.fixture
async def till_and_campaigns(env: TestEnv, database_factory):
    """The gateway (store S001 open) reaching campaigns in process; campaigns knows MEMBER, who
    holds one coupon (满100减20) of a template valid these 30 days."""
    clock = Clock(datetime.now(UTC))
    async with service(campaigns_app(env.settings(CampaignsSettings, await database_factory("campaigns")), clock=clock)) as cmp_client, \
            service(create_app(env.settings(Settings, await database_factory("gateway"), till_phone_lookups=3))) as gateway:
        cmp = CampaignsDriver(cmp_client, env, clock)
        template_id = await cmp.template(validity={"days": 30})
        await cmp.issue(template_id, [MEMBER])
        r = await gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text
        recording = Recording(cmp_client.app)  # type: ignore[attr-defined]
        wired = gateway.app.state.downstream  # type: ignore[attr-defined]
        async with httpx.AsyncClient(transport=recording, base_url="http://campaigns") as to_campaigns:
            gateway.app.state.downstream = replace(wired, campaigns=to_campaigns)  # type: ignore[attr-defined]
            try:
                yield gateway, cmp, recording
            finally:
                gateway.app.state.downstream = wired  # type: ignore[attr-defined]


def basket(code: str, txn: str, **member: str) -> dict:
    body: dict = {"store_id": "S001", "pos_txn_id": txn, "lines": [line(qty="3", unit_price="39.90")], "codes": [code]}
    if member:
        body["member"] = member
    return body


async def sent_events(gateway, event_type: str) -> list[Envelope]:
    async with gateway.app.state.sessions() as session:
        rows = (await session.exec(select(OutboxRecord).where(OutboxRecord.event_type == event_type)
                                   .order_by(col(OutboxRecord.id)))).all()
    return [Envelope.model_validate_json(r.envelope) for r in rows]


async def test_a_phone_finds_the_members_own_coupon_through_validate_reserve_sale_and_return(
    till_and_campaigns, env: TestEnv, caplog,
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway, cmp, campaigns = till_and_campaigns
    code = await cmp.code_of(MEMBER)
    till = env.auth(Role.POS, store_id="S001")
    async with answering(gateway, "members", members_knowing(PHONE, MEMBER)) as to_members:
        r = await gateway.post("/pos/v1/coupons/validate", json=basket(code, "S001-T01-9", phone=PHONE), headers=till)
        assert r.status_code == 200, r.text
        assert r.json()["codes"] == [{"code": code, "ok": True, "discount": "20.00", "reason": None, "message_zh": "", "message_en": ""}]
        # Held, then the sale voided: given back.
        r = await gateway.post("/pos/v1/coupons/reserve", json=basket(code, "S001-T01-9", phone=PHONE), headers=till)
        assert r.status_code == 200 and r.json()["codes"][0]["ok"] and r.json()["reserved_until"], r.text
        assert (await cmp.wallet(MEMBER))[0]["state"] == "reserved"
        r = await gateway.post("/pos/v1/coupons/release", json={"store_id": "S001", "pos_txn_id": "S001-T01-9"}, headers=till)
        assert (r.status_code, r.json()) == (200, {"released": 1}), r.text
        assert (await cmp.wallet(MEMBER))[0]["state"] == "issued"
        # Held for the sale that carries it, paid by phone.
        r = await gateway.post("/pos/v1/coupons/reserve", json=basket(code, "S001-T01-10", phone=PHONE), headers=till)
        assert r.status_code == 200 and r.json()["codes"][0]["ok"], r.text
    assert len(to_members) == 3
    assert all(json.loads(asked.content) == {"phone": PHONE} and PHONE not in str(asked.url) for asked in to_members)
    # Campaigns heard the member, never the phone; the release went on as the till sent it.
    validated, *_ = (json.loads(body) for url, body in campaigns.seen if url.endswith("/v1/coupons/validate"))
    assert validated["member"] == {"member_id": MEMBER}
    assert all(PHONE not in url and PHONE.encode() not in body for url, body in campaigns.seen)

    sale = sale_body(member={"phone": PHONE}, lines=basket(code, "x")["lines"], pos_txn_id="S001-T01-10",
                     occurred_at=cmp.clock().isoformat(), coupons=[code], discounts=[{"code": code, "amount": "20.00"}])
    r = await gateway.post("/pos/v1/purchases", json=sale, headers=till)
    assert r.status_code == 202, r.text
    [sold] = await sent_events(gateway, "crm.pos.purchase_made.v1")
    assert sold.data["customer"]["card_no"] is None and len(sold.data["customer"]["phone_hmac"]) == 64
    assert PHONE not in sold.model_dump_json()
    await cmp.apply(sold)  # campaigns reads the sale: the code held for it is redeemed
    (coupon,) = await cmp.wallet(MEMBER)
    assert coupon["state"] == "redeemed" and coupon["discount"] == "20.00"
    (redeemed,) = await cmp.outbox(COUPON_REDEEMED)
    assert (redeemed["member_id"], redeemed["reserved"], redeemed["pos_txn_id"]) == (MEMBER, True, "S001-T01-10")
    assert [e["pos_txn_id"] for e in await cmp.outbox(COUPON_RELEASED)] == ["S001-T01-9"]

    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, occurred_at=cmp.clock().isoformat()), headers=till)
    assert r.status_code == 202, r.text
    [returned] = await sent_events(gateway, "crm.pos.purchase_refunded.v1")
    await cmp.apply(returned)
    (reversed_,) = await cmp.outbox(COUPON_REVERSED)
    assert (reversed_["coupon_id"], reversed_["pos_txn_id"], reversed_["discount"]) == (coupon["coupon_id"], "S001-T01-10", "20.00")
    assert PHONE not in caplog.text


async def test_a_phone_that_is_no_members_is_a_customer_without_a_card(till_and_campaigns, env: TestEnv) -> None:
    gateway, cmp, campaigns = till_and_campaigns
    code = await cmp.code_of(MEMBER)
    till = env.auth(Role.POS, store_id="S001")
    async with answering(gateway, "members", members_knowing(PHONE, MEMBER)):
        for operation in ("validate", "reserve"):
            r = await gateway.post(f"/pos/v1/coupons/{operation}", json=basket(code, "S001-T01-11", phone="13912345678"), headers=till)
            assert r.status_code == 200, r.text
            [answer] = r.json()["codes"]
            assert (answer["ok"], answer["reason"]) == (False, "member_required"), answer
    assert (await cmp.wallet(MEMBER))[0]["state"] == "issued"
    for _, body in campaigns.seen:
        assert "member" not in json.loads(body) and b"13912345678" not in body


async def test_a_bad_customer_is_422_naming_it_and_asks_nobody(till_and_campaigns, env: TestEnv) -> None:
    gateway, cmp, campaigns = till_and_campaigns
    code = await cmp.code_of(MEMBER)
    till = env.auth(Role.POS, store_id="S001")
    cases = [
        ({"card_no": "8800000012345", "phone": PHONE}, ["body", "member"], "give exactly one of card_no or phone"),
        ({"phone": "12345"}, ["body", "member", "phone"], ""),
        # A till names the card or the phone; member ids are the gateway's to send.
        ({"member_id": MEMBER}, ["body", "member", "member_id"], "Extra inputs are not permitted"),
        ({}, ["body", "member"], "give exactly one of card_no or phone"),
    ]
    async with answering(gateway, "members", members_knowing(PHONE, MEMBER)) as to_members:
        for member, loc, says in cases:
            for operation in ("validate", "reserve"):
                r = await gateway.post(f"/pos/v1/coupons/{operation}", json={**basket(code, "S001-T01-12"), "member": member},
                                       headers=till)
                assert r.status_code == 422, (member, r.text)
                assert any(e["loc"] == loc and says in e["msg"] for e in r.json()["detail"]), (member, r.json())
    assert to_members == [] and campaigns.seen == []


async def test_coupon_look_ups_count_against_the_tills_budget_of_phones(till_and_campaigns, env: TestEnv) -> None:
    gateway, cmp, campaigns = till_and_campaigns
    code = await cmp.code_of(MEMBER)
    till = env.auth(Role.POS, store_id="S001")
    async with answering(gateway, "members", members_knowing(PHONE, MEMBER)) as to_members, \
            answering(gateway, "points", lambda _: httpx.Response(200, json={"points": 99})):
        r = await gateway.post("/pos/v1/points/preview", json={"store_id": "S001", "phone": PHONE, "lines": [line()]}, headers=till)
        assert r.status_code == 200, r.text
        for operation in ("validate", "reserve"):
            r = await gateway.post(f"/pos/v1/coupons/{operation}", json=basket(code, "S001-T01-13", phone=PHONE), headers=till)
            assert r.status_code == 200, r.text
        # The budget (3) spent, by the preview and the coupons alike: the fourth phone is refused unasked.
        r = await gateway.post("/pos/v1/coupons/validate", json=basket(code, "S001-T01-13", phone=PHONE), headers=till)
        assert r.status_code == 429 and "at most 3 customers named by phone" in r.json()["detail"], r.text
        assert int(r.headers["retry-after"]) > 0
        # The card still works: it needs no look-up.
        card = cmp.cards[MEMBER]
        r = await gateway.post("/pos/v1/coupons/validate", json=basket(code, "S001-T01-13", card_no=card), headers=till)
        assert r.status_code == 200 and r.json()["codes"][0]["ok"], r.text
    assert len(to_members) == 3
    assert len([url for url, _ in campaigns.seen if url.endswith("/v1/coupons/validate")]) == 2
