"""The gateway as its identity tests drive it: on a clock the test moves, with two active stores
(tills and desks are bound to one), and an admin who enrolls clients and manages staff."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx

from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from tests.support.platform import TestEnv, service


class MovableClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def admin(env: TestEnv) -> dict[str, str]:
    return {"Authorization": f"Bearer {env.issuer.mint('admin-li', Role.ADMIN)}"}


@asynccontextmanager
async def gateway_with_stores(env: TestEnv, database_url: str, clock: MovableClock,
                              **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway app with stores S001 and S002, its settings changed by `overrides`."""
    async with service(create_app(env.settings(Settings, database_url, **overrides), clock=clock)) as client:
        for store in ("S001", "S002"):
            r = await client.put(f"/api/v1/stores/{store}", json={"name": f"store {store}"}, headers=env.auth(Role.ADMIN))
            assert r.status_code == 200, r.text
        yield client


@asynccontextmanager
async def gateway_with_members(env: TestEnv, database_factory: Callable[[str], Awaitable[str]]) -> AsyncIterator[httpx.AsyncClient]:
    """`gateway_with_stores`, with the real members service behind it (what it shows, what it answers)."""
    from members.config import Settings as MembersSettings
    from members.main import create_app as members_app

    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client, \
            service(members_app(env.settings(MembersSettings, await database_factory("members")))) as members:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members") as behind:  # type: ignore[attr-defined]
            client.app.state.downstream = replace(client.app.state.downstream, members=behind)  # type: ignore[attr-defined]
            yield client


@asynccontextmanager
async def answering(
    gateway: httpx.AsyncClient, service: str, answer: Callable[[httpx.Request], httpx.Response],
) -> AsyncIterator[list[httpx.Request]]:
    """The gateway's downstream `service` (members, points, feedback, campaigns) replaced by `answer`
    while inside; the requests that reach it."""
    received: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return answer(request)

    wired = gateway.app.state.downstream  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=httpx.MockTransport(recording), base_url=f"http://{service}") as stand_in:
        gateway.app.state.downstream = replace(wired, **{service: stand_in})  # type: ignore[attr-defined]
        try:
            yield received
        finally:
            gateway.app.state.downstream = wired  # type: ignore[attr-defined]  # closed by the gateway's own shutdown
