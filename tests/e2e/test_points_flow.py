"""The points card end to end: a POS sale and its returns through the gateway (at the store of the
sale and at another store of the chain) become points, which the service desk redeems for a gift
written in the gift register."""

from datetime import UTC, datetime

import pytest

from shared.auth import Role
from tests.support.factories import line, member_body, refund_body, sale_body
from tests.support.platform import Platform, TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


async def _account(p: Platform, member_id: str) -> dict | None:
    r = await p.gateway.get(f"/api/points/v1/accounts/{member_id}", headers=p.env.auth(Role.SERVICE_DESK))
    return r.json() if r.status_code == 200 else None


async def _balance_becomes(p: Platform, member_id: str, expected: int) -> dict:
    async def probe() -> dict | None:
        account = await _account(p, member_id)
        return account if account and account["balance"] == expected else None

    return await eventually(probe, timeout=40, what=f"points balance {expected}")


async def test_sale_and_return_at_the_till_then_a_gift_at_the_service_desk(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        admin, pos = env.auth(Role.ADMIN), env.auth(Role.POS, store_id="S001")
        desk = env.auth(Role.SERVICE_DESK, store_id="S001")
        assert (await p.gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=admin)).status_code == 200
        r = await p.gateway.post("/api/v1/members", json=member_body(), headers=desk)
        assert r.status_code == 201, r.text
        member = r.json()
        await eventually(lambda: _account(p, member["id"]), timeout=40, what="points account opened")

        rice, kettle = line(qty="2", unit_price="6000.00"), line(sku="6902083881085", qty="1", unit_price="500.00", category="appliances")
        oil = line(sku="6901234500011", qty="1", unit_price="100.00", name="鲁花花生油")
        basket = {"store_id": "S001", "card_no": member["card_no"], "lines": [rice, kettle, oil]}
        preview = await p.gateway.post("/pos/v1/points/preview", json=basket, headers=pos)
        assert preview.status_code == 200, preview.text
        assert (preview.json()["points"], preview.json()["member_known"]) == (12_600, True)
        assert (await p.gateway.post("/pos/v1/points/preview", json={**basket, "store_id": "S002"}, headers=pos)).status_code == 403

        sale = sale_body(member={"card_no": member["card_no"]}, lines=[rice, kettle, oil], occurred_at=datetime.now(UTC).isoformat())
        assert (await p.gateway.post("/pos/v1/purchases", json=sale, headers=pos)).status_code == 202
        await _balance_becomes(p, member["id"], 12_600)

        refund = refund_body(sale, lines=[kettle], occurred_at=datetime.now(UTC).isoformat())
        for _ in range(2):  # the till retries; the return is reversed once
            assert (await p.gateway.post("/pos/v1/refunds", json=refund, headers=pos)).status_code == 202
        account = await _balance_becomes(p, member["id"], 12_100)
        reverse = account["entries"][0]
        assert (reverse["entry_type"], reverse["points"]) == ("reverse", -500)

        # The oil comes back at the chain's other store: its till, under its own store, names the sale's.
        assert (await p.gateway.put("/api/v1/stores/S002", json={"name": "城西社区店"}, headers=admin)).status_code == 200
        elsewhere = refund_body(sale, lines=[oil], store_id="S002", sale_store_id="S001", occurred_at=datetime.now(UTC).isoformat())
        for _ in range(2):
            r = await p.gateway.post("/pos/v1/refunds", json=elsewhere, headers=env.auth(Role.POS, store_id="S002"))
            assert r.status_code == 202, r.text
        account = await _balance_becomes(p, member["id"], 12_000)
        reverse = account["entries"][0]
        assert (reverse["entry_type"], reverse["points"]) == ("reverse", -100)

        stock = await p.gateway.put("/api/points/v1/gifts/cushion/stock/S001", json={"quantity": 1},
                                    headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
        assert stock.status_code == 200, stock.text
        redeem = {"member_id": member["id"], "gift_id": "cushion", "store_id": "S001"}
        keyed = {**desk, "Idempotency-Key": f"desk-{member['id']}-cushion"}
        first = await p.gateway.post("/api/points/v1/redemptions", json=redeem, headers=keyed)
        retry = await p.gateway.post("/api/points/v1/redemptions", json=redeem, headers=keyed)
        assert (first.status_code, retry.status_code) == (201, 200), first.text
        assert retry.json()["redemption_id"] == first.json()["redemption_id"]
        await _balance_becomes(p, member["id"], 2_000)
        out = await p.gateway.post("/api/points/v1/redemptions", json=redeem, headers={**desk, "Idempotency-Key": "another-attempt"})
        assert out.status_code == 409  # the last cushion is gone, and 2,000 points would not pay for it

        redemption_id = first.json()["redemption_id"]
        handed = await p.gateway.post(f"/api/points/v1/redemptions/{redemption_id}/hand-over", headers=desk)
        assert handed.status_code == 200 and handed.json()["status"] == "handed_over"
        today = datetime.now(UTC).date()
        register = await p.gateway.get(
            f"/api/points/v1/gift-register?store_id=S001&from={today.replace(day=1)}&to=2099-12-31", headers=desk
        )
        [entry] = register.json()
        assert (entry["member_id"], entry["gift_id"], entry["points"], entry["status"]) == (member["id"], "cushion", 10_000, "handed_over")
        printable = await p.gateway.get(
            f"/api/points/v1/gift-register?store_id=S001&from={today.replace(day=1)}&to=2099-12-31&format=csv", headers=desk
        )
        assert printable.headers["content-type"].startswith("text/csv") and member["id"] in printable.text
