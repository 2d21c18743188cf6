"""Prometheus metrics of the messaging machinery and the HTTP layer.

Metric objects are process-wide (one service per process in production); labels carry the service
name so that tests, which run several services in one process, still read their own series.
"""

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

OUTBOX_PUBLISHED = Counter("crm_outbox_published_total", "Outbox rows published to the broker", ["service"])
OUTBOX_REPUBLISHED = Counter(
    "crm_outbox_republished_total", "Outbox rows queued again after the broker lost its log", ["service"]
)
OUTBOX_PENDING = Gauge("crm_outbox_pending", "Outbox rows waiting for the relay", ["service"])
EVENTS_APPLIED = Counter("crm_events_applied_total", "Events applied by the consumer", ["service", "type"])
EVENTS_DUPLICATE = Counter("crm_events_duplicate_total", "Redelivered events skipped by dedupe", ["service"])
EVENTS_SKIPPED = Counter("crm_events_skipped_total", "Events of types this service does not handle", ["service"])
EVENTS_DEAD_LETTERED = Counter("crm_events_dead_lettered_total", "Events sent to the dead-letter topic", ["service"])
CONSUMER_LAG = Gauge("crm_consumer_lag", "Records behind the log end, per topic", ["service", "topic"])
# A shared writer's transactions (shared.group_commit): how many items each took, and how long it
# ran from its first statement to its commit. Their sum over a minute near 60 s means the writer
# is busy all the time, so its requests queue for their turn (the POS sales' writer at peak).
GROUP_COMMIT_ITEMS = Histogram(
    "crm_group_commit_items", "Items written per shared transaction", ["service", "writer"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
GROUP_COMMIT_SECONDS = Histogram(
    "crm_group_commit_seconds", "Wall time of a shared transaction, first statement to commit", ["service", "writer"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
HTTP_REQUESTS = Histogram(
    "crm_http_request_seconds", "HTTP request latency", ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


class HttpMetricsMiddleware:
    """Records latency per route template (not per raw path, which would explode cardinality)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}
        start = time.perf_counter()

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            HTTP_REQUESTS.labels(self.service, scope["method"], _route_of(scope), str(status["code"])).observe(
                time.perf_counter() - start
            )


def _route_of(scope: Scope) -> str:
    # The router stores the matched route in the scope; its path is the template ("/v1/x/{id}").
    route = scope.get("route")
    return getattr(route, "path", "unmatched")


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
