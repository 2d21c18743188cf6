"""The expiry job: oldest points first, safe to run twice, members warned ahead."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from points.adapters.repository import AccountRepository
from points.adapters.tables import ExpiryWarningRow
from points.domain.model import PointsAccount, Source
from points.jobs import expire_points
from points.service_layer import expiry
from shared.auth import Role
from shared.integers import POINTS_MAX

pytestmark = pytest.mark.integration

EARNED_2024 = datetime(2024, 5, 1, 4, tzinfo=UTC)
EARNED_2025 = datetime(2025, 5, 1, 4, tzinfo=UTC)


async def test_members_are_warned_once_before_their_points_expire(pts) -> None:
    await pts.apply(pts.sale("x1", "500.00", at=EARNED_2024), pts.sale("x1", "70.00", at=EARNED_2025))
    early = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2025, 11, 1, tzinfo=UTC))
    assert early["warnings"] == 0
    first = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2025, 12, 5, tzinfo=UTC))
    second = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2025, 12, 6, tzinfo=UTC))
    assert (first["warnings"], second["warnings"]) == (1, 0)
    [warning] = await pts.outbox("crm.points.points_expiring.v1")
    assert warning == {"member_id": "x1", "points": 500, "expires_on": "2025-12-31", "balance": 570}


async def test_expiry_takes_what_is_left_of_the_oldest_points_and_is_safe_to_run_twice(pts) -> None:
    await pts.apply(pts.sale("x2", "500.00", at=EARNED_2024), pts.sale("x2", "70.00", at=EARNED_2025))
    async with pts.app.state.sessions() as s:  # 120 points redeemed in 2025 came out of the 2024 points
        repo = AccountRepository(s, EARNED_2025)
        account = await repo.lock("x2")
        account.redeem(120, reason="gift", source=Source(ref="redemption:test"), at=EARNED_2025)
        await repo.save(account)
        await s.commit()
    new_year = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)  # 2026-01-01 00:30 in China
    result = await expire_points(pts.app.state.commands, pts.app.state.settings, new_year)
    assert (result["points_expired"], result["expiry_entries"]) == (380, 1)
    again = await expire_points(pts.app.state.commands, pts.app.state.settings, new_year)
    later = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2026, 2, 1, tzinfo=UTC))
    assert again["points_expired"] == later["points_expired"] == 0
    acc = await pts.account("x2")
    assert acc["balance"] == 70 == await pts.ledger_sum("x2")
    entry = acc["entries"][0]
    assert (entry["entry_type"], entry["points"], entry["job_id"]) == ("expire", -380, "expiry@2026-01-01")


async def test_a_negative_balance_has_nothing_to_expire(pts) -> None:
    sale = pts.sale("x3", "100.00", at=EARNED_2024)
    await pts.apply(sale, pts.ret(sale, "100.00", at=EARNED_2024))
    result = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2026, 1, 2, tzinfo=UTC))
    assert result["members_checked"] == 0 and await pts.balance("x3") == 0


async def test_admins_can_run_a_job_now_and_get_its_summary(pts, env) -> None:
    r = await pts.client.post("/v1/jobs/points-expiry/run", headers=env.auth(Role.ADMIN))
    assert r.status_code == 200 and set(r.json()) >= {"members_checked", "points_expired", "warnings"}
    assert (await pts.client.post("/v1/jobs/points-expiry/run", headers=env.auth(Role.STORE_MANAGER))).status_code == 403
    assert (await pts.client.post("/v1/jobs/nope/run", headers=env.auth(Role.ADMIN))).status_code == 404


async def test_one_member_the_job_fails_on_is_counted_and_the_others_are_still_expired(pts, monkeypatch) -> None:
    # A member the run fails on (here a database error reading their ledger) is retried on the next
    # run, and the run goes on to the others.
    read_ledger = expiry.member_entries

    async def failing_for_one(session, member_id):
        if member_id == "a-broken":
            raise RuntimeError("ledger unreadable")
        return await read_ledger(session, member_id)

    await pts.apply(pts.sale("a-broken", "700.00", at=EARNED_2024), pts.sale("z-ordinary", "500.00", at=EARNED_2024))
    monkeypatch.setattr(expiry, "member_entries", failing_for_one)
    result = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2025, 12, 5, tzinfo=UTC))
    assert (result["members_checked"], result["failed"], result["warnings"]) == (2, 1, 1)
    assert await pts.balance("a-broken") == 700
    monkeypatch.setattr(expiry, "member_entries", read_ledger)
    later = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2026, 1, 2, tzinfo=UTC))
    assert (later["failed"], later["points_expired"]) == (0, 700 + 500)
    assert await pts.balance("a-broken") == 0 == await pts.balance("z-ordinary")


async def test_more_points_expiring_on_one_date_than_an_event_may_carry_are_warned_at_the_cap_and_expire(pts) -> None:
    # Each sale earns at most POINTS_MAX, but two of them expire on the same day: 16,000,000 points.
    # The warning used to fail validation, and with it the member's whole run, every run.
    await pts.apply(pts.sale("big", "8000000.00", at=EARNED_2024), pts.sale("big", "8000000.00", at=EARNED_2024))
    result = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2025, 12, 5, tzinfo=UTC))
    assert (result["failed"], result["warnings"]) == (0, 1)
    [warning] = await pts.outbox("crm.points.points_expiring.v1")
    assert warning == {"member_id": "big", "points": POINTS_MAX, "expires_on": "2025-12-31", "balance": 16_000_000}
    async with pts.app.state.sessions() as s:  # the record keeps the whole figure
        assert (await s.exec(select(ExpiryWarningRow.points).where(ExpiryWarningRow.member_id == "big"))).one() == 16_000_000
    later = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2026, 1, 2, tzinfo=UTC))
    assert (later["failed"], later["points_expired"]) == (0, 16_000_000)
    assert await pts.balance("big") == 0 == await pts.ledger_sum("big")


async def test_points_due_again_later_the_same_day_expire_at_that_day_s_next_run(pts) -> None:
    """A gift reserved in 2025 and cancelled on 1 January, after the night's run, gives back points
    valid until 2025-12-31: the afternoon run expires them. It used to find that day's source
    (`expiry:2025-12-31@2026-01-01`) booked and leave them in the balance until the next day."""
    await pts.apply(pts.sale("x4", "1000.00", at=EARNED_2024))
    gift = Source(ref="redemption:x4-gift")

    async def book(at: datetime, entry: Callable[[PointsAccount], object]) -> None:
        async with pts.app.state.sessions() as s:
            repo = AccountRepository(s, at)
            account = await repo.lock("x4")
            entry(account)
            await repo.save(account)
            await s.commit()

    await book(EARNED_2025, lambda account: account.redeem(600, reason="gift", source=gift, at=EARNED_2025))
    night = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2025, 12, 31, 16, 30, tzinfo=UTC))
    assert night["points_expired"] == 400
    cancelled_at = datetime(2026, 1, 1, 2, tzinfo=UTC)  # 10:00 in China
    await book(cancelled_at, lambda account: account.cancel_redeem(600, reason="gift not collected", source=gift, at=cancelled_at))
    afternoon = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2026, 1, 1, 6, 30, tzinfo=UTC))
    assert (afternoon["points_expired"], afternoon["expiry_entries"]) == (600, 1)
    again = await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2026, 1, 1, 12, 30, tzinfo=UTC))
    assert again["points_expired"] == 0
    assert await pts.balance("x4") == 0 == await pts.ledger_sum("x4")
