"""A gateway whose console reaches a real points app, in process: the stack of the points pages'
tests (members and campaigns are not there; a page that asks them says so)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from gateway.adapters.clients import Downstream
from gateway.config import Settings as GatewaySettings
from gateway.main import create_app as gateway_app
from points.config import Settings as PointsSettings
from points.main import create_app as points_app
from tests.support.platform import TestEnv, service


@asynccontextmanager
async def gateway_over_points(env: TestEnv, database_factory: Callable[[str], Awaitable[Any]]
                              ) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """The gateway's client, and points' own (for what a test sets up or checks behind the page)."""
    async with service(points_app(env.settings(PointsSettings, await database_factory("points")))) as pts:
        gateway = gateway_app(env.settings(GatewaySettings, await database_factory("gateway")))
        closed = "http://127.0.0.1:9"
        gateway.state.downstream = Downstream(
            members=httpx.AsyncClient(base_url=closed), campaigns=httpx.AsyncClient(base_url=closed),
            points=httpx.AsyncClient(transport=httpx.ASGITransport(app=pts.app), base_url="http://points"),  # type: ignore[attr-defined]
        )
        async with service(gateway) as gw:
            yield gw, pts
