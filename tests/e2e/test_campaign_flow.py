"""A coupon campaign from marketing to the till and back, through the gateway and the real broker:
a segment of one community, a 满100减20 coupon with a control group, the till validating, reserving
and redeeming it in a sale, a return reversing it, and the results counting it."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.auth import Role
from tests.support.factories import keyed, line, member_body, refund_body, sale_body
from tests.support.platform import Platform, TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]

COMMUNITY = "湖畔居"


async def _register(p: Platform, n: int) -> list[dict]:
    members = []
    for i in range(n):
        body = member_body(community=COMMUNITY, address=f"{COMMUNITY}{i + 1}幢1单元101室")
        r = await p.gateway.post("/api/v1/members", json=body, headers=p.env.auth(Role.SERVICE_DESK, store_id="S001"))
        assert r.status_code == 201, r.text
        members.append(r.json())
    return members


async def test_a_coupon_campaign_reaches_the_till_and_its_results(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        mkt = env.auth(Role.MARKETING)
        r = await p.gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text
        members = await _register(p, 12)
        community_id = members[0]["community_id"]
        rule = {"field": "community", "op": "in", "value": [community_id]}

        async def everyone_known() -> dict | None:
            r = await p.gateway.post("/api/campaigns/v1/segments/preview", json={"rule": rule}, headers=mkt)
            assert r.status_code == 200, r.text
            return r.json() if r.json()["size"] == len(members) else None

        await eventually(everyone_known, what="campaigns learned the members from members' events")
        r = await p.gateway.post("/api/campaigns/v1/segments", json={"name": COMMUNITY, "rule": rule}, headers=mkt)
        assert r.status_code == 201, r.text
        segment_id = r.json()["id"]
        r = await p.gateway.post("/api/campaigns/v1/coupon-templates", headers=keyed(mkt), json={
            "name": "满100减20", "kind": "threshold", "threshold": "100", "amount": "20", "validity": {"days": 30},
            "returns_on_refund": True})
        assert r.status_code == 201, r.text
        r = await p.gateway.post("/api/campaigns/v1/campaigns", headers=keyed(mkt), json={
            "name": "湖畔居回馈", "kind": "one_off", "segment_id": segment_id, "coupon_template_id": r.json()["id"],
            "message": {"template": "coupon_offer"}, "control_share": "0.1"})
        assert r.status_code == 201, r.text
        campaign = r.json()
        r = await p.gateway.post(f"/api/campaigns/v1/campaigns/{campaign['id']}/launch", headers=mkt)
        assert r.status_code == 200, r.text
        launched = r.json()
        assert launched["treatment_size"] + launched["control_size"] == len(members) and launched["treatment_size"] > 0

        # A treated member finds the coupon in their wallet, with their own token only.
        wallets = {}
        for m in members:
            r = await p.gateway.get(f"/api/campaigns/v1/members/{m['id']}/coupons", headers=env.auth(Role.MEMBER, member_id=m["id"]))
            assert r.status_code == 200, r.text
            wallets[m["id"]] = r.json()
        buyer = next(m for m in members if wallets[m["id"]])
        other = next(m for m in members if m["id"] != buyer["id"])
        r = await p.gateway.get(f"/api/campaigns/v1/members/{buyer['id']}/coupons", headers=env.auth(Role.MEMBER, member_id=other["id"]))
        assert r.status_code == 403
        code = wallets[buyer["id"]][0]["code"]

        # At the till: validate, reserve, then the sale carrying the coupon and its discount.
        till = env.auth(Role.POS, store_id="S001")
        now = datetime.now(UTC)
        basket = {"store_id": "S001", "pos_txn_id": "S001-T01-CPN-1", "occurred_at": now.isoformat(),
                  "member": {"card_no": buyer["card_no"]}, "lines": [line(qty="3", unit_price="39.90")], "codes": [code.lower()]}
        r = await p.gateway.post("/pos/v1/coupons/validate", json=basket, headers=till)
        assert r.status_code == 200, r.text
        assert r.json()["codes"][0]["ok"] is True and r.json()["codes"][0]["discount"] == "20.00"
        small = {**basket, "lines": [line(qty="1", unit_price="39.90")]}
        assert (await p.gateway.post("/pos/v1/coupons/validate", json=small, headers=till)).json()["codes"][0]["reason"] == "basket_too_small"
        r = await p.gateway.post("/pos/v1/coupons/reserve", json=basket, headers=till)
        assert r.status_code == 200 and r.json()["codes"][0]["ok"], r.text
        sale = sale_body(member={"card_no": buyer["card_no"]}, lines=basket["lines"], pos_txn_id="S001-T01-CPN-1",
                         occurred_at=now.isoformat(), coupons=[code], discounts=[{"code": code, "amount": "20.00"}])
        r = await p.gateway.post("/pos/v1/purchases", json=sale, headers=till)
        assert r.status_code == 202, r.text

        async def wallet_state(state: str) -> list | None:
            r = await p.gateway.get(f"/api/campaigns/v1/members/{buyer['id']}/coupons", headers=env.auth(Role.MEMBER, member_id=buyer["id"]))
            return r.json() if r.json()[0]["state"] == state else None

        await eventually(lambda: wallet_state("redeemed"), what="the sale redeemed the coupon")

        # Points follow what was paid: 119.70 - 20.00 = 99.70 earns 99.
        async def points() -> dict | None:
            r = await p.gateway.get(f"/api/v1/customers/{buyer['id']}/360", headers=env.auth(Role.SERVICE_DESK, store_id="S001"))
            view = r.json()
            return view if view["points"]["balance"] == 99 and view["messages"] else None

        view = await eventually(points, what="points credited on the paid amount and the campaign's message recorded")
        assert view["coupons"][0]["state"] == "redeemed" and view["unavailable"] == []
        # The desk sees the campaign's message to the member, with its status.
        assert [m["campaign_id"] for m in view["messages"]] == [campaign["id"]]

        async def results(redeemed: int) -> dict | None:
            r = await p.gateway.get(f"/api/campaigns/v1/campaigns/{campaign['id']}/results", headers=mkt)
            assert r.status_code == 200, r.text
            body = r.json()
            return body if body["redeemed"] == redeemed and body["treatment"]["buyers"] == 1 else None

        body = await eventually(lambda: results(1), what="results count the redemption and the purchase")
        assert body["issued"] == launched["treatment_size"] and body["discount_cost"] == "20.00"
        assert body["treatment"]["members"] == launched["treatment_size"]

        # The whole sale comes back: the coupon is returned to the wallet, the redemption undone.
        refund = refund_body(sale, occurred_at=(now + timedelta(seconds=1)).isoformat())
        r = await p.gateway.post("/pos/v1/refunds", json=refund, headers=till)
        assert r.status_code == 202, r.text
        await eventually(lambda: wallet_state("issued"), what="the return gave the coupon back")

        async def undone() -> dict | None:
            r = await p.gateway.get(f"/api/campaigns/v1/campaigns/{campaign['id']}/results", headers=mkt)
            body = r.json()
            return body if body["redeemed"] == 0 and body["discount_cost"] == "0.00" else None

        await eventually(undone, what="results no longer count the returned redemption")
