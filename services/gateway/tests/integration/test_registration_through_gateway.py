"""Registrations through the gateway over real HTTP, against the members service on SQLite:
concurrent ones all succeed, and a retry with the same Idempotency-Key gets the same member.

The gateway's read budget is set far below what a registration takes, so a forwarded write that
used it (as it once did) would answer 503 although the member was created."""

import asyncio
import uuid

import pytest
import uvicorn

from crm_cli.broker import free_port
from gateway.config import Settings as GatewaySettings
from gateway.main import create_app as gateway_app
from members.config import Settings as MembersSettings
from members.main import create_app as members_app
from shared.auth import Role
from tests.support.factories import member_body
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration


@pytest.fixture
def backend() -> str:
    """The default SQLite setup (one writer at a time) is the one under test."""
    return "sqlite"


@pytest.fixture
async def members_url(env: TestEnv, database_factory):
    app = members_app(env.settings(MembersSettings, await database_factory("members"), consume_events=False))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "members did not start"
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def gateway(env: TestEnv, database_factory, members_url: str):
    settings = env.settings(GatewaySettings, await database_factory("gateway"), members_url=members_url,
                            downstream_timeout_s=0.01, forward_timeout_s=30.0)
    async with service(gateway_app(settings)) as client:
        yield client


async def test_sixteen_concurrent_registrations_through_the_gateway_all_succeed(gateway, env: TestEnv) -> None:
    desk = env.auth(Role.SERVICE_DESK, store_id="S001")
    bodies = [member_body() for _ in range(16)]
    keys = [f"reg-{uuid.uuid4().hex}" for _ in bodies]
    answers = await asyncio.gather(*(
        gateway.post("/api/v1/members", json=body, headers={**desk, "Idempotency-Key": key})
        for body, key in zip(bodies, keys, strict=True)
    ))
    assert [r.status_code for r in answers] == [201] * 16, [r.text for r in answers if r.status_code != 201]
    assert len({r.json()["id"] for r in answers}) == 16

    again = await gateway.post("/api/v1/members", json=bodies[3], headers={**desk, "Idempotency-Key": keys[3]})
    assert again.status_code == 200 and again.json()["id"] == answers[3].json()["id"]
    other = await gateway.post("/api/v1/members", json=member_body(), headers={**desk, "Idempotency-Key": keys[3]})
    assert other.status_code == 409
