"""Scheduled jobs inside a service process (expiry, escalation, analytics, reviews).

Every job must be safe to run twice and on several replicas at once: it derives what to do from
the database and records its effects idempotently (unique keys, derived event ids), so no
distributed lock or external scheduler is needed.

A job is `async def run(commands, settings, now) -> dict` (the summary of the run), declared in
the service's `jobs.py` and listed in `ServiceSpec.jobs`. It opens its transactions with
`commands()` (which wakes the relay when they emitted) and takes the time as an argument, so tests
drive it with any clock; it never sees the FastAPI app. Staff can also trigger a job through the
shared `POST /v1/jobs/{name}/run` route (`shared.jobs_api`).
"""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.clock import Clock, utc_now
from shared.commands import Commands

log = logging.getLogger(__name__)

JobFn = Callable[[Commands, Any, datetime], Awaitable[dict[str, Any]]]
# Runs of each job remembered for `GET /v1/jobs` (the operators' console): enough to see a job
# failing repeatedly or its counts drifting, kept in memory, so per replica and since its start.
KEPT_RUNS = 10


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    every_s: float
    run: JobFn


@dataclass
class JobRunner:
    commands: Commands
    jobs: list[ScheduledJob]
    clock: Clock = utc_now
    last_results: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The latest runs of each job, newest first: when, for which moment, how long, the summary.
    history: dict[str, deque[dict[str, Any]]] = field(default_factory=dict)
    stopping: bool = False

    async def run_forever(self, job: ScheduledJob) -> None:
        # The first run waits one interval: a restarting replica must not stampede the database.
        while not self.stopping:
            await asyncio.sleep(job.every_s)
            if self.stopping:
                return
            await self.run_once(job)

    async def run_once(self, job: ScheduledJob, now: datetime | None = None, trigger: str = "schedule") -> dict[str, Any]:
        started = now or self.clock()
        began = asyncio.get_running_loop().time()
        try:
            result = await job.run(self.commands, self.commands.settings, started)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed run is logged and retried at the next interval
            log.exception("job %s failed", job.name)
            result = {"failed": True}
        self.last_results[job.name] = {"started_at": started.isoformat(), **result}
        self.history.setdefault(job.name, deque(maxlen=KEPT_RUNS)).appendleft({
            "as_of": started.isoformat(), "ran_at": datetime.now(started.tzinfo).isoformat(), "trigger": trigger,
            "duration_s": round(asyncio.get_running_loop().time() - began, 3),
            "failed": result.get("failed") is True, "summary": result,
        })
        log.info("job %s ran: %s", job.name, result)
        return result
