"""A gift is picked up at a store: none is reserved or redeemed for pick-up at a store the gateway
has closed (`store_changed`, kept in the store directory). A coupon item is not picked up anywhere,
so it still can be; a store reopened takes reservations again; an old announcement arriving late
reopens nothing."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import STORE_CHANGED
from tests.support.factories import keyed

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)
TEMPLATE = "0b6f3c1e-8a4d-4c5e-9f21-6d7e8a9b0c1d"


def store_changed(store_id: str, *, active: bool, minutes: int = 0) -> Envelope:
    data = c.StoreChangedV1(store_id=store_id, name="城西店", city="杭州", active=active,
                            changed_at=AT + timedelta(minutes=minutes))
    return new_event(STORE_CHANGED, data, source="crm/gateway", subject=store_id, event_id=str(uuid.uuid4()))


async def reserve(pts, member_id: str, gift_id: str):
    headers = keyed(pts.env.auth(Role.MEMBER, member_id=member_id))
    return await pts.client.post(f"/v1/members/{member_id}/redemptions", json={"gift_id": gift_id}, headers=headers)


async def test_no_gift_is_reserved_for_pick_up_at_a_closed_home_store(pts, env) -> None:
    await pts.apply(pts.registered("m1", home_store_id="S002"), pts.sale("m1", "30000.00"))
    await pts.stock("cushion", "S002", 2)
    await pts.apply(store_changed("S002", active=True), store_changed("S002", active=False, minutes=5))

    catalogue = (await pts.client.get("/v1/members/m1/gifts", headers=env.auth(Role.MEMBER, member_id="m1"))).json()
    assert (catalogue["home_store_id"], catalogue["home_store_closed"]) == ("S002", True)
    r = await reserve(pts, "m1", "cushion")
    assert r.status_code == 409, r.text
    assert "store S002 is closed" in r.json()["detail"]
    balance = await pts.balance("m1")
    stock = (await pts.client.get("/v1/gifts/cushion/stock", headers=env.auth(Role.ADMIN))).json()
    assert {s["store_id"]: s["quantity"] for s in stock}["S002"] == 2  # nothing taken
    assert await pts.balance("m1") == balance

    # A coupon item has nothing to pick up: still reserved.
    pts.campaigns.templates.add(TEMPLATE)
    coupon = {"name_zh": "满100减20券", "name_en": "20 off 100 coupon", "prices": {"retail": 2_000},
              "kind": "coupon", "coupon_template_id": TEMPLATE}
    assert (await pts.client.put("/v1/gifts/coupon-20", json=coupon, headers=env.auth(Role.ADMIN))).status_code == 200
    assert (await reserve(pts, "m1", "coupon-20")).status_code == 201

    # The announcement of before the closure, replayed late, does not reopen the store.
    await pts.apply(store_changed("S002", active=True, minutes=1))
    assert (await reserve(pts, "m1", "cushion")).status_code == 409

    # Reopened: reserved again.
    await pts.apply(store_changed("S002", active=True, minutes=10))
    catalogue = (await pts.client.get("/v1/members/m1/gifts", headers=env.auth(Role.MEMBER, member_id="m1"))).json()
    assert catalogue["home_store_closed"] is False
    assert (await reserve(pts, "m1", "cushion")).status_code == 201


async def test_a_store_the_gateway_has_not_announced_is_not_taken_for_closed(pts, env) -> None:
    await pts.apply(pts.registered("m2", home_store_id="S001"), pts.sale("m2", "30000.00"))
    await pts.stock("cushion", "S001", 1)
    catalogue = (await pts.client.get("/v1/members/m2/gifts", headers=env.auth(Role.MEMBER, member_id="m2"))).json()
    assert catalogue["home_store_closed"] is False
    assert (await reserve(pts, "m2", "cushion")).status_code == 201
