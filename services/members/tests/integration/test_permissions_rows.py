"""Row-level permissions on member data: an account manager sees their own customers, a store
manager their store's, marketing everyone but never contact details."""

import pytest

from shared.auth import Role
from tests.support.factories import member_body, spend_line, staff_body
from tests.support.members import deliver_sale, desk, register

pytestmark = pytest.mark.integration


def as_manager(env, manager_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {env.issuer.mint(manager_id, Role.ACCOUNT_MANAGER, store_id='S001')}"}


@pytest.fixture
async def customers(members, env) -> dict[str, dict]:
    """Two VIPs of two managers in store S001, and a customer of store S002."""
    admin = env.auth(Role.ADMIN)
    mine = await register(members, env, community="北园", home_store_id="S001")
    theirs = await register(members, env, community="南园", home_store_id="S001")
    other_store = await register(members, env, community="北园", home_store_id="S002")
    for manager_id, member in (("am-mine", mine), ("am-theirs", theirs)):
        assert (await members.post("/v1/staff", json=staff_body(id=manager_id), headers=admin)).status_code == 201
        r = await members.put(f"/v1/staff/{manager_id}/communities/{member['community_id']}", headers=admin)
        assert r.status_code == 200
    for member in (mine, theirs):
        await deliver_sale(members, card_no=member["card_no"], lines=[spend_line("5000.00")])
    return {"mine": mine, "theirs": theirs, "other_store": other_store}


async def test_an_account_manager_sees_only_their_own_customers(members, env, customers) -> None:
    me = as_manager(env, "am-mine")
    listed = (await members.get("/v1/members", headers=me)).json()
    assert [m["id"] for m in listed["items"]] == [customers["mine"]["id"]] and listed["total"] == 1
    by_phone = (await members.get("/v1/members", params={"phone": customers["theirs"]["phone"]}, headers=me)).json()
    assert by_phone["items"] == []
    assert (await members.get(f"/v1/members/{customers['mine']['id']}", headers=me)).status_code == 200
    assert (await members.get(f"/v1/members/{customers['mine']['id']}/purchases", headers=me)).status_code == 200
    for other in ("theirs", "other_store"):
        member_id = customers[other]["id"]
        r = await members.get(f"/v1/members/{member_id}", headers=me)
        assert r.status_code == 403 and "assigned" in r.json()["detail"]
        assert (await members.get(f"/v1/members/{member_id}/purchases", headers=me)).status_code == 403


async def test_a_store_manager_sees_only_their_stores_customers(members, env, customers) -> None:
    boss = env.auth(Role.STORE_MANAGER, store_id="S001")
    listed = (await members.get("/v1/members", headers=boss)).json()
    assert {m["id"] for m in listed["items"]} == {customers["mine"]["id"], customers["theirs"]["id"]}
    assert (await members.get(f"/v1/members/{customers['theirs']['id']}/purchases", headers=boss)).status_code == 200
    other = customers["other_store"]["id"]
    r = await members.get(f"/v1/members/{other}", headers=boss)
    assert r.status_code == 403 and "own store" in r.json()["detail"]
    assert (await members.get(f"/v1/members/{other}/purchases", headers=boss)).status_code == 403
    no_store = env.auth(Role.STORE_MANAGER)
    assert (await members.get("/v1/members", headers=no_store)).json()["items"] == []


async def test_marketing_sees_every_customer_without_contact_details(members, env, customers) -> None:
    marketing = env.auth(Role.MARKETING)
    listed = (await members.get("/v1/members", headers=marketing)).json()
    assert listed["total"] == 3
    for seen in listed["items"]:
        assert seen["phone_masked"] and "****" in seen["phone"] and "****" in seen["address"]
    one = (await members.get(f"/v1/members/{customers['mine']['id']}", headers=marketing)).json()
    assert one["phone"] != customers["mine"]["phone"] and one["address"] != customers["mine"]["address"]
    for url in ("/v1/tracking/queue?manager_id=am-mine", "/v1/tracking/reports/daily?date=2026-11-20",
                "/v1/tracking/unassigned-vips", "/v1/staff"):
        assert (await members.get(url, headers=marketing)).status_code == 403, url


async def test_a_manager_sees_a_customer_from_the_moment_they_are_assigned(members, env, customers) -> None:
    member_id = customers["theirs"]["id"]
    assert (await members.get(f"/v1/members/{member_id}", headers=as_manager(env, "am-mine"))).status_code == 403
    r = await members.put(f"/v1/members/{member_id}/account-manager", json={"manager_id": "am-mine"},
                          headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert r.status_code == 200
    assert (await members.get(f"/v1/members/{member_id}", headers=as_manager(env, "am-mine"))).status_code == 200
    assert (await members.get(f"/v1/members/{member_id}", headers=as_manager(env, "am-theirs"))).status_code == 403


async def test_a_store_manager_keeps_the_customers_they_register_or_edit_in_their_own_store(members, env) -> None:
    """A store manager reaches the customers whose home store is theirs: giving a customer another
    store, or none, would hand them to someone else and out of the manager's own reach."""
    boss = env.auth(Role.STORE_MANAGER, store_id="S001")
    r = await members.post("/v1/members", json=member_body(home_store_id="S002"), headers=boss)
    assert r.status_code == 403 and "home_store_id" in r.json()["detail"] and "not S002" in r.json()["detail"]
    m = (await members.post("/v1/members", json=member_body(), headers=boss)).json()
    assert m["home_store_id"] == "S001"
    for moved in ("S002", "S404"):
        r = await members.patch(f"/v1/members/{m['id']}", json={"home_store_id": moved}, headers=boss)
        assert r.status_code == 403, (moved, r.text)
        assert r.json()["detail"].startswith("home_store_id: this token is bound to store S001, not ")
    # No home store at all is nobody's to set: the customer would drop out of every store's reach.
    r = await members.patch(f"/v1/members/{m['id']}", json={"home_store_id": None}, headers=boss)
    assert r.status_code == 422 and "home_store_id" in r.text and "may not be null" in r.text, r.text
    kept = await members.patch(f"/v1/members/{m['id']}", json={"home_store_id": "S001", "name": "王大明"}, headers=boss)
    assert kept.status_code == 200 and (kept.json()["home_store_id"], kept.json()["name"]) == ("S001", "王大明")
    assert (await members.get(f"/v1/members/{m['id']}", headers=boss)).json()["home_store_id"] == "S001"
    # Admins and desks are not bounded by the home store (a desk serves customers of every store).
    for other in (env.auth(Role.ADMIN), desk(env)):
        r = await members.patch(f"/v1/members/{m['id']}", json={"home_store_id": "S002"}, headers=other)
        assert r.status_code == 200 and r.json()["home_store_id"] == "S002"
