"""Scheduled jobs inside a service process (expiry, escalation, analytics, reviews).

Every job must be safe to run twice and on several replicas at once: it derives what to do from
the database and records its effects idempotently (unique keys, derived event ids), so no
distributed lock or external scheduler is needed.

A job is `async def run(commands, settings, now) -> dict` (the summary of the run), declared in
the service's `jobs.py` and listed in `ServiceSpec.jobs`. It opens its transactions with
`commands()` (which wakes the relay when they emitted) and takes the time as an argument, so tests
drive it with any clock; it never sees the FastAPI app. Staff can also trigger a job through the
shared `POST /v1/jobs/{name}/run` route (`shared.jobs_api`). Every run, scheduled or by hand, is
recorded in the service's own database (`shared.job_runs`), where `GET /v1/jobs` reads it.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared import job_runs
from shared.clock import Clock, utc_now
from shared.commands import Commands

log = logging.getLogger(__name__)

JobFn = Callable[[Commands, Any, datetime], Awaitable[dict[str, Any]]]
# Runs of each job `GET /v1/jobs` lists (the operators' console): the database keeps more
# (`job_runs.KEPT_IN_DATABASE`), of every replica.
KEPT_RUNS = 10
# The wait after start before a job whose interval has passed since its last scheduled run runs.
OVERDUE_FIRST_AFTER_S = 60.0


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    every_s: float
    run: JobFn
    # The wait before the first scheduled run after start; None counts the interval from the job's
    # last scheduled run, or its first start if it never ran (see first_wait).
    first_after_s: float | None = None
    # A job that reads how the platform is now (the event flow's sample) is run for now only: for a
    # past moment it would record today's reading under that moment (`jobs_api.run_job`).
    now_only: bool = False


@dataclass
class JobRunner:
    commands: Commands
    jobs: list[ScheduledJob]
    clock: Clock = utc_now
    last_results: dict[str, dict[str, Any]] = field(default_factory=dict)
    replica: str = field(default_factory=job_runs.this_replica)
    stopping: bool = False

    async def run_forever(self, job: ScheduledJob) -> None:
        wait = await self.first_wait(job)
        while not self.stopping:
            await asyncio.sleep(wait)
            if self.stopping:
                return
            await self.run_once(job)
            wait = job.every_s

    async def first_wait(self, job: ScheduledJob) -> float:
        """Seconds to the first scheduled run after start. A job cheap enough to run at once (the
        console's sampling) says so with `first_after_s`. Otherwise the interval runs on from the
        job's latest scheduled run of any replica, as recorded in the database: a restarting
        replica does not stampede the database, and a restart does not put the next run off by a
        whole interval, so a daily job on a service restarted every few hours still runs daily. A
        job that never ran on the schedule counts from its anchor, the first start of any replica
        with it (`job_runs.anchor`), for the same reason: counted from each start, a daily job on a
        service deployed every few hours would never run. A job overdue runs
        `OVERDUE_FIRST_AFTER_S` after start; on its very first start a job waits one interval."""
        if job.first_after_s is not None:
            return job.first_after_s
        now = utc_now()
        try:
            async with self.commands.sessions() as session:
                since = await job_runs.last_scheduled(session, job.name)
                if since is None:
                    since = await job_runs.anchor(session, job.name, now, self.replica)
                    await session.commit()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database is not there yet: as if the job had just run
            log.exception("could not read the last run of job %s", job.name)
            return job.every_s
        left = job.every_s - (now - since).total_seconds()
        return min(job.every_s, max(left, OVERDUE_FIRST_AFTER_S))

    async def run_once(self, job: ScheduledJob, now: datetime | None = None, trigger: str = "schedule") -> dict[str, Any]:
        as_of = now or self.clock()
        started_at = utc_now()
        began = asyncio.get_running_loop().time()
        error: str | None = None
        try:
            result = await job.run(self.commands, self.commands.settings, as_of)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed run is logged and retried at the next interval
            log.exception("job %s failed", job.name)
            result, error = {"failed": True}, job_runs.error_text(exc)
        self.last_results[job.name] = {"started_at": as_of.isoformat(), **result}
        run = job_runs.JobRun(
            job=job.name, trigger=trigger, as_of=as_of, started_at=started_at, finished_at=utc_now(),
            duration_s=asyncio.get_running_loop().time() - began, ok=error is None, summary=result, error=error,
        )
        await self._keep(run)
        # A run that found nothing to do is DEBUG: the message dispatch alone runs every 10 s, and
        # its idle runs would be most of a quiet service's log. GET /v1/jobs still lists every run.
        log.log(logging.INFO if any(result.values()) else logging.DEBUG, "job %s ran: %s", job.name, result)
        return result

    async def _keep(self, run: job_runs.JobRun) -> None:
        try:
            async with self.commands.sessions() as session:
                await job_runs.record(session, run, self.replica)
                await session.commit()
        except asyncio.CancelledError:
            raise
        except Exception:  # the run itself happened; only its record is lost (the log has it)
            log.exception("could not record the run of job %s", run.job)

    async def latest_runs(self, limit: int = KEPT_RUNS) -> dict[str, list[dict[str, Any]]]:
        """Each job's latest runs on every replica of the service, newest first."""
        async with self.commands.sessions() as session:
            return {job.name: await job_runs.latest(session, job.name, limit) for job in self.jobs}
