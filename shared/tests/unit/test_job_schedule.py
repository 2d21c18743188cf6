"""When a scheduled job first runs after a start: its interval runs on from its last scheduled run,
recorded in the database, so restarting a service does not put a daily job off by a day."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from shared import job_runs, jobs
from shared.clock import utc_now
from shared.commands import Commands
from shared.db import make_engine, make_sessionmaker
from shared.job_runs import JobRunRow
from shared.jobs import JobRunner, ScheduledJob
from shared.settings import ServiceSettings

DAY = 86_400.0


@pytest.fixture
async def commands(tmp_path: Path) -> AsyncIterator[Commands]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: JobRunRow.__table__.create(sync))  # type: ignore[attr-defined]
    yield Commands(make_sessionmaker(engine), ServiceSettings(service_name="jobs-test"))
    await engine.dispose()


async def ran_before(commands: Commands, job: str, ago: timedelta, trigger: str = "schedule") -> None:
    at = utc_now() - ago
    async with commands.sessions() as session:
        await job_runs.record(session, job_runs.JobRun(job=job, trigger=trigger, as_of=at, started_at=at, finished_at=at,
                                                       duration_s=1.0, ok=True, summary={}), "replica-a:1")
        await session.commit()


async def nothing(commands: Commands, settings: object, now: datetime) -> dict:
    return {}


async def test_a_daily_job_overdue_at_start_runs_soon_after_it(commands: Commands, monkeypatch) -> None:
    """The value analytics ran 25 hours ago, then the service restarted: its run is due, and used to
    wait another whole day (and for ever on a service restarted more often than daily)."""
    monkeypatch.setattr(jobs, "OVERDUE_FIRST_AFTER_S", 0.05, raising=False)
    await ran_before(commands, "value-analytics", timedelta(hours=25))
    ran = asyncio.Event()

    async def analytics(commands: Commands, settings: object, now: datetime) -> dict:
        ran.set()
        return {"scored": 1}

    runner = JobRunner(commands, [ScheduledJob("value-analytics", DAY, analytics)])
    task = asyncio.create_task(runner.run_forever(runner.jobs[0]))
    try:
        async with asyncio.timeout(5):
            await ran.wait()
    finally:
        runner.stopping = True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_restart_waits_out_the_rest_of_the_interval_since_the_last_scheduled_run(commands: Commands) -> None:
    await ran_before(commands, "value-analytics", timedelta(hours=23))
    await ran_before(commands, "value-analytics", timedelta(minutes=5), trigger="by hand")  # not the schedule's
    runner = JobRunner(commands, [ScheduledJob("value-analytics", DAY, nothing), ScheduledJob("points-expiry", 6 * 3600, nothing)])
    analytics, expiry = runner.jobs
    assert 3_500 < await runner.first_wait(analytics) <= 3_600  # an hour left of the day
    assert await runner.first_wait(expiry) == 6 * 3600  # never ran: one interval, as on a fresh install
