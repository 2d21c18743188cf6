"""The `birthday-notices` job: announces each member's birthday `birthday_notice_days` days ahead,
once per member and birthday year, so campaigns can reach them in time (a coupon valid for the
week, a greeting). The birthday itself never leaves members: the event names the member, how many
days are left and the year, not the date.

Days are the chain's local days. The job may run as often as wanted and on every replica: the
`birthday_notice` key (member, year) takes each announcement once, and its event id is derived
from the same two facts, so a rerun or a second replica announces nothing twice. It catches up:
every birthday from today to `birthday_notice_days` ahead not announced yet is announced, with
the days actually left, so a day the job did not run (a scheduler down over a weekend) costs
nobody their birthday, and a customer registered a few days before theirs is not missed.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta
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
    """Announces the birthdays that fall from `now`'s local day to `birthday_notice_days` local
    days after it and were not announced for their year yet, skipping erased members."""
    days = settings.birthday_notice_days
    today = now.astimezone(settings.zone).date()
    # (month, day) of birth -> the day in the window it is celebrated on
    celebrated = {born: day for day in (today + timedelta(days=n) for n in range(days + 1)) for born in birthdays_on(day)}
    born_on = or_(*(
        and_(extract("month", col(MemberRow.birthday)) == month, extract("day", col(MemberRow.birthday)) == dom)
        for month, dom in celebrated
    ))
    found = (await uow.session.exec(
        select(MemberRow.id, col(MemberRow.birthday)).where(col(MemberRow.erased_at).is_(None), col(MemberRow.birthday).is_not(None), born_on)
        .order_by(col(MemberRow.id))  # racing replicas take the keys in one order: no deadlock
    )).all()
    due: dict[int, list[tuple[str, date]]] = defaultdict(list)  # the birthday's year -> (member, day)
    for member_id, birthday in found:
        assert birthday is not None  # selected so
        day = celebrated[(birthday.month, birthday.day)]
        due[day.year].append((member_id, day))
    announced = 0
    for year, members in sorted(due.items()):
        day_of = dict(members)
        fresh = await _take(uow, list(day_of), year, now)
        await uow.emit_many(BIRTHDAY_UPCOMING, (
            (c.BirthdayUpcomingV1(member_id=m, days_until=(day_of[m] - today).days, occasion_year=year), m,
             derived_event_id("members", "birthday", m, year))
            for m in fresh
        ))
        announced += len(fresh)
    return {"job": JOB_NAME, "today": today.isoformat(), "birthdays_until": (today + timedelta(days=days)).isoformat(),
            "due": len(found), "announced": announced}


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
