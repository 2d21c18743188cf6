"""The `birthday-notices` job on SQLite and PostgreSQL: birthdays announced N local days ahead (and
those from today to then not announced yet), once per member and year (reruns and racing replicas), 29 February in common years, never
for erased members, and the chain's calendar day deciding at midnight in Shanghai; and the birthdays
since the job's previous successful run it did not see (a customer registered on their birthday
after the day's last run)."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from members.config import Settings
from members.main import create_app
from members.service_layer import birthdays
from shared import job_runs
from shared.auth import Role
from shared.commands import derived_event_id
from shared.events import contracts as c
from tests.support.factories import member_body
from tests.support.members import outbox, register
from tests.support.platform import service

pytestmark = pytest.mark.integration

UPCOMING = "crm.members.birthday_upcoming.v1"
# 2026-12-05 10:00 in Shanghai: seven days before 12 December.
MORNING = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


async def run(members, now: datetime) -> dict[str, Any]:
    return await birthdays.run(members.app.state.commands, members.app.state.settings, now)


async def customer(members, env, **fields) -> dict[str, Any]:
    """A customer since January: a member already on every day these runs are as of (the job
    greets nobody for a day before they registered, nor as of a moment before they did)."""
    r = await members.post("/v1/members", json=member_body(registered_at="2026-01-01T08:00:00+08:00", **fields),
                           headers=env.auth(Role.ADMIN))
    assert r.status_code == 201, r.text
    return r.json()


async def announced(members) -> list[tuple[c.BirthdayUpcomingV1, str]]:
    return [(c.BirthdayUpcomingV1.model_validate(json.loads(r.envelope)["data"]), r.event_id)
            for r in await outbox(members, UPCOMING)]


async def test_a_birthday_is_announced_seven_local_days_ahead_once_however_often_the_job_runs(members, env) -> None:
    due = await customer(members, env, birthday="1990-12-12")
    await customer(members, env, birthday="1990-12-13")  # eight days ahead: tomorrow's run
    await customer(members, env, birthday="1990-12-04")  # yesterday: past
    await customer(members, env)  # no birthday given
    summary = await run(members, MORNING)
    assert summary == {"job": "birthday-notices", "today": "2026-12-05", "birthdays_from": "2026-12-05",
                       "birthdays_until": "2026-12-12", "due": 1, "announced": 1}
    [(event, event_id)] = await announced(members)
    assert event == c.BirthdayUpcomingV1(member_id=due["id"], days_until=7, occasion_year=2026)
    assert event_id == derived_event_id("members", "birthday", due["id"], 2026)

    # Later the same day, and the next hourly checks: nothing twice.
    assert (await run(members, MORNING.replace(hour=9)))["announced"] == 0
    assert (await run(members, MORNING.replace(hour=15)))["announced"] == 0  # 23:00 local, same day
    assert len(await announced(members)) == 1


async def test_a_day_the_job_did_not_run_is_caught_up_with_the_days_actually_left(members, env) -> None:
    sixth_ahead = await customer(members, env, birthday="1990-12-11")  # yesterday's run would have announced it
    today = await customer(members, env, birthday="1990-12-05")  # registered on their birthday
    await customer(members, env, birthday="1990-12-13")  # eight days ahead: tomorrow's
    assert (await run(members, MORNING))["announced"] == 2
    assert sorted((e.member_id, e.days_until) for e, _ in await announced(members)) == sorted(
        [(sixth_ahead["id"], 6), (today["id"], 0)])
    assert (await run(members, MORNING.replace(hour=9)))["announced"] == 0


async def test_a_window_across_new_year_announces_each_birthday_under_its_own_year(members, env) -> None:
    december = await customer(members, env, birthday="1990-12-31")
    january = await customer(members, env, birthday="1990-01-02")
    await run(members, datetime(2026, 12, 27, 2, 0, tzinfo=UTC))
    assert sorted((e.member_id, e.occasion_year, e.days_until) for e, _ in await announced(members)) == sorted(
        [(december["id"], 2026, 4), (january["id"], 2027, 6)])


async def test_the_payload_carries_no_date(members, env) -> None:
    await customer(members, env, birthday="1990-12-12")
    await run(members, MORNING)
    [record] = await outbox(members, UPCOMING)
    assert set(json.loads(record.envelope)["data"]) == {"member_id", "days_until", "occasion_year"}


async def test_the_occasion_is_the_year_of_the_birthday_across_new_year(members, env) -> None:
    m = await customer(members, env, birthday="1988-01-03")
    assert (await run(members, datetime(2026, 12, 27, 2, 0, tzinfo=UTC)))["birthdays_until"] == "2027-01-03"
    [(event, event_id)] = await announced(members)
    assert (event.member_id, event.occasion_year) == (m["id"], 2027)
    assert event_id == derived_event_id("members", "birthday", m["id"], 2027)


async def test_the_next_year_is_announced_again(members, env) -> None:
    m = await customer(members, env, birthday="1990-12-12")
    await run(members, MORNING)
    await run(members, MORNING.replace(year=2027))
    assert [(e.member_id, e.occasion_year) for e, _ in await announced(members)] == [(m["id"], 2026), (m["id"], 2027)]


async def test_a_leap_day_birthday_falls_on_28_february_in_common_years(members, env) -> None:
    leap = await customer(members, env, birthday="2000-02-29")
    eve = await customer(members, env, birthday="1995-02-28")
    # 2027 is a common year: 28 February is both birthdays.
    await run(members, datetime(2027, 2, 21, 2, 0, tzinfo=UTC))
    assert sorted(e.member_id for e, _ in await announced(members)) == sorted([leap["id"], eve["id"]])
    # 2028 is a leap year: each on their own day.
    await run(members, datetime(2028, 2, 21, 2, 0, tzinfo=UTC))
    assert [e.member_id for e, _ in await announced(members) if e.occasion_year == 2028] == [eve["id"]]
    await run(members, datetime(2028, 2, 22, 2, 0, tzinfo=UTC))
    assert sorted(e.member_id for e, _ in await announced(members) if e.occasion_year == 2028) == sorted([leap["id"], eve["id"]])


async def test_erased_members_are_never_announced(members, env) -> None:
    kept = await customer(members, env, birthday="1990-12-12")
    gone = await customer(members, env, birthday="1990-12-12")
    r = await members.post(f"/v1/members/{gone['id']}/erasure", headers=env.auth(Role.ADMIN))
    assert r.status_code == 200, r.text
    assert (await run(members, MORNING))["announced"] == 1
    assert [e.member_id for e, _ in await announced(members)] == [kept["id"]]


async def test_the_local_day_decides_at_midnight_in_shanghai(members, env) -> None:
    twelfth = await customer(members, env, birthday="1990-12-12")
    eleventh = await customer(members, env, birthday="1990-12-11")
    # 15:59 UTC is 23:59 on 4 December in Shanghai: seven days ahead is the 11th, not yet the 12th.
    summary = await run(members, datetime(2026, 12, 4, 15, 59, tzinfo=UTC))
    assert (summary["today"], summary["birthdays_until"]) == ("2026-12-04", "2026-12-11")
    assert [e.member_id for e, _ in await announced(members)] == [eleventh["id"]]
    # One minute later it is 5 December there (still the 4th in UTC).
    summary = await run(members, datetime(2026, 12, 4, 16, 0, tzinfo=UTC))
    assert (summary["today"], summary["birthdays_until"]) == ("2026-12-05", "2026-12-12")
    assert [e.member_id for e, _ in await announced(members)] == [eleventh["id"], twelfth["id"]]


async def test_two_replicas_running_at_once_announce_once(members, env) -> None:
    ids = {(await customer(members, env, birthday="1990-12-12"))["id"] for _ in range(3)}
    summaries = await asyncio.gather(run(members, MORNING), run(members, MORNING))
    assert sorted(s["announced"] for s in summaries) == [0, 3]
    assert sorted(e.member_id for e, _ in await announced(members)) == sorted(ids)


async def test_the_notice_period_is_a_setting_and_admins_run_the_job(env, database_factory) -> None:
    settings = env.settings(Settings, await database_factory("members"), birthday_notice_days=3)
    # The service's clock at MORNING: a run by hand is for now or the past, never ahead of its clock.
    async with service(create_app(settings, clock=lambda: MORNING)) as members:
        m = await register(members, env, birthday="1990-12-08")
        as_of = {"as_of": "2026-12-05T10:00:00+08:00"}  # the moment they registered: a member then
        r = await members.post("/v1/jobs/birthday-notices/run", params=as_of,
                               headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
        assert r.status_code == 403
        r = await members.post("/v1/jobs/birthday-notices/run", params=as_of, headers=env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text
        assert r.json() == {"job": "birthday-notices", "today": "2026-12-05", "birthdays_from": "2026-12-05",
                            "birthdays_until": "2026-12-08", "due": 1, "announced": 1}
        [(event, _)] = await announced(members)
        assert (event.member_id, event.days_until) == (m["id"], 3)


def test_the_notice_period_is_bounded() -> None:
    with pytest.raises(ValueError, match="birthday_notice_days"):
        Settings(birthday_notice_days=-1)


async def test_a_run_by_hand_for_a_day_not_yet_come_is_refused_and_announces_nothing(env, database_factory) -> None:
    async with service(create_app(env.settings(Settings, await database_factory("members")), clock=lambda: MORNING)) as members:
        await register(members, env, birthday="1990-12-13")  # due tomorrow, seven days ahead of the 6th
        tomorrow = {"as_of": "2026-12-06T10:00:00+08:00"}
        r = await members.post("/v1/jobs/birthday-notices/run", params=tomorrow, headers=env.auth(Role.ADMIN))
        assert r.status_code == 422
        assert r.json()["detail"].startswith("as_of: 2026-12-06T10:00+08:00 is later than the service's clock")
        assert await announced(members) == []
        runs = (await members.get("/v1/jobs", headers=env.auth(Role.OPERATOR))).json()["items"]
        assert [job["runs"] for job in runs if job["name"] == "birthday-notices"] == [[]]


# --- catching up behind: a birthday from the previous successful run's local day to yesterday not
# announced yet (a customer registered on their birthday after the day's last hourly run)


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def local(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    """A moment in Shanghai (UTC+8), the chain's zone in the tests."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


async def scheduled_run(members) -> dict[str, Any]:
    """A run of the job as the runner makes it: at the service's clock, and recorded."""
    runner = members.app.state.jobs
    [job] = [j for j in runner.jobs if j.name == birthdays.JOB_NAME]
    return await runner.run_once(job)


async def failed_run(members, at: datetime) -> None:
    async with members.app.state.commands.sessions() as session:
        await job_runs.record(session, job_runs.JobRun(job=birthdays.JOB_NAME, trigger="schedule", as_of=at, started_at=at,
                                                       finished_at=at, duration_s=1.0, ok=False, summary={"failed": True}),
                              "replica-a:1")
        await session.commit()


async def test_a_customer_registered_on_their_birthday_after_the_days_last_run_is_announced_by_the_next(
    env, database_factory
) -> None:
    clock = Clock(local(5, 23, 10))
    async with service(create_app(env.settings(Settings, await database_factory("members")), clock=clock)) as members:
        assert (await scheduled_run(members))["announced"] == 0  # the day's last hourly run
        clock.now = local(5, 23, 40)
        late = await register(members, env, birthday="1990-12-05")
        await register(members, env, birthday="1990-12-04")  # yesterday's, before the previous run: not caught up
        clock.now = local(6, 0, 10)  # the first run of the next local day
        summary = await scheduled_run(members)
        assert [(e.member_id, e.days_until, e.occasion_year) for e, _ in await announced(members)] == [(late["id"], 0, 2026)]
        assert (summary["today"], summary["birthdays_from"], summary["announced"]) == ("2026-12-06", "2026-12-05", 1)

        clock.now = local(6, 0, 20)
        await register(members, env, birthday="1990-12-05")  # registered the day after their birthday: not greeted
        clock.now = local(6, 1, 10)
        assert (await scheduled_run(members))["announced"] == 0  # the next run: nobody twice
        assert [e.member_id for e, _ in await announced(members)] == [late["id"]]


async def test_a_birthday_on_new_years_eve_caught_up_on_new_years_day_is_of_the_old_year_once(env, database_factory) -> None:
    clock = Clock(local(31, 23, 5))
    async with service(create_app(env.settings(Settings, await database_factory("members")), clock=clock)) as members:
        await scheduled_run(members)
        clock.now = local(31, 23, 50)
        eve = await register(members, env, birthday="1985-12-31")
        clock.now = local(1, 0, 5, month=1, year=2027)
        # Two replicas running at once, and a rerun: announced once, under the birthday's year.
        summaries = await asyncio.gather(scheduled_run(members), scheduled_run(members))
        assert sorted(s["announced"] for s in summaries) == [0, 1]
        clock.now = local(1, 1, 5, month=1, year=2027)
        assert (await scheduled_run(members))["announced"] == 0
        [(event, event_id)] = await announced(members)
    assert (event.member_id, event.days_until, event.occasion_year) == (eve["id"], 0, 2026)
    assert event_id == derived_event_id("members", "birthday", eve["id"], 2026)


async def test_days_the_job_failed_are_caught_up_from_its_last_successful_run_at_most_a_week_back(
    env, database_factory
) -> None:
    clock = Clock(local(1, 10))
    async with service(create_app(env.settings(Settings, await database_factory("members")), clock=clock)) as members:
        await scheduled_run(members)  # the last run that worked
        clock.now = local(2, 12)
        missed = await register(members, env, birthday="1990-12-02")
        clock.now = local(3, 9)
        await register(members, env, birthday="1990-12-02")  # joined the day after their birthday: not greeted
        await failed_run(members, local(4, 10))  # a run that failed is no previous run
        clock.now = local(5, 10)
        summary = await scheduled_run(members)
        assert [(e.member_id, e.days_until) for e, _ in await announced(members)] == [(missed["id"], 0)]
        assert (summary["birthdays_from"], summary["announced"]) == ("2026-12-01", 1)
        # A month later the catch-up reaches a week back, no further.
        clock.now = local(5, 10, month=1, year=2027)
        assert (await scheduled_run(members))["birthdays_from"] == "2026-12-29"


async def test_a_run_as_of_a_day_gone_by_greets_nobody_who_registered_after_it(members, env) -> None:
    # An admin runs the job as of last December: a customer who registered this year was no member
    # then, and is not greeted now for a birthday eleven months ago.
    since_january = await customer(members, env, birthday="1990-12-31")
    await register(members, env, birthday="1990-12-31")  # registered today
    summary = await run(members, datetime(2025, 12, 28, 4, 0, tzinfo=UTC))
    assert (summary["due"], summary["announced"]) == (0, 0)
    # As of this December, the customer since January is greeted.
    await run(members, datetime(2026, 12, 28, 4, 0, tzinfo=UTC))
    assert since_january["id"] in {e.member_id for e, _ in await announced(members)}
