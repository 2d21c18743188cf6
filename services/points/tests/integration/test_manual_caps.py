"""Store managers book manual points for their own store's customers, within a per-entry and a
per-day cap; beyond them only admins."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from points.adapters.tables import LedgerRow
from shared.auth import Role

pytestmark = pytest.mark.integration


def manager(env, subject: str = "sm-S001", store_id: str = "S001") -> dict[str, str]:
    return {"Authorization": f"Bearer {env.issuer.mint(subject, Role.STORE_MANAGER, store_id=store_id)}"}


async def book(pts, headers: dict[str, str], member_id: str, points: int, *, kind: str = "bonuses", key: str | None = None):
    return await pts.client.post(f"/v1/accounts/{member_id}/{kind}", json={"points": points, "reason": "store event"},
                                 headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex})


async def customers(pts) -> None:
    await pts.apply(pts.registered("m-s1", home_store_id="S001"), pts.registered("m-s2", home_store_id="S002"),
                    pts.sale("m-s1", "5000.00"))


async def test_a_store_manager_books_only_for_their_own_stores_customers(pts, env) -> None:
    await customers(pts)
    elsewhere = await book(pts, manager(env), "m-s2", 100)
    assert elsewhere.status_code == 403 and "their own store" in elsewhere.json()["detail"]
    assert (await book(pts, manager(env), "m-s1", 100)).status_code == 201
    assert await pts.balance("m-s2") == 0


async def test_one_entry_above_the_cap_is_refused_to_a_store_manager_and_booked_by_an_admin(pts, env) -> None:
    await customers(pts)
    for kind, points in (("bonuses", 2_001), ("adjustments", 2_001), ("adjustments", -2_001)):
        r = await book(pts, manager(env), "m-s1", points, kind=kind)
        assert r.status_code == 403 and "2000 points per manual entry" in r.json()["detail"], (kind, points, r.text)
    assert (await book(pts, manager(env), "m-s1", 2_000)).status_code == 201
    assert (await book(pts, env.auth(Role.ADMIN), "m-s1", 1_000_000)).status_code == 201
    assert await pts.balance("m-s1") == 5_000 + 2_000 + 1_000_000


async def test_a_store_managers_day_is_capped_by_what_they_booked_that_day(pts, env) -> None:
    await customers(pts)
    first = await book(pts, manager(env), "m-s1", 2_000, key="sm-first-booking")
    for points in (2_000, 2_000, -2_000, 2_000):  # taking points away counts too: 10,000 in all
        r = await book(pts, manager(env), "m-s1", points, kind="adjustments" if points < 0 else "bonuses")
        assert r.status_code == 201, r.text
    over = await book(pts, manager(env), "m-s1", 1)
    assert over.status_code == 403 and "daily cap of 10000 points" in over.json()["detail"]
    retry = await book(pts, manager(env), "m-s1", 2_000, key="sm-first-booking")  # a retry is not a new booking
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    assert (await book(pts, manager(env, subject="sm-2-S001"), "m-s1", 2_000)).status_code == 201  # the cap is per person
    assert (await book(pts, env.auth(Role.ADMIN), "m-s1", 50_000)).status_code == 201
    async with pts.app.state.sessions() as session, session.begin():  # the bookings move to yesterday
        await session.exec(update(LedgerRow).where(LedgerRow.staff_id == "sm-S001")
                           .values(booked_at=datetime.now(UTC) - timedelta(days=1)))
    assert (await book(pts, manager(env), "m-s1", 2_000)).status_code == 201


async def test_parallel_bookings_by_one_store_manager_cannot_both_pass_the_daily_cap(pts, env) -> None:
    members = [f"m-par{i}" for i in range(8)]  # eight accounts: nothing but the staff lock serialises them
    await pts.apply(*(pts.registered(m, home_store_id="S001") for m in members))
    results = await asyncio.gather(*(book(pts, manager(env), m, 2_000) for m in members))
    assert sorted(r.status_code for r in results) == [201] * 5 + [403] * 3, [r.text for r in results]
    assert sum([await pts.balance(m) for m in members]) == 10_000


async def test_the_day_of_a_booking_is_the_services_clock_not_the_machines(clocked, env) -> None:
    """Accounts and entries carry the service's time, the time the daily cap counts by: a service
    whose clock says 2026-03-02 caps the bookings of that day, and a new day (by its clock) opens."""
    pts, clock = clocked
    clock.now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 11:00 in the stores' time zone
    await customers(pts)
    for _ in range(5):
        assert (await book(pts, manager(env), "m-s1", 2_000)).status_code == 201
    assert (await book(pts, manager(env), "m-s1", 1)).status_code == 403
    account = await pts.account("m-s1")
    assert datetime.fromisoformat(account["opened_at"]) == clock.now
    assert {datetime.fromisoformat(e["booked_at"]) for e in account["entries"]} == {clock.now}
    clock.now = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)  # 00:30 on 3 March in the stores' time zone
    assert (await book(pts, manager(env), "m-s1", 2_000)).status_code == 201
    assert datetime.fromisoformat((await pts.account("m-s1"))["entries"][0]["booked_at"]) == clock.now
