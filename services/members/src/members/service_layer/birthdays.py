"""The `birthday-notices` job: announces each member's birthday `birthday_notice_days` days ahead,
once per member and birthday year, so campaigns can reach them in time (a coupon valid for the
week, a greeting). The birthday itself never leaves members: the event names the member, how many
days are left and the year, not the date.

Days are the chain's local days. The job may run as often as wanted and on every replica: the
`birthday_notice` key (member, year) takes each announcement once, and its event id is derived
from the same two facts, so a rerun or a second replica announces nothing twice. It catches up:
every birthday from today to `birthday_notice_days` ahead not announced yet is announced, with
the days actually left, so a customer registered a few days before theirs is not missed. And it
catches up behind it: a birthday from the local day of the job's previous successful run (at most
`CATCH_UP_DAYS` back) to yesterday not announced yet is announced now, with 0 days left, to a
member who had registered by the end of it. That is the customer who registers on their birthday
after the day's last hourly run, or gives their birthday at the desk then, or whose day fell while
the job failed or its service was down: each was missed when a run looked no further back than
today.

Why the job catches up rather than registration announcing: the job is the one place a birthday
is announced (the key, the leap-day rule, the chain's calendar), and a birthday becomes known in
several ways (a registration at the desk or in the app, a profile change) that would each need
the hook; a run that failed needs the catch-up anyway. It costs no lateness that matters: the
first run of the next day comes within the hour after midnight, and campaigns hold a message
requested in the evening's quiet hours (from 21:00 by default) until the morning either way.
Consent is campaigns' to check when the event arrives: members announces the registration first,
on the same topic and key, so the consent given at registration is known by then.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, extract, or_
from sqlmodel import col, select

from members.adapters.tables.core import BirthdayNoticeRow, MemberRow
from members.config import Settings
from members.domain.birthdays import birthdays_on
from shared import job_runs
from shared.commands import Commands, derived_event_id
from shared.db import insert_into
from shared.events import contracts as c
from shared.events.registry import BIRTHDAY_UPCOMING
from shared.unit_of_work import UnitOfWork

JOB_NAME = "birthday-notices"
NOTICES = BirthdayNoticeRow.__table__  # type: ignore[attr-defined]
CHUNK = 500  # rows per multi-row INSERT (SQLite's bound-parameter limit)
# How many local days before today a run catches up at most, however long ago the previous run: a
# greeting later than a week is no longer one, and the window must stay shorter than a year for a
# (month, day) of birth to name one day in it.
CATCH_UP_DAYS = 7


async def run(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    async with commands() as uow:
        previous = await job_runs.last_succeeded(uow.session, JOB_NAME, now)
        return await announce(uow, settings, now, previous)


async def announce(uow: UnitOfWork, settings: Settings, now: datetime, previous: datetime | None = None) -> dict[str, Any]:
    """Announces the birthdays that fall from the local day of `previous` (the job's previous
    successful run; today without one, and at most `CATCH_UP_DAYS` back) to `birthday_notice_days`
    local days after `now`'s and were not announced for their year yet, skipping erased members,
    those who registered after `now` and, for a day already past, those who registered after it."""
    days = settings.birthday_notice_days
    today = now.astimezone(settings.zone).date()
    since = today
    if previous is not None:
        since = max(min(previous.astimezone(settings.zone).date(), today), today - timedelta(days=CATCH_UP_DAYS))
    # (month, day) of birth -> the day in the window it is celebrated on
    window = (since + timedelta(days=n) for n in range((today - since).days + days + 1))
    celebrated = {born: day for day in window for born in birthdays_on(day)}
    born_on = or_(*(
        and_(extract("month", col(MemberRow.birthday)) == month, extract("day", col(MemberRow.birthday)) == dom)
        for month, dom in celebrated
    ))
    found = (await uow.session.exec(
        select(MemberRow.id, col(MemberRow.birthday), col(MemberRow.created_at))
        .where(col(MemberRow.erased_at).is_(None), col(MemberRow.birthday).is_not(None), born_on)
        .order_by(col(MemberRow.id))  # racing replicas take the keys in one order: no deadlock
    )).all()
    due: dict[int, list[tuple[str, date]]] = defaultdict(list)  # the birthday's year -> (member, day)
    for member_id, birthday, registered_at in found:
        assert birthday is not None  # selected so
        day = celebrated[(birthday.month, birthday.day)]
        if registered_at > now or (day < today and registered_at.astimezone(settings.zone).date() > day):
            # Not a member yet at the moment the job runs as of (a run for a day gone by), or a
            # birthday before they were one: not one to greet.
            continue
        due[day.year].append((member_id, day))
    announced = 0
    for year, members in sorted(due.items()):
        day_of = dict(members)
        fresh = await _take(uow, list(day_of), year, now)
        await uow.emit_many(BIRTHDAY_UPCOMING, (
            (c.BirthdayUpcomingV1(member_id=m, days_until=max((day_of[m] - today).days, 0), occasion_year=year), m,
             derived_event_id("members", "birthday", m, year))
            for m in fresh
        ))
        announced += len(fresh)
    return {"job": JOB_NAME, "today": today.isoformat(), "birthdays_from": since.isoformat(),
            "birthdays_until": (today + timedelta(days=days)).isoformat(),
            "due": sum(len(members) for members in due.values()), "announced": announced}


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
