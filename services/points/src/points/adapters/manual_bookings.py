"""What a staff member booked by hand, and the lock that keeps their daily cap under concurrency."""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.repository import LEDGER
from points.adapters.tables import StaffBookingLockRow, table_of
from points.domain.model import EntryType
from shared.db import insert_into

LOCKS = table_of(StaffBookingLockRow)
MANUAL = (EntryType.ADJUST.value, EntryType.BONUS.value)


async def lock_staff(session: AsyncSession, staff_id: str, now: datetime) -> None:
    """Holds the staff member's lock row until the transaction ends: their next booking waits, then
    counts this one. (SQLite serialises every writer anyway: BEGIN IMMEDIATE.)"""
    await session.exec(insert_into(session, LOCKS).on_conflict_do_nothing(), params=[{"staff_id": staff_id, "created_at": now}])
    await session.exec(select(LOCKS.c.staff_id).where(LOCKS.c.staff_id == staff_id).with_for_update())


async def points_booked_by(session: AsyncSession, staff_id: str, since: datetime, until: datetime) -> int:
    """Absolute points of the adjustments and bonuses the staff member booked one by one in [since, until).
    Bulk bonus entries (with a job id) are not manual entries of the day, nor is a compensation
    booked from a complaint they resolved (with the event's id): feedback caps those per complaint."""
    total = await session.exec(
        select(func.coalesce(func.sum(func.abs(LEDGER.c.points)), 0)).where(
            LEDGER.c.staff_id == staff_id, LEDGER.c.entry_type.in_(MANUAL), LEDGER.c.job_id.is_(None),
            LEDGER.c.source_event_id.is_(None),
            LEDGER.c.booked_at >= since, LEDGER.c.booked_at < until,
        )
    )
    return int(total.one())
