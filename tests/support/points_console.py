"""A gateway whose console reaches a real points app, in process: the stack of the points pages'
tests (members and campaigns are not there; a page that asks them says so)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from points.config import Settings as PointsSettings
from points.main import create_app as points_app
from tests.support.platform import TestEnv, gateway_reaching, service


@asynccontextmanager
async def gateway_over_points(env: TestEnv, database_factory: Callable[[str], Awaitable[Any]]
                              ) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """The gateway's client, and points' own (for what a test sets up or checks behind the page)."""
    async with service(points_app(env.settings(PointsSettings, await database_factory("points")))) as pts:
        async with gateway_reaching(env, database_factory, points=pts.app) as gw:  # type: ignore[attr-defined]
            yield gw, pts
