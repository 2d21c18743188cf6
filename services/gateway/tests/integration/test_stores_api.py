"""The chain's stores at the gateway: every save is announced (`store_changed`), in the same
transaction, as the store now is; campaigns names stores in customer messages from it."""

import pytest
from sqlmodel import select

from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from shared.events.envelope import Envelope
from shared.events.registry import STORE_CHANGED
from shared.outbox import OutboxRecord
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with service(create_app(env.settings(Settings, await database_factory("gateway")))) as client:
        yield client


async def announced(client) -> list[tuple[str, dict]]:
    async with client.app.state.sessions() as session:
        rows = (await session.exec(select(OutboxRecord).order_by(OutboxRecord.id))).all()
    assert {row.event_type for row in rows} <= {STORE_CHANGED}
    return [(row.key, Envelope.model_validate_json(row.envelope).data) for row in rows]


async def test_a_store_created_renamed_and_closed_is_announced_each_time_as_it_now_is(gateway, env: TestEnv) -> None:
    admin = env.auth(Role.ADMIN)
    r = await gateway.put("/api/v1/stores/S001", json={"name": "城东店", "city": "杭州"}, headers=admin)
    assert r.status_code == 200, r.text
    r = await gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场", "city": "杭州"}, headers=admin)
    assert r.status_code == 200, r.text
    r = await gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场", "city": "杭州", "active": False}, headers=admin)
    assert r.status_code == 200, r.text
    events = await announced(gateway)
    assert [key for key, _ in events] == ["S001"] * 3
    assert [(d["store_id"], d["name"], d["city"], d["active"]) for _, d in events] == [
        ("S001", "城东店", "杭州", True), ("S001", "城东大卖场", "杭州", True), ("S001", "城东大卖场", "杭州", False)]
    assert all(d["changed_at"].endswith("Z") or "+" in d["changed_at"] for _, d in events)
    [listed] = (await gateway.get("/api/v1/stores", headers=admin)).json()
    assert (listed["name"], listed["active"]) == ("城东大卖场", False)


async def test_a_save_refused_announces_nothing(gateway, env: TestEnv) -> None:
    for blank in ("", "   ", "\u3000"):  # customers read the name in messages
        r = await gateway.put("/api/v1/stores/S001", json={"name": blank}, headers=env.auth(Role.ADMIN))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"], r.text
    r = await gateway.put("/api/v1/stores/S001", json={"name": "城东店"}, headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert r.status_code == 403
    assert await announced(gateway) == []


@pytest.mark.parametrize("sent", ["no", "off", "false", "0", "1", "t", "y", 0, 1, None])
async def test_active_is_only_json_true_or_false(gateway, env: TestEnv, sent) -> None:
    # Pydantic's lax mode read "no", "off" or 0 as false: a client's mistake closed the store.
    admin = env.auth(Role.ADMIN)
    assert (await gateway.put("/api/v1/stores/S001", json={"name": "城东店"}, headers=admin)).status_code == 200
    r = await gateway.put("/api/v1/stores/S001", json={"name": "城东店", "active": sent}, headers=admin)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "active"] and "true or false" in error["msg"], error
    [listed] = (await gateway.get("/api/v1/stores", headers=admin)).json()
    assert listed["active"] is True
    assert len(await announced(gateway)) == 1


async def test_a_till_reads_its_own_store_and_staff_read_the_chains(gateway, env: TestEnv) -> None:
    for store in ("S001", "S002", "S003"):
        assert (await gateway.put(f"/api/v1/stores/{store}", json={"name": store}, headers=env.auth(Role.ADMIN))).status_code == 200
    till = await gateway.get("/api/v1/stores", headers=env.auth(Role.POS, store_id="S002"))
    assert till.status_code == 200 and [s["store_id"] for s in till.json()] == ["S002"]
    desk = await gateway.get("/api/v1/stores", headers=env.auth(Role.SERVICE_DESK, store_id="S002"))
    assert [s["store_id"] for s in desk.json()] == ["S001", "S002", "S003"]


async def test_a_closed_store_stays_closed_when_a_later_save_leaves_active_out(gateway, env: TestEnv) -> None:
    # A rename that does not mention `active` reopened the store: its tills sold again, customers
    # picked it as their home store.
    admin = env.auth(Role.ADMIN)
    r = await gateway.put("/api/v1/stores/S004", json={"name": "城南店", "city": "杭州"}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is True, r.text  # a new store opens
    r = await gateway.put("/api/v1/stores/S004", json={"name": "城南店", "city": "杭州", "active": False}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    for body in ({"name": "城南大卖场"}, {"name": "城南大卖场", "city": "宁波"}):
        r = await gateway.put("/api/v1/stores/S004", json=body, headers=admin)
        assert r.status_code == 200 and r.json()["active"] is False, r.text
    [listed] = (await gateway.get("/api/v1/stores", headers=admin)).json()
    assert (listed["name"], listed["city"], listed["active"]) == ("城南大卖场", "宁波", False)
    # The announcements say it is closed too, or campaigns would take it for open again.
    assert [d["active"] for _, d in await announced(gateway)] == [True, False, False, False]
    # Reopening is asked for, and then it stays open when left out.
    r = await gateway.put("/api/v1/stores/S004", json={"name": "城南大卖场", "active": True}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is True, r.text
    r = await gateway.put("/api/v1/stores/S004", json={"name": "城南店"}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is True, r.text


async def test_adding_renaming_closing_and_reopening_a_store_is_audited_with_who_when_and_what(gateway, env: TestEnv) -> None:
    admin = {"Authorization": f"Bearer {env.issuer.mint('admin-li', Role.ADMIN)}"}
    saves = [{"name": "城南店", "city": "杭州"}, {"name": "城南店", "city": "杭州"},  # the second changes nothing
             {"name": "城南大卖场", "city": "杭州", "active": False}, {"name": "城南大卖场", "city": "杭州", "active": True}]
    for body in saves:
        assert (await gateway.put("/api/v1/stores/S004", json=body, headers=admin)).status_code == 200
    r = await gateway.get("/api/v1/stores/S004/audit", headers=admin)
    assert r.status_code == 200, r.text
    trail = r.json()
    assert [(e["action"], e["detail"]) for e in trail] == [
        ("created", 'name="城南店" city="杭州"'),
        ("renamed", 'name="城南店" city="杭州" -> name="城南大卖场" city="杭州"'),
        ("closed", ""), ("reopened", "")]
    assert {(e["actor"], e["actor_role"], e["store_id"]) for e in trail} == {("admin-li", "admin", "S004")}
    # A store added closed says so; the trail is the store's own.
    assert (await gateway.put("/api/v1/stores/S005", json={"name": "仓库", "active": False}, headers=admin)).status_code == 200
    other = (await gateway.get("/api/v1/stores/S005/audit", headers=admin)).json()
    assert [e["action"] for e in other] == ["created", "closed"]


async def test_only_admins_read_a_stores_audit_trail_and_an_unknown_store_is_404(gateway, env: TestEnv) -> None:
    admin = env.auth(Role.ADMIN)
    assert (await gateway.put("/api/v1/stores/S001", json={"name": "城东店"}, headers=admin)).status_code == 200
    for role in (Role.STORE_MANAGER, Role.POS, Role.OPERATOR):
        r = await gateway.get("/api/v1/stores/S001/audit", headers=env.auth(role, **({} if role is Role.OPERATOR else {"store_id": "S001"})))
        assert r.status_code == 403, (role, r.text)
    r = await gateway.get("/api/v1/stores/S999/audit", headers=admin)
    assert r.status_code == 404 and "S999" in r.text
