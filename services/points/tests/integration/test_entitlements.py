"""Service entitlements from spend milestones, and their use at the service desk."""

from datetime import UTC, datetime

import pytest

from shared.auth import Role
from tests.support.factories import keyed

pytestmark = pytest.mark.integration


async def visits(pts, member_id: str, headers=None) -> dict:
    r = await pts.client.get(f"/v1/entitlements/{member_id}", headers=headers or pts.desk())
    assert r.status_code == 200, r.text
    [kind] = r.json()
    return kind


async def test_milestones_grant_one_then_two_visits_and_never_more(pts) -> None:
    await pts.apply(pts.milestone("e1", "30000.00"))
    assert (await visits(pts, "e1"))["granted"] == 1
    await pts.apply(pts.milestone("e1", "30000.00"), pts.milestone("e1", "50000.00"))  # a repeat under a new id, then 50,000
    await pts.apply(pts.milestone("e1", "50000.00"), pts.milestone("e1", "30000.00"))
    v = await visits(pts, "e1")
    assert (v["kind"], v["granted"], v["used"], v["remaining"]) == ("leftover_collection_visit", 2, 0, 2)
    granted = await pts.outbox("crm.points.entitlement_granted.v1")
    assert [(e["granted_total"], e["source_ref"]) for e in granted] == [(1, "milestone:30000.00"), (2, "milestone:50000.00")]


async def test_the_desk_books_uses_until_none_is_left_and_the_member_sees_what_is_left(pts, env) -> None:
    await pts.apply(pts.registered("e2", home_store_id="S003"), pts.milestone("e2", "50000.00"))
    path = "/v1/entitlements/e2/leftover_collection_visit/uses"
    first = await pts.client.post(path, json={"used_on": "2026-11-01", "store_id": "S003"},
                                  headers={**pts.desk("S003"), "Idempotency-Key": "visit-e2-0001"})
    assert first.status_code == 201, first.text
    retry = await pts.client.post(path, json={"used_on": "2026-11-01", "store_id": "S003"},
                                  headers={**pts.desk("S003"), "Idempotency-Key": "visit-e2-0001"})
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"], retry.text  # told apart from a new booking
    assert (await pts.client.post(path, json={"used_on": "2026-11-10", "store_id": "S003"}, headers=keyed(pts.desk("S003")))).status_code == 201
    none_left = await pts.client.post(path, json={"used_on": "2026-11-20", "store_id": "S003"}, headers=keyed(pts.desk("S003")))
    assert none_left.status_code == 409 and "no use left" in none_left.json()["detail"]
    mine = await visits(pts, "e2", env.auth(Role.MEMBER, member_id="e2"))
    assert (mine["granted"], mine["used"], mine["remaining"]) == (2, 2, 0)
    assert [(u["used_on"], u["staff_id"], u["store_id"]) for u in mine["uses"]] == [
        ("2026-11-01", "test-service_desk", "S003"), ("2026-11-10", "test-service_desk", "S003")]
    assert (await pts.client.get("/v1/entitlements/e2", headers=env.auth(Role.MEMBER, member_id="e3"))).status_code == 403


async def test_an_idempotency_key_is_its_members_and_refused_for_another_use(pts) -> None:
    """A desk's keys may repeat across customers (a form's counter): customer B's visit under the
    key of A's is booked for B, not answered with A's; the same key for another visit of A is 409."""
    for member in ("e6", "e7"):
        await pts.apply(pts.registered(member, home_store_id="S003"), pts.milestone(member, "50000.00"))
    keyed = {**pts.desk("S003"), "Idempotency-Key": "visit-form-0001"}
    body = {"used_on": "2026-11-01", "store_id": "S003"}
    a = await pts.client.post("/v1/entitlements/e6/leftover_collection_visit/uses", json=body, headers=keyed)
    b = await pts.client.post("/v1/entitlements/e7/leftover_collection_visit/uses", json=body, headers=keyed)
    assert (a.status_code, b.status_code) == (201, 201), b.text
    assert b.json()["id"] != a.json()["id"]
    assert [(await visits(pts, m))["used"] for m in ("e6", "e7")] == [1, 1]
    other = await pts.client.post("/v1/entitlements/e6/leftover_collection_visit/uses",
                                  json={**body, "used_on": "2026-11-02"}, headers=keyed)
    assert other.status_code == 409 and "visit-form-0001" in other.json()["detail"], other.text
    assert (await visits(pts, "e6"))["used"] == 1


async def test_a_member_without_a_milestone_has_nothing_to_use(pts) -> None:
    await pts.apply(pts.registered("e4", home_store_id="S001"))
    r = await pts.client.post("/v1/entitlements/e4/leftover_collection_visit/uses", json={"used_on": "2026-11-01", "store_id": "S001"},
                              headers=keyed(pts.desk()))
    assert r.status_code == 409
    assert (await pts.client.get("/v1/entitlements/e4", headers=pts.desk())).json() == []


async def test_a_use_dated_after_today_where_the_stores_are_is_422_naming_used_on(clocked) -> None:
    pts, clock = clocked
    await pts.apply(pts.registered("e5", home_store_id="S002"), pts.milestone("e5", "50000.00"))
    clock.now = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # 01:00 on the 24th in Shanghai, still the 23rd in UTC
    path = "/v1/entitlements/e5/leftover_collection_visit/uses"
    for ahead in ("2026-11-25", "2031-05-05"):
        r = await pts.client.post(path, json={"used_on": ahead, "store_id": "S002"}, headers=keyed(pts.desk("S002")))
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert error["loc"] == ["body", "used_on"] and "2026-11-24" in error["msg"]
    today = await pts.client.post(path, json={"used_on": "2026-11-24", "store_id": "S002"}, headers=keyed(pts.desk("S002")))
    assert today.status_code == 201, today.text
    assert (await visits(pts, "e5"))["remaining"] == 1


async def test_an_unknown_kind_is_422_naming_the_kind_not_none_left(pts) -> None:
    await pts.apply(pts.registered("e6", home_store_id="S001"), pts.milestone("e6", "50000.00"))
    r = await pts.client.post("/v1/entitlements/e6/bogus_kind/uses", json={"used_on": "2026-11-20", "store_id": "S001"},
                              headers=pts.desk())
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["path", "kind"]
    assert (await visits(pts, "e6"))["used"] == 0
