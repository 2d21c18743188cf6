"""The skeleton every service shares: lifespan, health, metrics, correlation ids, messaging.

A service describes itself with a `ServiceSpec` (its routers, event handlers, migrations) and gets a
FastAPI app whose lifespan opens the database, migrates it (in development), and runs the outbox
relay and the event consumer as background tasks that stop cleanly on shutdown. Nothing happens at
import time: engines and Kafka clients exist only between start-up and shutdown.
"""

import asyncio
import contextlib
import logging
import re
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException

from shared import jobs_api
from shared.auth import TokenVerifier
from shared.authorize import access_error_handlers, public
from shared.body_encoding import http_error_handler
from shared.body_limit import BodySizeLimitMiddleware
from shared.clean_urls import CleanUrlMiddleware
from shared.clock import Clock, utc_now
from shared.collector import tune_collector
from shared.commands import Commands
from shared.consumer import BatchHandler, EventConsumer, Handler, forget_processed_events, is_transient
from shared.db import make_engine, make_sessionmaker, ping, read_only_sessions
from shared.errors import ServiceError
from shared.jobs import JobRunner, ScheduledJob
from shared.logs import configure_logging
from shared.metrics import CONSUMER_LAG, OUTBOX_PENDING, HttpMetricsMiddleware, metrics_endpoint
from shared.migrations import upgrade_async
from shared.openapi_errors import document_refusals
from shared.outbox import OutboxRelay
from shared.policy import MemberFacts
from shared.query_params import refuse_unknown_query
from shared.retry import failure_reason
from shared.settings import ServiceSettings
from shared.validation_errors import validation_error_handler

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 10.0
# What a request that met its database away tells its caller to wait before trying again: about
# the time a PostgreSQL restart or a failover takes.
DATABASE_AWAY_RETRY_AFTER_S = 5
# `/health/ready` answers within the operators' console's deadline (3 s, gateway's platform_health):
# its probes each get PROBE_TIMEOUT_S, side by side, and the figures beside them (outbox backlog,
# consumer lag) what is left. Past the console's deadline, a service whose database hangs (every
# pooled connection waiting for SQLite's write lock) had read as silent, not as its database.
PROBE_TIMEOUT_S = 2.0
READY_FIGURES_TIMEOUT_S = 0.5

Hook = Callable[[FastAPI], Awaitable[None]]
# How a service finds what the access policy needs to know about a customer (home store, manager).
MemberFactsQuery = Callable[[AsyncSession, str], Awaitable[MemberFacts | None]]


@dataclass
class ServiceSpec:
    title: str
    description: str
    routers: list[APIRouter]
    migrations: Path
    handlers: dict[str, Handler] = field(default_factory=dict)
    # Optional: a handler for a run of consecutive events of one type, for high-volume types
    # (e.g. points booking sales); the per-event handler of the type is still required.
    batch_handlers: dict[str, BatchHandler] = field(default_factory=dict)
    # Types the service publishes and also reads, for the events others publish of them: its own are
    # skipped (`EventConsumer.own_skipped`).
    own_skipped: frozenset[str] = frozenset()
    # Extra start-up / shutdown work (e.g. the gateway's HTTP clients).
    on_startup: list[Hook] = field(default_factory=list)
    on_shutdown: list[Hook] = field(default_factory=list)
    jobs: list[ScheduledJob] = field(default_factory=list)
    # Services holding customer data say how to look a customer up, so that `shared.authorize`
    # checks every `{member_id}` route against the caller's scope.
    member_facts: MemberFactsQuery | None = None
    version: str = "0.1.0"


# A caller's own request id is kept, not only a UUID (the middleware's default): a till's receipt
# number or another system's trace id is what its people search the logs for. Letters, digits and
# `. _ : / -` only, so that none can break a log line, a header or an event's attribute; any other
# is replaced by a new id.
_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:/-]{1,128}")


def is_correlation_id(value: str) -> bool:
    return _CORRELATION_ID.fullmatch(value) is not None


def build_service_app(settings: ServiceSettings, spec: ServiceSpec, clock: Clock = utc_now) -> FastAPI:
    """`clock` is the time of routes (`NowDep`), handlers and commands (`uow.now()`) and jobs;
    tests pass their own to move time."""
    # Here, when uvicorn's factory builds the app, and not at start-up: uvicorn says "Started server
    # process" in between, and every line of the log is to be JSON. Under pytest its own log
    # capture stays in place.
    if settings.environment != "test":
        configure_logging(settings.service_name, settings.log_level, settings.log_json)

    scheduled = spec.jobs + _shared_jobs(settings, spec)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database)
        if settings.auto_migrate:
            await upgrade_async(spec.migrations, settings.database, engine=engine)
        sessions = make_sessionmaker(engine)
        relay = OutboxRelay(settings, sessions)
        app.state.commands = Commands(sessions, settings, wake=relay.wake, clock=app.state.clock)
        consumer = (
            EventConsumer(
                settings, sessions, spec.handlers, on_commit=relay.wake, batch_handlers=spec.batch_handlers,
                clock=app.state.clock, own_skipped=spec.own_skipped,
            )
            if spec.handlers
            else None
        )
        app.state.engine, app.state.sessions, app.state.relay, app.state.consumer = engine, sessions, relay, consumer
        if spec.member_facts is not None:
            app.state.member_facts = _facts_lookup(sessions, spec.member_facts)
        app.state.verifier = TokenVerifier(settings.resolved_public_key(), settings.jwt_issuer, settings.jwt_audience)
        app.state.jobs = jobs = JobRunner(app.state.commands, scheduled, clock=app.state.clock)
        tasks = [asyncio.create_task(relay.run(), name="outbox-relay")]
        if consumer is not None and settings.consume_events:
            tasks.append(asyncio.create_task(consumer.run(), name="event-consumer"))
        if settings.jobs_enabled:
            tasks += [asyncio.create_task(jobs.run_forever(job), name=f"job-{job.name}") for job in scheduled]
        for task in tasks:
            task.add_done_callback(_ended)
        app.state.background = tasks
        for hook in spec.on_startup:
            await hook(app)
        tune_collector()
        log.info("%s started", settings.service_name)
        try:
            yield
        finally:
            for hook in spec.on_shutdown:
                await hook(app)
            relay.stopping = jobs.stopping = True
            if consumer is not None:
                consumer.stopping = True
            for task in tasks:
                task.cancel()
            _, stuck = await asyncio.wait(tasks, timeout=SHUTDOWN_TIMEOUT_S)
            for task in stuck:
                log.error("%s did not stop within %ss; abandoning it", task.get_name(), SHUTDOWN_TIMEOUT_S)
            if consumer is not None:
                await consumer.stop()
            await relay.stop()
            await engine.dispose()
            log.info("%s stopped", settings.service_name)

    app = FastAPI(
        title=spec.title, description=spec.description, version=spec.version, lifespan=lifespan,
        exception_handlers=access_error_handlers(),
        # Query parameters a route does not declare are 422 (`shared.query_params`).
        dependencies=[Depends(refuse_unknown_query)],
        # The platform measures itself (/metrics) and has no OpenTelemetry provider; FastAPI's
        # own telemetry still looked for one on every request (about 20 us each, 7 calls a 360 view).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.clock = clock
    document_refusals(app)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    # FastAPI's own, but a JSON body that is not UTF-8 is answered as a bad body, naming the byte.
    app.add_exception_handler(HTTPException, http_error_handler)
    app.add_exception_handler(ServiceError, service_error_handler)
    app.add_exception_handler(DBAPIError, database_error_handler)
    app.add_exception_handler(OSError, database_error_handler)
    # Inside metrics and correlation ids, so that a 413 or a refused URL is still measured and
    # carries the correlation id.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CleanUrlMiddleware)
    app.add_middleware(HttpMetricsMiddleware, service=settings.service_name)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Correlation-ID", validator=is_correlation_id)
    app.include_router(_health_router(spec.version))
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    for router in spec.routers:
        app.include_router(router)
    if scheduled:
        app.include_router(jobs_api.router)
    return app


def _shared_jobs(settings: ServiceSettings, spec: ServiceSpec) -> list[ScheduledJob]:
    """The jobs of the skeleton's own parts, besides the service's: a consumer's clean-up of the
    event ids it recorded."""
    if not spec.handlers or not settings.processed_events_retention_s:
        return []
    return [ScheduledJob("processed-events-cleanup", settings.processed_events_cleanup_every_s, forget_processed_events)]


async def service_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    body: dict[str, Any] = {"detail": exc.detail()}
    body.update((key, value) for key, value in exc.extra().items() if key != "detail")
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers() or None)


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A request that met its database away (`shared.consumer.is_transient`: unreachable,
    restarting, out of connections or disk, its file unreadable) is a 503 naming the problem, with
    `Retry-After`: the caller (a till, the gateway, a client) retries, as it would a restart,
    rather than report a 500 as a bug. Any other database error is one, and stays a 500, as does
    an OSError that did not come from the database: asyncpg's connect raises a refused or missing
    socket as a bare OSError, which SQLAlchemy passes on unwrapped."""
    away = (isinstance(exc, DBAPIError) and is_transient(exc)) or (isinstance(exc, OSError) and _from_the_database(exc))
    if not away:
        raise exc
    reason = failure_reason(exc)  # the driver's words: SQLAlchemy's carry the statement and its values
    log.error("%s %s: the database is unavailable: %s", request.method, request.url.path, reason)
    body = {"detail": f"the {request.app.state.settings.service_name} database is unavailable, retry later ({reason})"[:300]}
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(DATABASE_AWAY_RETRY_AFTER_S)})


def _from_the_database(exc: BaseException) -> bool:
    """Whether `exc` was raised through SQLAlchemy (opening or using a connection)."""
    return any(frame.f_globals.get("__name__", "").startswith("sqlalchemy.") for frame, _ in traceback.walk_tb(exc.__traceback__))


def _facts_lookup(
    sessions: async_sessionmaker[AsyncSession], query: MemberFactsQuery
) -> Callable[[str], Awaitable[MemberFacts | None]]:
    reads = read_only_sessions(sessions)  # a read: no turn at SQLite's write lock

    async def lookup(member_id: str) -> MemberFacts | None:
        async with reads() as session:
            return await query(session, member_id)

    return lookup


def _ended(task: asyncio.Task[Any]) -> None:
    """Says why a background task failed, in the service's log: /health/live then fails."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("%s ended: %s", task.get_name(), exc, exc_info=exc)


def _health_router(version: str) -> APIRouter:
    router = APIRouter(tags=["health"], dependencies=[Depends(public)])
    # When this process started serving, for the uptime the operators' console shows (a restart
    # loop shows as an uptime that never grows).
    started = datetime.now(UTC)

    @router.get("/health/live")
    async def live(request: Request) -> JSONResponse:
        """Live while the event loop answers and every background task runs: each runs until the
        service stops, so one that ended (a bug, a failure it did not expect) leaves the service
        answering requests but never publishing its outbox, consuming or running a job again,
        and only a restart brings it back (503: the orchestrator restarts the process)."""
        now = datetime.now(UTC)
        body: dict[str, Any] = {
            "status": "live", "service": request.app.state.settings.service_name, "version": version,
            "started_at": started.isoformat(), "uptime_s": int((now - started).total_seconds()),
        }
        if ended := [task.get_name() for task in getattr(request.app.state, "background", ()) if task.done()]:
            return JSONResponse({**body, "status": "failed", "ended": ended}, status_code=503)
        return JSONResponse(body)

    @router.get("/health/ready")
    async def ready(request: Request) -> JSONResponse:
        state = request.app.state
        # Together, not one after the other: a database and a broker that both hang still leave
        # time for the figures below within the console's deadline.
        database, broker = await asyncio.gather(_check(ping(state.engine)), _check(_broker_metadata(state.relay)))
        checks: dict[str, Any] = {"database": database, "broker": broker}
        ok = all(v == "ok" for v in checks.values())
        body: dict[str, Any] = {"status": "ready" if ok else "not ready", "checks": checks}
        if state.consumer is not None:
            # Reported, not required: a replica beyond the partition count never gets an
            # assignment, and a rebalance must not take every replica out of service.
            if not state.settings.consume_events:
                body["consumer"] = "off (CRM_CONSUME_EVENTS=false)"
            else:
                body["consumer"] = _consumer_state(state.consumer)
            # What the service's group reads (whichever replicas consume): the operators' console
            # measures its lag there even before it has committed anything, as when its consumer
            # is stuck on its first event.
            body["consumer_group"], body["consumer_topics"] = state.settings.consumer_group, state.consumer.topics
        with contextlib.suppress(Exception):  # the figures are left out when they cannot be had in time
            async with asyncio.timeout(READY_FIGURES_TIMEOUT_S):
                body["outbox_pending"] = pending = await state.relay.pending()
                OUTBOX_PENDING.labels(state.settings.service_name).set(pending)
                oldest = await state.relay.oldest_pending()
                body["outbox_oldest_pending_at"] = oldest.isoformat() if oldest is not None else None
                if state.consumer is not None:
                    body["consumer_lag"] = lag = await state.consumer.lag()
                    for topic, value in lag.items():
                        CONSUMER_LAG.labels(state.settings.service_name, topic).set(value)
        return JSONResponse(body, status_code=200 if ok else 503)

    return router


class Unavailable(Exception):
    """A readiness probe's own verdict, in words for the operator: reported as it is worded."""


# How a readiness check reports a failure, and what it says of a relay holding no connection to the
# broker: the operators' console words both in the person's language (gateway.domain.platform_health).
FAILED = "failed: "
NOT_CONNECTED = "not connected to the broker"


def _consumer_state(consumer: EventConsumer) -> str:
    """`assigned`, `no partitions assigned` (a standby replica, or a rebalance), or, while the
    consumer is between two attempts to reconnect, what made it fail: without it a consumer whose
    database or broker is away read as a standby replica."""
    if consumer.assigned:
        return "assigned"
    if not consumer.connected and consumer.failure:
        return f"reconnecting after a failure: {consumer.failure}"[:300]
    return "no partitions assigned"


async def _broker_metadata(relay: OutboxRelay) -> None:
    if relay.producer is None:
        # The relay closes its connection after any failure, its database's too: say which it was.
        why = f" (the outbox relay's last failure: {relay.failure})" if relay.failure else ""
        raise Unavailable(f"{NOT_CONNECTED}{why}")
    try:
        await relay.producer.client.fetch_all_metadata()
    except Exception as exc:
        raise Unavailable(f"the broker at {relay.settings.kafka_bootstrap} does not answer: {failure_reason(exc)}") from exc


async def _check(probe: Awaitable[None], timeout: float = PROBE_TIMEOUT_S) -> str:
    try:
        async with asyncio.timeout(timeout):
            await probe
        return "ok"
    except TimeoutError:
        return f"{FAILED}no answer within {timeout:g}s"
    except Unavailable as exc:
        return f"{FAILED}{exc}"[:300]
    except Exception as exc:  # any failure is reported in the health body, not raised
        return f"{FAILED}{failure_reason(exc)}"[:300]
