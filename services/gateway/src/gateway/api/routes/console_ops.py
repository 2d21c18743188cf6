"""The operators' pages of the console: every service's health, the event flow (consumer lag and
outbox backlogs, now and over 24 hours), and the scheduled jobs (latest runs, run now). Each reads
the services' own endpoints, the jobs with the operator's token."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.consumer_lag import group_lags
from gateway.api.console.refusals import explain
from gateway.api.console.render import gettext_of, page, refusal_message, zone_of
from gateway.api.console.services import service_clients
from gateway.api.console.session import Console, ConsoleUser, Form, one
from gateway.config import Settings
from gateway.domain.event_flow import chart, first_sample_after_s, group_totals, groups
from gateway.domain.platform_health import uptime_parts
from gateway.service_layer import event_flow
from gateway.service_layer.platform_health import platform_health
from gateway.service_layer.service_jobs import job_lists, run_job
from shared.deps import NowDep, UowDep
from shared.query_params import QUERY_CHECKED_ELSEWHERE
from shared.zones import typed_moment

router = APIRouter(prefix="/console/ops", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])


@router.get("/health")
async def health(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.operate")]) -> HTMLResponse:
    async with service_clients(request) as clients:
        services = await platform_health(clients)
    return page(request, "ops/health.html", user, services=services, uptime_parts=uptime_parts,
                all_healthy=all(s.healthy for s in services))


@router.get("/event-flow")
async def event_flow_page(request: Request, uow: UowDep, now: NowDep,
                          user: Annotated[ConsoleUser, Console("gateway.console.operate")]) -> HTMLResponse:
    """Lag per consumer group and partition and each outbox's backlog now, and their 24 hours."""
    settings: Settings = request.app.state.settings
    measured = groups(settings.kafka_topic_prefix)
    async with service_clients(request) as clients:
        snapshot = await event_flow.measure(
            clients, lambda reads: group_lags(settings, measured, settings.console_lag_fetch_cap, reads), now,
        )
    lag_history = await event_flow.history(uow, "lag", now)
    outbox_history = await event_flow.history(uow, "outbox", now)
    zone = zone_of(request)
    totals = group_totals(snapshot.lags, now)
    return page(
        request, "ops/event_flow.html", user, snapshot=snapshot, now=now, totals=totals,
        unmeasured=[group for group in measured if group not in totals],
        lag_chart=chart({k: [(at, m) for at, m, _ in v] for k, v in lag_history.items()}, now, zone),
        lag_seconds_chart=chart({k: [(at, s) for at, _, s in v] for k, v in lag_history.items()}, now, zone),
        outbox_chart=chart({k: [(at, m) for at, m, _ in v] for k, v in outbox_history.items()}, now, zone),
        sample_every_s=int(settings.console_event_flow_sample_s),
        first_sample_after_s=first_sample_after_s(settings.console_event_flow_sample_s),
    )


@router.get("/jobs")
async def jobs(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.operate")]) -> HTMLResponse:
    async with service_clients(request) as clients:
        listed = await job_lists(clients, user.bearer())
    # A service that does not answer, or refuses the list, said as every console page says it.
    problems = {group.service: refusal_message(request, group.problem) for group in listed if group.problem is not None}
    return page(request, "ops/jobs.html", user, listed=listed, problems=problems)


@router.post("/jobs/run")
async def run(request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.operate")]) -> Response:
    """Runs a job now at its service (the service checks `jobs.run` against the operator's token),
    optionally for another moment (`as_of`, a local date and time of the form)."""
    service, name = one(form, "service"), one(form, "job")
    as_of = typed_moment("as_of", one(form, "as_of"), zone_of(request))
    async with service_clients(request) as clients:
        outcome: dict[str, Any] = await run_job(clients, user.bearer(), service, name, as_of)
    _ = gettext_of(request)
    # A refusal in the person's words, as every form's (a moment the job cannot take, a role).
    refused = explain(outcome["body"].get("detail"), _) if outcome["status"] != 200 and isinstance(outcome["body"], dict) else ""
    return page(request, "ops/job_result.html", user, service=service, job=name, outcome=outcome, refused=refused,
                title=_("Job run"))
