"""The `birthday-notices` job: announces each member's birthday `birthday_notice_days` days ahead,
once per member and birthday year, so campaigns can reach them in time (a coupon valid for the
week, a greeting). The birthday itself never leaves members: the event names the member, how many
days are left and the year, not the date.

Days are the chain's local days. The job may run as often as wanted and on every replica: the
`birthday_notice` key (member, year) takes each announcement once, and its event id is derived
from the same two facts, so a rerun or a second replica announces nothing twice.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, extract, or_
from sqlmodel import col, select

from members.adapters.tables.core import BirthdayNoticeRow, MemberRow
from members.config import Settings
from members.domain.birthdays import birthdays_on
from shared.commands import Commands, derived_event_id
from shared.db import insert_into
from shared.events import contracts as c
from shared.events.registry import BIRTHDAY_UPCOMING
from shared.unit_of_work import UnitOfWork

JOB_NAME = "birthday-notices"
NOTICES = BirthdayNoticeRow.__table__  # type: ignore[attr-defined]
CHUNK = 500  # rows per multi-row INSERT (SQLite's bound-parameter limit)


async def run(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    async with commands() as uow:
        return await announce(uow, settings, now)


async def announce(uow: UnitOfWork, settings: Settings, now: datetime) -> dict[str, Any]:
    """Announces the birthdays that fall exactly `birthday_notice_days` local days after `now`'s
    local day, skipping erased members and those already announced for that year."""
    days = settings.birthday_notice_days
    today = now.astimezone(settings.zone).date()
    day = today + timedelta(days=days)
    born_on = or_(*(
        and_(extract("month", col(MemberRow.birthday)) == month, extract("day", col(MemberRow.birthday)) == dom)
        for month, dom in birthdays_on(day)
    ))
    due = list((await uow.session.exec(
        select(MemberRow.id).where(col(MemberRow.erased_at).is_(None), col(MemberRow.birthday).is_not(None), born_on)
        .order_by(col(MemberRow.id))  # racing replicas take the keys in one order: no deadlock
    )).all())
    fresh = await _take(uow, due, day.year, now)
    await uow.emit_many(BIRTHDAY_UPCOMING, (
        (c.BirthdayUpcomingV1(member_id=m, days_until=days, occasion_year=day.year), m,
         derived_event_id("members", "birthday", m, day.year))
        for m in fresh
    ))
    return {"job": JOB_NAME, "today": today.isoformat(), "birthday": day.isoformat(), "due": len(due),
            "announced": len(fresh)}


async def _take(uow: UnitOfWork, member_ids: list[str], year: int, now: datetime) -> list[str]:
    """Records the notices of `year` not taken yet; answers the members whose notice this
    transaction took. ON CONFLICT DO NOTHING: a replica running the job at the same moment waits
    for the other's commit (PostgreSQL) and then finds the rows taken, so only one announces."""
    taken: list[str] = []
    for start in range(0, len(member_ids), CHUNK):
        chunk = member_ids[start:start + CHUNK]
        known = set((await uow.session.exec(select(BirthdayNoticeRow.member_id).where(
            BirthdayNoticeRow.occasion_year == year, col(BirthdayNoticeRow.member_id).in_(chunk)))).all())
        rows = [{"member_id": m, "occasion_year": year, "published_at": now} for m in chunk if m not in known]
        if rows:
            result = await uow.session.exec(
                insert_into(uow.session, NOTICES).values(rows).on_conflict_do_nothing().returning(NOTICES.c.member_id))
            taken += sorted(r[0] for r in result.all())
    return taken
