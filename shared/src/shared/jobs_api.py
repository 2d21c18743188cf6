"""`POST /v1/jobs/{name}/run` in every service with scheduled jobs: admins and operators run a job
now, the same code the schedule runs, and get its summary back (e.g. the escalation check after
deadlines change). `GET /v1/jobs` lists the jobs with their interval and latest runs (of every
replica, from the service's database).

A run by hand may be for a moment in the past (`as_of`: a review date missed, a rerun after a
fix), never for one in the future: jobs act for real, and a run "as of" tomorrow would expire
points, escalate complaints and send messages before their time, dated in a future no later run
can correct. The service's clock, as for scheduled runs, is the judge, with the platform's allowed
clock skew (`CRM_CLOCK_SKEW_S`) for an operator's screen running a little ahead."""

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, status

from shared.authorize import Allowed
from shared.policy import Grant
from shared.zones import Moment

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get("")
async def list_jobs(request: Request, _: Annotated[Grant, Allowed("jobs.read")]) -> dict[str, Any]:
    """Each scheduled job of this service, its interval, and its latest runs on every replica
    (newest first), as recorded in the service's database."""
    runner = request.app.state.jobs
    runs = await runner.latest_runs()
    return {"items": [{"name": job.name, "every_s": job.every_s, "runs": runs[job.name]} for job in runner.jobs]}


@router.post("/{name}/run")
async def run_job(
    name: str,
    request: Request,
    _: Annotated[Grant, Allowed("jobs.run")],
    as_of: Annotated[Moment | None, Query(
        description="The moment the run is for: now or earlier, by the service's clock give or take CRM_CLOCK_SKEW_S; "
        "defaults to now",
    )] = None,
) -> dict[str, Any]:
    runner = request.app.state.jobs
    job = next((j for j in runner.jobs if j.name == name), None)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {name}; jobs: {', '.join(j.name for j in runner.jobs)}")
    if as_of is not None:
        settings = runner.commands.settings
        _refuse_future(as_of, runner.clock(), settings.clock_skew_s, settings.zone)
        if job.now_only and as_of < runner.clock() - timedelta(seconds=runner.commands.settings.clock_skew_s):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"as_of: job {name} reads how the platform is now and cannot be run for a past moment; leave as_of out",
            )
    # Without `as_of`, the runner uses the service's clock (feedback's deadlines in tests, for one).
    result: dict[str, Any] = await runner.run_once(job, as_of, trigger="by hand")
    # `failed: True` is the runner's mark of a run that raised; a count named `failed` (messages
    # the dispatch job gave up on) is part of a successful run's summary.
    if result.get("failed") is True:
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, f"job {name} failed; the service log has the error")
    return result


def _refuse_future(as_of: datetime, now: datetime, skew_s: float, zone: ZoneInfo) -> None:
    if as_of > now + timedelta(seconds=skew_s):
        # Both moments in the chain's time to the minute: the operator typed the moment as local
        # wall-clock time, and UTC with microseconds would read as another moment beside it.
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"as_of: {_local(as_of, zone)} is later than the service's clock ({_local(now, zone)}, allowing {skew_s:g} s "
            "of clock skew); a job runs for now or a past moment, never ahead of time",
        )


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="minutes")
