"""The record of scheduled-job runs, kept in each service's own database (`job_run`).

Every replica writes its runs there, so `GET /v1/jobs` shows the latest runs of every replica and
they outlive a restart. The runner prunes as it writes: after each run of a job only the newest
`KEPT_IN_DATABASE` rows of that job stay, so the table stays a few hundred rows per service
without a cleanup job of its own. Each service's migrations create the table with
`shared.migrations.create_job_runs_table`.

The table also holds each job's anchor (`trigger` `ANCHOR`): not a run, the moment the job's
schedule first started on any replica, from which its runs count while it has never run on the
schedule (`shared.jobs.JobRunner.first_wait`). Kept in the same table because it is one more fact
of the same job that every replica must read; it is never listed as a run nor pruned with them.
"""

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, delete
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.columns import UtcDateTime

TABLE = "job_run"
# Rows kept per job: at the shortest intervals (30 s) some 50 minutes of runs, at an hour 4 days;
# enough to see a job failing repeatedly or its counts drifting.
KEPT_IN_DATABASE = 100
# An error is kept to its first line and this many characters: database errors go on to quote the
# statement's parameters, which may be a customer's phone or name.
ERROR_CHARS = 300
# The `trigger` of a job's anchor row (see the module's docstring); runs are "schedule" or "by hand".
ANCHOR = "anchor"


class JobRunRow(SQLModel, table=True):
    __tablename__ = TABLE
    __table_args__ = (Index("ix_job_run_job_id", "job", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True))
    job: str = Field(max_length=100)
    trigger: str = Field(max_length=16)  # "schedule" or "by hand"; `ANCHOR` marks no run
    as_of: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    started_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    finished_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    duration_s: float
    ok: bool
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    replica: str = Field(max_length=200)


@dataclass(frozen=True)
class JobRun:
    job: str
    trigger: str
    as_of: datetime
    started_at: datetime
    finished_at: datetime
    duration_s: float
    ok: bool
    summary: dict[str, Any]
    error: str | None = None


def this_replica() -> str:
    """Which process ran a job: the host (a pod's name on Kubernetes) and the process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def error_text(exc: BaseException) -> str:
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line}"[:ERROR_CHARS]


async def record(session: AsyncSession, run: JobRun, replica: str, keep: int = KEPT_IN_DATABASE) -> None:
    """Writes one run and drops the job's runs older than its `keep` newest (of any replica). The
    anchor is not a run: it neither counts among them nor goes with them."""
    # A summary is the job's own dict; anything JSON cannot hold (a Decimal, a date) is kept as text.
    summary = json.loads(json.dumps(run.summary, default=str))
    session.add(JobRunRow(
        job=run.job, trigger=run.trigger, as_of=run.as_of, started_at=run.started_at, finished_at=run.finished_at,
        duration_s=run.duration_s, ok=run.ok, summary=summary, error=run.error, replica=replica,
    ))
    await session.flush()
    oldest_kept = (await session.exec(
        select(JobRunRow.id).where(JobRunRow.job == run.job, JobRunRow.trigger != ANCHOR)
        .order_by(col(JobRunRow.id).desc()).offset(keep - 1).limit(1)
    )).first()
    if oldest_kept is not None:
        await session.exec(delete(JobRunRow).where(
            col(JobRunRow.job) == run.job, col(JobRunRow.id) < oldest_kept, col(JobRunRow.trigger) != ANCHOR))


async def last_scheduled(session: AsyncSession, job: str) -> datetime | None:
    """When the job's latest scheduled run (of any replica) started; None if there is none."""
    return (await session.exec(
        select(JobRunRow.started_at).where(JobRunRow.job == job, JobRunRow.trigger == "schedule")
        .order_by(col(JobRunRow.id).desc()).limit(1)
    )).first()


async def anchor(session: AsyncSession, job: str, at: datetime, replica: str) -> datetime:
    """When the job's schedule first started on any replica: its anchor, written here as `at` by
    the first start that finds none (the caller commits). Replicas starting at the same moment may
    each write one; the earliest is the anchor from then on, so a later start never moves it."""
    first = (await session.exec(
        select(JobRunRow.started_at).where(JobRunRow.job == job, JobRunRow.trigger == ANCHOR)
        .order_by(col(JobRunRow.started_at), col(JobRunRow.id)).limit(1)
    )).first()
    if first is not None:
        return first
    session.add(JobRunRow(job=job, trigger=ANCHOR, as_of=at, started_at=at, finished_at=at, duration_s=0.0, ok=True,
                          summary={}, replica=replica))
    await session.flush()
    return at


async def last_succeeded(session: AsyncSession, job: str, until: datetime) -> datetime | None:
    """The moment (`as_of`) of the job's latest successful run, scheduled or by hand, for a moment
    no later than `until`; None if none is kept. A job that catches up on what happened since its
    previous run starts there."""
    return (await session.exec(
        select(JobRunRow.as_of).where(JobRunRow.job == job, JobRunRow.trigger != ANCHOR, col(JobRunRow.ok).is_(True),
                                      col(JobRunRow.as_of) <= until)
        .order_by(col(JobRunRow.as_of).desc()).limit(1)
    )).first()


async def latest(session: AsyncSession, job: str, limit: int) -> list[dict[str, Any]]:
    """The job's latest runs on every replica, newest first, as `GET /v1/jobs` lists them."""
    rows = (await session.exec(
        select(JobRunRow).where(JobRunRow.job == job, JobRunRow.trigger != ANCHOR).order_by(col(JobRunRow.id).desc()).limit(limit)
    )).all()
    return [
        {"as_of": r.as_of.isoformat(), "started_at": r.started_at.isoformat(), "finished_at": r.finished_at.isoformat(),
         "trigger": r.trigger, "duration_s": round(r.duration_s, 3), "failed": not r.ok, "summary": r.summary,
         "error": r.error, "replica": r.replica}
        for r in rows
    ]
