"""A POS sale becomes points in the customer-360 view, through the gateway and the real broker."""

from decimal import Decimal

import pytest

from shared.auth import Role
from tests.support.factories import line, member_body, sale_body
from tests.support.platform import Platform, TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


async def _open_store(p: Platform, store_id: str = "S001") -> None:
    r = await p.gateway.put(f"/api/v1/stores/{store_id}", json={"name": "城东大卖场"}, headers=p.env.auth(Role.ADMIN))
    assert r.status_code == 200, r.text


async def _register(p: Platform, **fields) -> dict:
    r = await p.gateway.post("/api/v1/members", json=member_body(**fields), headers=p.env.auth(Role.SERVICE_DESK))
    assert r.status_code == 201, r.text
    return r.json()


async def _view(p: Platform, member_id: str, role: Role = Role.SERVICE_DESK) -> dict:
    r = await p.gateway.get(f"/api/v1/customers/{member_id}/360", headers=p.env.auth(role))
    assert r.status_code == 200, r.text
    return r.json()


async def test_sale_by_card_is_credited_and_shown_in_the_360_view(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        await _open_store(p)
        member = await _register(p)
        sale = sale_body(
            member={"card_no": member["card_no"]},
            lines=[line(qty="2", unit_price="39.90"), line(sku="6902083881085", qty="1", unit_price="139.00")],
        )  # 218.80 -> 218 points
        r = await p.gateway.post("/pos/v1/purchases", json=sale, headers=env.auth(Role.POS, store_id="S001"))
        assert r.status_code == 202, r.text
        assert r.json()["duplicate"] is False

        async def credited() -> dict | None:
            view = await _view(p, member["id"])
            return view if view["points"]["balance"] == 218 else None

        view = await eventually(credited, what="points credited")
        assert Decimal(view["lifetime_spend"]) == Decimal("218.80")
        assert view["purchase_count"] == 1
        assert view["recent_purchases"][0]["pos_txn_id"] == sale["pos_txn_id"]
        assert len(view["recent_purchases"][0]["lines"]) == 2
        entry = view["points"]["entries"][0]
        assert entry["entry_type"] == "earn" and entry["points"] == 218
        assert sale["pos_txn_id"] in entry["reason"]
        assert view["unavailable"] == []
        assert view["member"]["phone"] == member["phone"]  # the service desk calls customers

        marketing = await _view(p, member["id"], Role.MARKETING)
        assert marketing["member"]["phone"] != member["phone"] and "****" in marketing["member"]["phone"]
        assert marketing["member"]["phone_masked"] is True
