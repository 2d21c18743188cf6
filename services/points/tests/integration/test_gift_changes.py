"""The catalogue's audit trail: who changed a gift's prices or a store's stock count, when, from what to what."""

from datetime import datetime

import pytest

from shared.auth import Role

pytestmark = pytest.mark.integration


async def test_a_price_change_and_a_stock_count_say_who_made_them_when_and_what_they_replaced(pts, env) -> None:
    admin = env.auth(Role.ADMIN)
    body = {"name_zh": "靠枕", "name_en": "Cushion", "prices": {"retail": 9_000, "partner": 7_000}}
    assert (await pts.client.put("/v1/gifts/cushion", json=body, headers=admin)).status_code == 200
    assert (await pts.client.put("/v1/gifts/cushion", json=body, headers=admin)).status_code == 200  # the same again: no change
    await pts.stock("cushion", "S001", 5)
    await pts.stock("cushion", "S001", 3)
    await pts.stock("cushion", "S002", 4)  # another store's count: not S001's staff's to read
    r = await pts.client.get("/v1/gifts/cushion/changes", headers=env.auth(Role.SERVICE_DESK, store_id="S001"))
    assert r.status_code == 200, r.text
    changes = r.json()
    assert [(c["change"], c["store_id"], c["staff_id"]) for c in changes] == [
        ("gift", None, "test-admin"), ("stock", "S001", "test-store_manager"), ("stock", "S001", "test-store_manager")]
    price = changes[0]
    assert (price["before"]["prices"], price["after"]["prices"]) == ({"retail": 10_000, "partner": 8_000},
                                                                     {"retail": 9_000, "partner": 7_000})
    assert (changes[1]["before"], changes[1]["after"]) == (None, {"counted": 5, "quantity": 5, "reserved": 0})
    assert (changes[2]["before"], changes[2]["after"]) == ({"quantity": 5, "reserved": 0}, {"counted": 3, "quantity": 3, "reserved": 0})
    assert all(datetime.fromisoformat(c["at"]).utcoffset() is not None for c in changes)
    assert (await pts.client.get("/v1/gifts/no-such-gift/changes", headers=admin)).status_code == 404
    assert (await pts.client.get("/v1/gifts/cushion/changes", headers=env.auth(Role.MEMBER, member_id="m1"))).status_code == 403
    everyone = (await pts.client.get("/v1/gifts/cushion/changes", headers=admin)).json()
    assert [(c["change"], c["store_id"]) for c in everyone] == [("gift", None), ("stock", "S001"), ("stock", "S001"), ("stock", "S002")]
