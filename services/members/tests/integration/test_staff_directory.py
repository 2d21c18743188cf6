"""Staff directory, community coverage and who gets which VIP customer."""

import asyncio
import json

import pytest
from sqlmodel import select

from members.adapters.tables import MemberRow
from members.adapters.tables.staff import CoverageRow
from shared.auth import Role
from shared.events import contracts as c
from tests.support.factories import spend_line, staff_body
from tests.support.members import deliver_sale, outbox, register

pytestmark = pytest.mark.integration


def admin(env) -> dict[str, str]:
    return env.auth(Role.ADMIN)


def store_manager(env, store: str = "S001") -> dict[str, str]:
    return env.auth(Role.STORE_MANAGER, store_id=store)


async def manager_of(members, member_id: str) -> str | None:
    async with members.app.state.sessions() as s:
        return (await s.exec(select(MemberRow.manager_id).where(MemberRow.id == member_id))).one()


async def add_staff(members, env, headers=None, **fields) -> dict:
    r = await members.post("/v1/staff", json=staff_body(**fields), headers=headers or admin(env))
    assert r.status_code == 201, r.text
    return r.json()


async def cover(members, env, staff_id: str, community_id: str) -> dict:
    r = await members.put(f"/v1/staff/{staff_id}/communities/{community_id}", headers=admin(env))
    assert r.status_code == 200, r.text
    return r.json()


async def vip(members, env, **fields) -> dict:
    m = await register(members, env, **fields)
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("5000.00")])
    return m


async def assignments(members) -> list[c.AccountManagerAssignedV1]:
    rows = sorted(await outbox(members, "crm.members.account_manager_assigned.v1"), key=lambda r: r.id)
    return [c.AccountManagerAssignedV1.model_validate(json.loads(r.envelope)["data"]) for r in rows]


async def test_admins_and_store_managers_keep_the_directory_of_their_stores(members, env) -> None:
    created = await add_staff(members, env, store_manager(env), id="am-li", name="李敏", store_id=None)
    assert created["store_id"] == "S001" and created["active"] and created["communities"] == []
    other_store = await members.post("/v1/staff", json=staff_body(store_id="S002"), headers=store_manager(env))
    assert other_store.status_code == 403
    boss = await members.post("/v1/staff", json=staff_body(role="store_manager"), headers=store_manager(env))
    assert boss.status_code == 403 and "role" in boss.json()["detail"]
    again = await members.post("/v1/staff", json=staff_body(id="am-li"), headers=admin(env))
    assert again.status_code == 409 and "am-li" in again.json()["detail"]
    as_manager = await members.post("/v1/staff", json=staff_body(), headers=env.auth(Role.ACCOUNT_MANAGER, store_id="S001"))
    assert as_manager.status_code == 403
    await add_staff(members, env, store_id="S002")
    other = await members.get("/v1/staff", params={"store_id": "S002"}, headers=store_manager(env))
    assert other.status_code == 403 and "store_id" in other.json()["detail"]
    listed = (await members.get("/v1/staff", headers=store_manager(env))).json()
    assert {s["store_id"] for s in listed} == {"S001"}  # a store manager's list is their own store's
    assert len((await members.get("/v1/staff", headers=admin(env))).json()) == 2


TOO_LONG_PHONE = "+38153235407684-566--"  # the pattern's shape, one character past its column


@pytest.mark.parametrize(
    ("field", "value"),
    [("work_phone", "call me"), ("work_phone", TOO_LONG_PHONE), ("name", "  "), ("role", "marketing"), ("id", ""),
     # Ids no path can address again: read, renamed or deactivated, they would all be 404.
     ("id", "am/1"), ("id", ".."), ("id", "."), ("id", "am?1"), ("id", "am#1"), ("id", "am 1"), ("id", "x" * 65)],
)
async def test_bad_staff_entries_are_422_naming_the_field(members, env, field, value) -> None:
    r = await members.post("/v1/staff", json=staff_body(**{field: value}), headers=admin(env))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", field]


async def test_a_work_phone_changed_to_one_past_its_column_is_422(members, env) -> None:
    manager = await add_staff(members, env)
    r = await members.patch(f"/v1/staff/{manager['id']}", json={"work_phone": TOO_LONG_PHONE}, headers=admin(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "work_phone"]


async def test_coverage_needs_a_known_community_and_an_account_manager(members, env) -> None:
    m = await register(members, env)
    desk = await add_staff(members, env, role="service_desk")
    r = await members.put(f"/v1/staff/{desk['id']}/communities/{m['community_id']}", headers=admin(env))
    assert r.status_code == 409 and "account managers" in r.json()["detail"]
    am = await add_staff(members, env)
    r = await members.put(f"/v1/staff/{am['id']}/communities/no-such-community", headers=admin(env))
    assert r.status_code == 404 and "community_id" in r.json()["detail"]
    await cover(members, env, am["id"], m["community_id"])
    await cover(members, env, am["id"], m["community_id"])  # idempotent
    assert (await members.get(f"/v1/staff/{am['id']}", headers=admin(env))).json()["communities"] == [m["community_id"]]


async def test_a_new_vip_goes_to_the_least_loaded_manager_of_the_community(members, env) -> None:
    first = await register(members, env, community="金色家园")
    busy = await add_staff(members, env, id="am-b")
    free = await add_staff(members, env, id="am-c")
    await cover(members, env, busy["id"], first["community_id"])
    one = await vip(members, env, community="金色家园")
    assert await manager_of(members, one["id"]) == "am-b"  # the only one covering it then
    await cover(members, env, free["id"], first["community_id"])
    two = await vip(members, env, community="金色家园")
    three = await vip(members, env, community="金色家园")
    # am-c had none: it gets the next; then both have one and the tie goes to the smaller id.
    assert [await manager_of(members, m["id"]) for m in (two, three)] == ["am-c", "am-b"]


async def test_deactivating_a_manager_hands_their_customers_to_the_others(members, env) -> None:
    m1 = await register(members, env, community="湖滨花园")
    leaving = await add_staff(members, env, id="am-a")
    await cover(members, env, leaving["id"], m1["community_id"])
    customers = [await vip(members, env, community="湖滨花园") for _ in range(2)]
    staying = await add_staff(members, env, id="am-z")
    await cover(members, env, staying["id"], m1["community_id"])
    # "no" is no JSON false: guessing it would hand the manager's customers away.
    r = await members.patch(f"/v1/staff/{leaving['id']}", json={"active": "no"}, headers=store_manager(env))
    assert r.status_code == 422 and "active" in r.text
    r = await members.patch(f"/v1/staff/{leaving['id']}", json={"active": False}, headers=store_manager(env))
    assert r.status_code == 200 and (r.json()["reassigned"], r.json()["unassigned"]) == (2, 0)
    assert [await manager_of(members, m["id"]) for m in customers] == ["am-z", "am-z"]
    moved = [e for e in await assignments(members) if e.reason == "manager_left"]
    assert {(e.previous_manager_id, e.manager_id) for e in moved} == {("am-a", "am-z")}


async def test_the_last_manager_leaving_leaves_customers_waiting_until_someone_comes_back(members, env) -> None:
    lone = await add_staff(members, env)
    m = await register(members, env, community="孤山小区")
    await cover(members, env, lone["id"], m["community_id"])
    customer = await vip(members, env, community="孤山小区")
    r = await members.patch(f"/v1/staff/{lone['id']}", json={"active": False}, headers=admin(env))
    assert (r.json()["reassigned"], r.json()["unassigned"]) == (0, 1)
    assert await manager_of(members, customer["id"]) is None
    waiting = (await members.get("/v1/tracking/unassigned-vips", headers=store_manager(env))).json()
    assert [w["member_id"] for w in waiting] == [customer["id"]]
    r = await members.patch(f"/v1/staff/{lone['id']}", json={"active": True}, headers=admin(env))
    assert r.json()["assigned"] == 1
    assert await manager_of(members, customer["id"]) == lone["id"]
    # Welcomed once, at promotion: getting a manager back is no second welcome.
    assert len(await outbox(members, "crm.members.notification_requested.v1")) == 1
    assert [e.reason for e in await assignments(members)] == ["new_vip", "manager_left", "reassigned"]


async def test_removing_coverage_moves_that_communitys_customers_only(members, env) -> None:
    a = await register(members, env, community="东区")
    b = await register(members, env, community="西区")
    am, other = await add_staff(members, env, id="am-1"), await add_staff(members, env, id="am-2")
    for community in (a["community_id"], b["community_id"]):
        await cover(members, env, am["id"], community)
    await cover(members, env, other["id"], a["community_id"])
    east, west = await vip(members, env, community="东区"), await vip(members, env, community="西区")
    assert {await manager_of(members, m["id"]) for m in (east, west)} == {"am-1"}
    r = await members.delete(f"/v1/staff/{am['id']}/communities/{a['community_id']}", headers=admin(env))
    assert r.status_code == 200 and r.json()["reassigned"] == 1
    assert (await manager_of(members, east["id"]), await manager_of(members, west["id"])) == ("am-2", "am-1")
    again = await members.delete(f"/v1/staff/{am['id']}/communities/{a['community_id']}", headers=admin(env))
    assert again.status_code == 404


async def test_store_managers_reassign_customers_within_their_store(members, env) -> None:
    customer = await vip(members, env, home_store_id="S001")
    target = await add_staff(members, env, id="am-new")
    elsewhere = await add_staff(members, env, store_id="S002")
    gone = await add_staff(members, env)
    await members.patch(f"/v1/staff/{gone['id']}", json={"active": False}, headers=admin(env))
    url = f"/v1/members/{customer['id']}/account-manager"
    assert (await members.put(url, json={"manager_id": elsewhere["id"]}, headers=store_manager(env))).status_code == 403
    r = await members.put(url, json={"manager_id": gone["id"]}, headers=store_manager(env))
    assert r.status_code == 409 and "manager_id" in r.json()["detail"]
    assert (await members.put(url, json={"manager_id": "nobody"}, headers=store_manager(env))).status_code == 404
    r = await members.put(url, json={"manager_id": "am/new"}, headers=store_manager(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "manager_id"]
    assert (await members.put(url, json={"manager_id": target["id"]}, headers=store_manager(env, "S002"))).status_code == 403
    r = await members.put(url, json={"manager_id": target["id"]}, headers=store_manager(env))
    assert r.status_code == 200 and r.json()["customers"] == 1
    assert await manager_of(members, customer["id"]) == "am-new"
    # The VIP waited unassigned (nobody covers their community): their first manager, given by
    # hand, is announced as for a new VIP (the welcome SMS goes with it, test_tiers_vip.py).
    [manual] = [e for e in await assignments(members) if e.manager_id == "am-new"]
    assert (manual.reason, manual.member_id, manual.previous_manager_id) == ("new_vip", customer["id"], None)


async def test_the_same_coverage_requested_concurrently_is_added_once(members, env) -> None:
    m = await register(members, env, community="翠苑一区")
    await add_staff(members, env, id="am-race")
    answers = await asyncio.gather(*(
        members.put(f"/v1/staff/am-race/communities/{m['community_id']}", headers=admin(env)) for _ in range(6)
    ))
    assert [r.status_code for r in answers] == [200] * 6, [r.text for r in answers]
    async with members.app.state.sessions() as s:
        rows = (await s.exec(select(CoverageRow).where(CoverageRow.manager_id == "am-race"))).all()
    assert [r.community_id for r in rows] == [m["community_id"]]
