"""One HTTP client per downstream service, made at start-up and closed at shutdown.

httpx's API (tests hand the gateway in-process services through httpx's ASGI transport), over
aiohttp's connections: httpx's own transport cost 1.2-3.6 ms of CPU per call on the 2-core
development machine, rising with concurrent calls on one pool, against 0.4 ms with aiohttp's
(bench/customer360.py); the 360 view makes six calls. Connections are all kept alive: at 32 staff
screens the view has 64 calls in flight to members alone, and a pool that keeps fewer opens new
connections all the time."""

from dataclasses import dataclass

import httpx
from asgi_correlation_id import correlation_id
from fastapi import FastAPI
from httpx_aiohttp import AiohttpTransport

from gateway.config import Settings


@dataclass
class Downstream:
    members: httpx.AsyncClient
    points: httpx.AsyncClient
    # Optional so that a gateway wired without feedback still serves the 360 view, with its
    # complaints section reported unavailable.
    feedback: httpx.AsyncClient | None = None
    # Optional for the same reason: without it the till's coupon routes answer 503, nothing else.
    campaigns: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        for client in (self.members, self.points, self.feedback, self.campaigns):
            if client is not None:
                await client.aclose()


CONNECTIONS_PER_SERVICE = 100


def _client(base_url: str, timeout: float) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=CONNECTIONS_PER_SERVICE, max_keepalive_connections=CONNECTIONS_PER_SERVICE)
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)),
        transport=AiohttpTransport(limits=limits),
        event_hooks={"request": [_propagate_correlation_id]},
    )


async def _propagate_correlation_id(request: httpx.Request) -> None:
    cid = correlation_id.get()
    if cid:
        request.headers["X-Correlation-ID"] = cid


async def open_clients(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    if getattr(app.state, "downstream", None) is None:  # tests may inject their own transports
        app.state.downstream = Downstream(
            members=_client(settings.members_url, settings.downstream_timeout_s),
            points=_client(settings.points_url, settings.downstream_timeout_s),
            feedback=_client(settings.feedback_url, settings.downstream_timeout_s),
            campaigns=_client(settings.campaigns_url, settings.downstream_timeout_s),
        )


async def close_clients(app: FastAPI) -> None:
    await app.state.downstream.aclose()
