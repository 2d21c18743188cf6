"""The runs of scheduled jobs are kept in the service's database: a restarted replica, or another
one, lists them at `GET /v1/jobs`, newest first, and the runner keeps only the newest of each job."""

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from shared import job_runs
from shared.auth import Role
from shared.jobs import JobRunner, ScheduledJob

AS_OF = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _run(job: str, minute: int, ok: bool = True) -> job_runs.JobRun:
    at = AS_OF + timedelta(minutes=minute)
    return job_runs.JobRun(job=job, trigger="schedule", as_of=at, started_at=at, finished_at=at + timedelta(seconds=1),
                           duration_s=1.0, ok=ok, summary={"minute": minute}, error=None if ok else "RuntimeError: boom")


async def test_runs_survive_a_new_runner_and_every_replica_is_listed(pts, env) -> None:
    app = pts.app
    ran = await pts.client.post("/v1/jobs/points-expiry/run", params={"as_of": AS_OF.isoformat()}, headers=env.auth(Role.ADMIN))
    assert ran.status_code == 200
    # The replica restarts (a new runner on the same database), and another replica runs the job too.
    restarted = JobRunner(app.state.commands, app.state.jobs.jobs)
    other = JobRunner(app.state.commands, app.state.jobs.jobs, replica="points-7f9c:1")
    expiry = next(j for j in other.jobs if j.name == "points-expiry")
    later = AS_OF + timedelta(days=1)
    summary = await other.run_once(expiry, later)
    runs = (await restarted.latest_runs())["points-expiry"]
    assert [(r["as_of"], r["trigger"], r["replica"]) for r in runs] == [
        (later.isoformat(), "schedule", "points-7f9c:1"),
        (AS_OF.isoformat(), "by hand", app.state.jobs.replica),
    ]
    assert runs[0]["summary"] == summary and runs[1]["summary"] == ran.json() and runs[1]["failed"] is False and runs[1]["error"] is None

    app.state.jobs = restarted
    listed = await pts.client.get("/v1/jobs", headers=env.auth(Role.OPERATOR))
    assert listed.status_code == 200
    [job] = [j for j in listed.json()["items"] if j["name"] == "points-expiry"]
    assert [r["replica"] for r in job["runs"]] == ["points-7f9c:1", app.state.jobs.replica]
    assert datetime.fromisoformat(job["runs"][0]["finished_at"]) >= datetime.fromisoformat(job["runs"][0]["started_at"])


async def test_a_failed_run_is_kept_with_its_error_on_one_line(pts, env) -> None:
    async def broken(commands, settings, now):
        raise RuntimeError("database went away\n[parameters: ('13800138000',)]")

    job = ScheduledJob("broken", 60, broken)
    runner = JobRunner(pts.app.state.commands, [job])
    assert await runner.run_once(job, AS_OF) == {"failed": True}
    [run] = (await JobRunner(pts.app.state.commands, [job]).latest_runs())["broken"]
    # The parameters a database error quotes (a phone, a name) stay in the log, not in the table.
    assert (run["failed"], run["error"], run["summary"]) == (True, "RuntimeError: database went away", {"failed": True})


async def test_only_the_newest_runs_of_each_job_are_kept(pts) -> None:
    async with pts.app.state.sessions() as session:
        for minute in range(6):
            await job_runs.record(session, _run("points-expiry", minute), "r1", keep=3)
        await job_runs.record(session, _run("bulk-bonus", 0, ok=False), "r2", keep=3)
        await session.commit()
    async with pts.app.state.sessions() as session:
        kept = (await session.exec(select(job_runs.JobRunRow).order_by(col(job_runs.JobRunRow.id)))).all()
        newest = await job_runs.latest(session, "points-expiry", 10)
    assert [(r.job, r.summary["minute"]) for r in kept] == [
        ("points-expiry", 3), ("points-expiry", 4), ("points-expiry", 5), ("bulk-bonus", 0),
    ]
    assert [r["summary"]["minute"] for r in newest] == [5, 4, 3]
    assert [r["as_of"] for r in newest] == [(AS_OF + timedelta(minutes=m)).isoformat() for m in (5, 4, 3)]


async def test_the_consumer_forgets_old_event_ids_as_one_of_the_services_jobs(pts, env) -> None:
    # Every service with a consumer has it (the skeleton's, `shared.service`), listed and run like its own.
    listed = (await pts.client.get("/v1/jobs", headers=env.auth(Role.OPERATOR))).json()["items"]
    [job] = [j for j in listed if j["name"] == "processed-events-cleanup"]
    assert job["every_s"] == pts.app.state.settings.processed_events_cleanup_every_s
    ran = await pts.client.post("/v1/jobs/processed-events-cleanup/run", headers=env.auth(Role.ADMIN))
    assert ran.status_code == 200 and ran.json() == {"deleted": 0}
