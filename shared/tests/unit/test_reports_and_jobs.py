"""Report rendering (CSV for Excel, printable HTML), the scheduled-job runner and its admin route."""

import asyncio
import csv
import io
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from shared import job_runs, jobs, jobs_api
from shared.auth import Role, TokenIssuer, TokenVerifier, generate_keypair
from shared.clock import utc_now
from shared.commands import Commands
from shared.db import make_engine, make_sessionmaker
from shared.job_runs import JobRunRow
from shared.jobs import JobRunner, ScheduledJob
from shared.reports import Column, ReportFormat, local_time, render, to_csv, to_html, totals_row
from shared.settings import ServiceSettings

COLUMNS = [Column("name", "姓名 Name"), Column("spend", "消费 Spend", money=True), Column("double", "2x", lambda r: r["spend"] * 2)]
ROWS = [{"name": "王小明", "spend": Decimal("12.30")}, {"name": "=HYPERLINK(\"x\")", "spend": Decimal("-1.00")}]


def test_csv_opens_in_excel_with_chinese_labels_and_defuses_formulas() -> None:
    text = to_csv(COLUMNS, ROWS)
    assert text.startswith("\ufeff姓名 Name,消费 Spend,2x\r\n")
    assert "王小明,12.30,24.60" in text
    assert "'=HYPERLINK" in text and ",-1.00," in text  # negative numbers stay numbers


@pytest.mark.parametrize("typed", [
    "\t=1+2", "\r=HYPERLINK(\"http://x\",\"点我\")", "\n@SUM(A1)",  # a spreadsheet skips the blank, then runs it
    "+8613800138000", "-1e5", "-Infinity", "+1",  # not numbers as a report writes them: kept as typed
])
def test_csv_defuses_every_cell_a_spreadsheet_would_read_as_a_formula(typed: str) -> None:
    rows = list(csv.reader(io.StringIO(to_csv([Column("name", "姓名 Name")], [{"name": typed}]).lstrip("\ufeff"))))
    assert rows[1] == ["'" + typed]


def test_csv_keeps_numbers_numbers_whether_computed_or_sent_as_text() -> None:
    columns = [Column("a", "a"), Column("b", "b"), Column("c", "c")]
    text = to_csv(columns, [{"a": Decimal("-12.50"), "b": -3, "c": "-1.00"}])
    assert text.endswith("-12.50,-3,-1.00\r\n")


def test_printable_page_escapes_what_staff_typed() -> None:
    page = to_html("报表 Report", COLUMNS, [{"name": "<script>", "spend": Decimal("1.00")}])
    assert "&lt;script&gt;" in page and "<script>" not in page and "@media print" in page


def test_the_totals_row_counts_the_lines_and_sums_the_named_columns() -> None:
    text = to_csv(COLUMNS, ROWS, totals=("spend", "double"))
    assert text.endswith("合计 Total (2),11.30,22.60\r\n")
    # Over no lines a sum of yuan still reads as money, a count as a count.
    assert to_csv(COLUMNS, [], totals=("spend", "double")).endswith("合计 Total (0),0.00,0\r\n")
    page = to_html("报表 Report", COLUMNS, ROWS, totals=("spend",))
    assert "<tfoot><tr><th>合计 Total (2)</th><th>11.30</th><th></th></tr></tfoot>" in page
    assert "<tfoot>" not in to_html("报表 Report", COLUMNS, ROWS) and "合计" not in to_csv(COLUMNS, ROWS)


def test_a_report_in_one_language_heads_its_totals_row_in_that_language() -> None:
    # The console's own exports are in the person's language: "Total (2)", not "合计 Total (2)".
    assert to_csv(COLUMNS, ROWS, totals=("spend",), total_label="Total").endswith("Total (2),11.30,\r\n")
    page = to_html("Report", COLUMNS, ROWS, totals=("spend",), total_label="合计")
    assert "<tfoot><tr><th>合计 (2)</th>" in page and "Total" not in page


def test_a_totals_row_refuses_a_column_it_cannot_sum() -> None:
    with pytest.raises(ValueError, match="nope"):
        totals_row(COLUMNS, ROWS, ("nope",))
    with pytest.raises(ValueError, match="name"):  # the first cell carries the label
        totals_row(COLUMNS, ROWS, ("name",))


def test_times_print_in_the_stores_zone_to_the_minute() -> None:
    at = datetime(2026, 11, 30, 17, 5, 59, tzinfo=UTC)
    assert local_time(at, ZoneInfo("Asia/Shanghai")) == "2026-12-01 01:05"
    assert local_time(None, ZoneInfo("Asia/Shanghai")) == ""


def test_render_picks_the_format_and_names_the_download() -> None:
    csv = render(ReportFormat.CSV, title="t", columns=COLUMNS, rows=ROWS, json_body={}, filename="daily-S001")
    assert csv.media_type.startswith("text/csv") and 'filename="daily-S001.csv"' in csv.headers["content-disposition"]
    assert render(ReportFormat.JSON, title="t", columns=COLUMNS, rows=ROWS, json_body={"a": Decimal("1.5")},
                  filename="x").body == b'{"a":"1.5"}'


@pytest.fixture
async def commands(tmp_path: Path) -> AsyncIterator[Commands]:
    """Commands on a SQLite file holding only the runs' table: where the runner records its runs."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: JobRunRow.__table__.create(sync))  # type: ignore[attr-defined]
    yield Commands(make_sessionmaker(engine), ServiceSettings(service_name="jobs-test"))
    await engine.dispose()


async def test_a_failing_job_is_recorded_and_does_not_stop_the_runner(commands: Commands) -> None:
    calls: list[datetime] = []

    async def flaky(commands: Commands, settings: object, now: datetime) -> dict:
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return {"expired": 3}

    job = ScheduledJob("expiry", 3600, flaky)
    runner = JobRunner(commands, [job])
    at = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert await runner.run_once(job, at) == {"failed": True}
    assert await runner.run_once(job, at) == {"expired": 3}
    assert runner.last_results["expiry"] == {"started_at": at.isoformat(), "expired": 3}
    assert calls == [at, at]


async def test_a_run_that_found_nothing_to_do_is_logged_at_debug_only(
    commands: Commands, caplog: pytest.LogCaptureFixture
) -> None:
    due = [0, 2]

    async def dispatch(commands: Commands, settings: object, now: datetime) -> dict:
        return {"due": due.pop(0), "sent": 0, "note": ""}

    job = ScheduledJob("dispatch", 10, dispatch)
    runner = JobRunner(commands, [job])
    caplog.set_level(logging.DEBUG, logger="shared.jobs")
    await runner.run_once(job)
    await runner.run_once(job)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, "job dispatch ran: {'due': 0, 'sent': 0, 'note': ''}"),
        (logging.INFO, "job dispatch ran: {'due': 2, 'sent': 0, 'note': ''}"),
    ]


async def test_admins_run_a_job_now_and_a_failure_is_a_500_not_a_summary(commands: Commands) -> None:
    private, public = generate_keypair()
    issuer = TokenIssuer(private)

    async def nightly(commands: Commands, settings: object, now: datetime) -> dict:
        if now.year < 2026:
            raise RuntimeError("no data before 2026")
        return {"as_of": now.isoformat()}

    app = FastAPI()
    app.include_router(jobs_api.router)
    app.state.verifier = TokenVerifier(public, issuer.issuer, issuer.audience)
    # The service's clock: the runs asked for below are for its past.
    app.state.jobs = JobRunner(commands, [ScheduledJob("nightly", 86400, nightly)], clock=lambda: datetime(2027, 1, 2, tzinfo=UTC))
    admin = {"Authorization": f"Bearer {issuer.mint('a', Role.ADMIN)}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        ok = await client.post("/v1/jobs/nightly/run", params={"as_of": "2026-12-31T23:00:00+08:00"}, headers=admin)
        assert ok.status_code == 200 and ok.json() == {"as_of": "2026-12-31T23:00:00+08:00"}
        failed = await client.post("/v1/jobs/nightly/run", params={"as_of": "2025-01-01T00:00:00Z"}, headers=admin)
        assert failed.status_code == 500 and "nightly failed" in failed.json()["detail"]
        unknown = await client.post("/v1/jobs/weekly/run", headers=admin)
        assert unknown.status_code == 404 and "jobs: nightly" in unknown.json()["detail"]
        desk = {"Authorization": f"Bearer {issuer.mint('d', Role.SERVICE_DESK, store_id='S001')}"}
        assert (await client.post("/v1/jobs/nightly/run", headers=desk)).status_code == 403


async def test_a_summary_counting_failed_items_is_a_successful_run(commands: Commands) -> None:
    """The message dispatch counts messages it gave up on as `failed`: a number in the summary,
    not the runner's mark of a run that raised."""
    private, public = generate_keypair()
    issuer = TokenIssuer(private)

    async def dispatch(commands: Commands, settings: object, now: datetime) -> dict:
        return {"due": 2, "sent": 1, "failed": 1}

    app = FastAPI()
    app.include_router(jobs_api.router)
    app.state.verifier = TokenVerifier(public, issuer.issuer, issuer.audience)
    app.state.jobs = JobRunner(commands, [ScheduledJob("dispatch", 10, dispatch)])
    admin = {"Authorization": f"Bearer {issuer.mint('a', Role.ADMIN)}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.post("/v1/jobs/dispatch/run", headers=admin)
    assert r.status_code == 200 and r.json() == {"due": 2, "sent": 1, "failed": 1}


async def test_operators_list_the_jobs_with_their_latest_runs_newest_first(commands: Commands) -> None:
    private, public = generate_keypair()
    issuer = TokenIssuer(private)
    runs = iter([RuntimeError("database went away"), {"expired": 2}, {"expired": 0}])

    async def expiry(commands: Commands, settings: object, now: datetime) -> dict:
        outcome = next(runs)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    app = FastAPI()
    app.include_router(jobs_api.router)
    app.state.verifier = TokenVerifier(public, issuer.issuer, issuer.audience)
    app.state.jobs = runner = JobRunner(commands, [ScheduledJob("expiry", 3600, expiry)],
                                        clock=lambda: datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    at = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    await runner.run_once(runner.jobs[0], at)
    operator = {"Authorization": f"Bearer {issuer.mint('o', Role.OPERATOR)}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.post("/v1/jobs/expiry/run", params={"as_of": "2027-01-01T00:00:00+00:00"}, headers=operator)
        assert r.status_code == 200 and r.json() == {"expired": 2}
        listed = await client.get("/v1/jobs", headers=operator)
        desk = await client.get("/v1/jobs", headers={"Authorization": f"Bearer {issuer.mint('d', Role.SERVICE_DESK, store_id='S001')}"})
    assert desk.status_code == 403
    assert listed.status_code == 200
    [job] = listed.json()["items"]
    assert job["name"] == "expiry" and job["every_s"] == 3600
    assert [(run["as_of"], run["trigger"], run["failed"], run["summary"]) for run in job["runs"]] == [
        ("2027-01-01T00:00:00+00:00", "by hand", False, {"expired": 2}),
        (at.isoformat(), "schedule", True, {"failed": True}),
    ]


async def test_a_run_by_hand_for_a_future_moment_is_refused_before_it_acts(commands: Commands) -> None:
    """Jobs act for real: a run "as of" later than the service's clock would expire points or
    escalate complaints before their time. The platform's clock skew is allowed, nothing more."""
    private, public = generate_keypair()
    issuer = TokenIssuer(private)
    now = datetime(2026, 12, 2, 15, 56, tzinfo=UTC)
    ran: list[datetime] = []

    async def escalation(commands: Commands, settings: object, as_of: datetime) -> dict:
        ran.append(as_of)
        return {"escalated": 0}

    app = FastAPI()
    app.include_router(jobs_api.router)
    app.state.verifier = TokenVerifier(public, issuer.issuer, issuer.audience)
    app.state.jobs = runner = JobRunner(commands, [ScheduledJob("escalation", 600, escalation)], clock=lambda: now)
    skew = timedelta(seconds=commands.settings.clock_skew_s)
    operator = {"Authorization": f"Bearer {issuer.mint('o', Role.OPERATOR)}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        ahead = await client.post("/v1/jobs/escalation/run", params={"as_of": "2026-12-02T20:30:00Z"}, headers=operator)
        beyond_skew = await client.post("/v1/jobs/escalation/run", params={"as_of": (now + skew + timedelta(seconds=1)).isoformat()},
                                        headers=operator)
        assert (ahead.status_code, beyond_skew.status_code) == (422, 422)
        # Both moments in the chain's time to the minute, as the operator typed the moment.
        assert ahead.json()["detail"].startswith(
            "as_of: 2026-12-03T04:30+08:00 is later than the service's clock (2026-12-02T23:56+08:00, allowing")
        assert ran == [] and (await runner.latest_runs())["escalation"] == []  # nothing ran, nothing recorded
        within_skew = await client.post("/v1/jobs/escalation/run", params={"as_of": (now + skew).isoformat()}, headers=operator)
        past = await client.post("/v1/jobs/escalation/run", params={"as_of": "2026-12-01T00:00:00+08:00"}, headers=operator)
        assert (within_skew.status_code, past.status_code) == (200, 200)
        # The same local time in another zone is judged as the moment it is (23:30 in Shanghai is 15:30 UTC).
        shanghai = await client.post("/v1/jobs/escalation/run", params={"as_of": "2026-12-02T23:30:00+08:00"}, headers=operator)
        assert shanghai.status_code == 200
    assert ran == [now + skew, datetime(2026, 11, 30, 16, 0, tzinfo=UTC), datetime(2026, 12, 2, 15, 30, tzinfo=UTC)]


async def test_a_job_may_run_soon_after_start_then_keeps_its_interval(commands: Commands) -> None:
    """On its first start a job waits one interval unless it asks for less (the console's sampling)."""
    ran: list[str] = []
    first_run = asyncio.Event()

    def job(name: str):
        async def run(commands: Commands, settings: object, now: datetime) -> dict:
            ran.append(name)
            first_run.set()
            return {"samples": 1}
        return run

    soon, later = ScheduledJob("sample", 3600, job("sample"), first_after_s=0.05), ScheduledJob("expiry", 3600, job("expiry"))
    runner = JobRunner(commands, [soon, later])
    tasks = [asyncio.create_task(runner.run_forever(j)) for j in runner.jobs]
    try:
        async with asyncio.timeout(5):
            await first_run.wait()
        await asyncio.sleep(0.3)  # long past the first delay: the next run waits the hour
    finally:
        runner.stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert ran == ["sample"]
    runs = await runner.latest_runs()
    assert [(r["trigger"], r["summary"]) for r in runs["sample"]] == [("schedule", {"samples": 1})] and runs["expiry"] == []


# --- when a job first runs after a start: its interval runs on from its last scheduled run, so
# restarting a service does not put a daily job off by a day

DAY = 86_400.0


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
    await first_scheduled_run(commands, "value-analytics")


async def first_scheduled_run(commands: Commands, job: str) -> JobRunner:
    """Starts the daily `job` on a runner and waits, at most 5 s, for its first scheduled run."""
    ran = asyncio.Event()

    async def run(commands: Commands, settings: object, now: datetime) -> dict[str, int]:
        ran.set()
        return {"scored": 1}

    runner = JobRunner(commands, [ScheduledJob(job, DAY, run)])
    task = asyncio.create_task(runner.run_forever(runner.jobs[0]))
    try:
        async with asyncio.timeout(5):
            await ran.wait()
    finally:
        runner.stopping = True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return runner


async def test_a_restart_waits_out_the_rest_of_the_interval_since_the_last_scheduled_run(commands: Commands) -> None:
    await ran_before(commands, "value-analytics", timedelta(hours=23))
    await ran_before(commands, "value-analytics", timedelta(minutes=5), trigger="by hand")  # not the schedule's
    runner = JobRunner(commands, [ScheduledJob("value-analytics", DAY, nothing), ScheduledJob("points-expiry", 6 * 3600, nothing)])
    analytics, expiry = runner.jobs
    assert 3_500 < await runner.first_wait(analytics) <= 3_600  # an hour left of the day
    assert await runner.first_wait(expiry) == 6 * 3600  # never ran: one interval, as on a fresh install


# --- a job that never ran on the schedule counts from its anchor, the first start of any replica:
# counted from each start, a daily job on a service deployed every few hours would never run

async def anchored_before(commands: Commands, job: str, ago: timedelta, replica: str = "replica-a:1") -> None:
    async with commands.sessions() as session:
        await job_runs.anchor(session, job, utc_now() - ago, replica)
        await session.commit()


async def test_restarts_never_put_off_a_job_that_never_ran(commands: Commands, monkeypatch: pytest.MonkeyPatch) -> None:
    """A daily job on a service restarted every three hours: each start waits what is left of the
    day since the first start, and the start after a day runs it soon (it used to wait a whole day
    at every start, so it never ran)."""
    first_start = utc_now()
    waits = []
    for hours in range(0, 25, 3):
        monkeypatch.setattr(jobs, "utc_now", lambda hours=hours: first_start + timedelta(hours=hours))
        runner = JobRunner(commands, [ScheduledJob("value-analytics", DAY, nothing)], replica=f"pod-{hours}:1")
        waits.append(await runner.first_wait(runner.jobs[0]))
    assert waits == [DAY - h * 3600 for h in range(0, 24, 3)] + [jobs.OVERDUE_FIRST_AFTER_S]
    # The anchor is no run: nothing is listed, and the first start's is the only one written.
    assert (await runner.latest_runs())["value-analytics"] == []
    async with commands.sessions() as session:
        anchors = (await session.exec(select(JobRunRow).where(JobRunRow.trigger == job_runs.ANCHOR))).all()
    assert [(a.job, a.started_at, a.replica) for a in anchors] == [("value-analytics", first_start, "pod-0:1")]


async def test_a_job_first_started_a_day_ago_and_never_run_runs_soon_after_a_restart(
    commands: Commands, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "OVERDUE_FIRST_AFTER_S", 0.05, raising=False)
    await anchored_before(commands, "value-analytics", timedelta(hours=25))
    runner = await first_scheduled_run(commands, "value-analytics")
    assert [r["trigger"] for r in (await runner.latest_runs())["value-analytics"]] == ["schedule"]


async def test_replicas_share_the_earliest_anchor_and_a_scheduled_run_takes_over(commands: Commands) -> None:
    # Two replicas that started at nearly the same moment each wrote one: the earlier counts.
    await anchored_before(commands, "points-expiry", timedelta(hours=2), replica="pod-b:1")
    async with commands.sessions() as session:
        session.add(JobRunRow(job="points-expiry", trigger=job_runs.ANCHOR, as_of=utc_now() - timedelta(hours=5),
                              started_at=utc_now() - timedelta(hours=5), finished_at=utc_now() - timedelta(hours=5),
                              duration_s=0.0, ok=True, summary={}, replica="pod-a:1"))
        await session.commit()
    runner = JobRunner(commands, [ScheduledJob("points-expiry", 6 * 3600, nothing)])
    assert 3_500 < await runner.first_wait(runner.jobs[0]) <= 3_600  # six hours from the earlier start
    # Once the job has run on the schedule, its runs count, not the anchor.
    await ran_before(commands, "points-expiry", timedelta(hours=1))
    assert 5 * 3600 - 100 < await runner.first_wait(runner.jobs[0]) <= 5 * 3600


async def test_the_anchor_is_kept_while_runs_are_pruned(commands: Commands) -> None:
    await anchored_before(commands, "bulk-bonus", timedelta(hours=3))
    at = utc_now()
    async with commands.sessions() as session:
        for n in range(5):
            await job_runs.record(session, job_runs.JobRun(job="bulk-bonus", trigger="by hand", as_of=at, started_at=at,
                                                           finished_at=at, duration_s=1.0, ok=True, summary={"n": n}), "r", keep=3)
        await session.commit()
        kept = (await session.exec(select(JobRunRow.trigger).where(JobRunRow.job == "bulk-bonus"))).all()
        assert sorted(kept) == [job_runs.ANCHOR, "by hand", "by hand", "by hand"]
        assert [r["summary"] for r in await job_runs.latest(session, "bulk-bonus", 10)] == [{"n": 4}, {"n": 3}, {"n": 2}]
    runner = JobRunner(commands, [ScheduledJob("bulk-bonus", 6 * 3600, nothing)])
    assert 3 * 3600 - 100 < await runner.first_wait(runner.jobs[0]) <= 3 * 3600  # runs by hand are not the schedule's


async def test_a_job_that_reads_the_platform_now_is_not_run_for_a_past_moment(commands: Commands) -> None:
    """The event flow's sample measures the lags of now: run "as of" this morning, it recorded
    this afternoon's reading under this morning, before the services had even started."""
    private, public = generate_keypair()
    issuer = TokenIssuer(private)
    now = datetime(2026, 12, 7, 5, 40, tzinfo=UTC)
    ran: list[datetime] = []

    async def sample(commands: Commands, settings: object, as_of: datetime) -> dict:
        ran.append(as_of)
        return {"samples": 1}

    app = FastAPI()
    app.include_router(jobs_api.router)
    app.state.verifier = TokenVerifier(public, issuer.issuer, issuer.audience)
    app.state.jobs = JobRunner(commands, [ScheduledJob("event-flow-sample", 60, sample, now_only=True)], clock=lambda: now)
    operator = {"Authorization": f"Bearer {issuer.mint('o', Role.OPERATOR)}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        past = await client.post("/v1/jobs/event-flow-sample/run", params={"as_of": "2026-12-07T13:00:00+08:00"}, headers=operator)
        assert past.status_code == 422 and "cannot be run for a past moment" in past.json()["detail"], past.text
        assert ran == []
        # Now, given or left out, it runs.
        given = await client.post("/v1/jobs/event-flow-sample/run", params={"as_of": now.isoformat()}, headers=operator)
        left_out = await client.post("/v1/jobs/event-flow-sample/run", headers=operator)
    assert (given.status_code, left_out.status_code) == (200, 200) and ran == [now, now]
