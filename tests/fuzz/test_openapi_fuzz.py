"""Property-based fuzzing of every service's OpenAPI: whatever a client sends, the answer is never
a server error.

Schemathesis generates requests from each operation's schema, valid ones and deliberately invalid
ones; they are sent in-process to the real services (SQLite databases by default, migrated at
start-up, the consumer off) with valid tokens, so that they get past authentication into validation
and the domain. The number of examples per operation is bounded and generation is derandomised, so the
stage is repeatable and stays within a few minutes on a 2-core machine; raise CRM_FUZZ_EXAMPLES
to search harder locally, and set CRM_FUZZ_BACKEND=postgres to run the services on PostgreSQL,
which refuses what SQLite lets through (a value longer than its column).
"""

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from shared.auth import Role, TokenIssuer, ensure_dev_keypair
from shared.policy import POLICY
from tests.support.infra import Broker, Postgres
from tests.support.platform import TestEnv, running
from tests.support.policy import action_of, api_routes

pytestmark = [pytest.mark.fuzz, pytest.mark.integration]

EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "12"))
BACKEND = os.environ.get("CRM_FUZZ_BACKEND", "sqlite")
STORE = "S001"
MEMBER = "00000000-0000-4000-8000-000000000001"


@dataclass
class Stack:
    loop: asyncio.AbstractEventLoop
    apps: dict[str, FastAPI]
    clients: dict[str, httpx.AsyncClient]
    env: TestEnv
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    def token(self, path: str, as_member: bool) -> str:
        if path.startswith("/pos/"):
            return self.env.issuer.mint("fuzz-pos", Role.POS, store_id=STORE)
        if as_member:
            return self.env.issuer.mint("fuzz-member", Role.MEMBER, member_id=MEMBER)
        return self.env.issuer.mint("fuzz-admin", Role.ADMIN, store_id=STORE)


async def _start(env: TestEnv, database_dir: Path, postgres: Postgres | None) -> Stack:
    from campaigns.config import Settings as CampaignsSettings
    from campaigns.main import create_app as campaigns_app
    from feedback.config import Settings as FeedbackSettings
    from feedback.main import create_app as feedback_app
    from gateway.adapters.clients import Downstream
    from gateway.config import Settings as GatewaySettings
    from gateway.main import create_app as gateway_app
    from members.config import Settings as MembersSettings
    from members.main import create_app as members_app
    from points.config import Settings as PointsSettings
    from points.main import create_app as points_app

    names = ("members", "points", "feedback", "campaigns", "gateway")
    if postgres is None:
        urls = {name: f"sqlite+aiosqlite:///{database_dir / f'fuzz-{name}.db'}" for name in names}
    else:
        urls = {name: await postgres.create_database() for name in names}

    apps = {
        "members": members_app(env.settings(MembersSettings, urls["members"], consume_events=False)),
        "points": points_app(env.settings(PointsSettings, urls["points"], consume_events=False)),
        "feedback": feedback_app(env.settings(FeedbackSettings, urls["feedback"], consume_events=False)),
        "campaigns": campaigns_app(env.settings(CampaignsSettings, urls["campaigns"], consume_events=False)),
        "gateway": gateway_app(env.settings(GatewaySettings, urls["gateway"], consume_events=False)),
    }

    def inprocess(name: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[name]), base_url=f"http://{name}")

    apps["gateway"].state.downstream = Downstream(
        members=inprocess("members"), points=inprocess("points"), feedback=inprocess("feedback"),
        campaigns=inprocess("campaigns"),
    )
    stack = AsyncExitStack()
    for app in apps.values():
        await stack.enter_async_context(running(app, wait_for_consumer=False))
    # Exceptions come back as the 500 a real server would send, so one run lists every failure.
    clients = {
        name: await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://test"))
        for name, app in apps.items()
    }
    result = Stack(asyncio.get_running_loop(), apps, clients, env, stack)
    # A store for the till's sales, so that POS requests get past the store check into the domain.
    r = await clients["gateway"].put(f"/api/v1/stores/{STORE}", json={"name": "fuzz"},
                                     headers={"Authorization": f"Bearer {result.token('/', False)}"})
    assert r.status_code == 200, r.text
    return result


@pytest.fixture(scope="module")
def fuzz_stack(broker: Broker, tmp_path_factory: pytest.TempPathFactory, database_dir: Path,
               request: pytest.FixtureRequest) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    postgres = request.getfixturevalue("postgres") if BACKEND == "postgres" else None
    # In the data directory, where the gateway finds the private half to issue tokens with.
    private, public = ensure_dev_keypair(data_dir / "keys")
    env = TestEnv(data_dir=data_dir, broker=broker, prefix=f"f{uuid.uuid4().hex[:10]}.", public_key=public,
                  issuer=TokenIssuer(private))
    loop = asyncio.new_event_loop()
    try:
        stack = loop.run_until_complete(_start(env, database_dir, postgres))
        yield stack
        loop.run_until_complete(stack.stack.aclose())
    finally:
        loop.close()


def _request_kwargs(case: Any, token: str) -> dict[str, Any]:
    kwargs = case.as_transport_kwargs(base_url="http://test", headers={"Authorization": f"Bearer {token}"})
    request: dict[str, Any] = {
        "method": kwargs["method"], "url": kwargs["url"], "headers": kwargs.get("headers") or {},
        "params": kwargs.get("params"),
    }
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), dict):
        # A form body (the gateway's token endpoint): encoded as the client would, whatever the values.
        request["content"] = urlencode(kwargs["data"], doseq=True)
    elif kwargs.get("data") is not None:
        request["content"] = kwargs["data"]
    return request


def _pin_store(case: Any) -> None:
    """A till may only post for its own store: pin store_id so that the rest of the body is what
    gets exercised, instead of a 403 on almost every example."""
    if isinstance(case.body, dict) and "store_id" in case.body:
        case.body["store_id"] = STORE


def _fuzz_operation(stack: Stack, client: httpx.AsyncClient, operation: Any, token: str, mode: GenerationMode,
                    failures: list[str]) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        if operation.path.startswith("/pos/"):
            _pin_store(case)
        response = stack.loop.run_until_complete(client.request(**_request_kwargs(case, token)))
        if operation.path == "/health/ready" and response.status_code == 503 and response.json().get("status") == "not ready":
            return  # readiness answers 503 whenever a dependency is away (the relay reconnecting): its job, not a fault
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except FailureGroup:
            failures.append(
                f"{case.method} {case.formatted_path} query={case.query} body={str(case.body)[:300]!r} "
                f"-> {response.status_code} {response.text[:300]}"
            )

    try:
        check()
    except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
        pass


def _fuzz(stack: Stack, service: str, *, as_member: bool = False) -> list[str]:
    app = stack.apps[service]
    schema = schemathesis.openapi.from_dict(app.openapi())
    refused = _refused_to_members(app) if as_member else set()
    failures: list[str] = []
    fuzzed = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in refused:
            continue
        fuzzed += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(stack, stack.clients[service], operation, stack.token(operation.path, as_member), mode, failures)
    assert fuzzed, f"no operation of {service} left to fuzz"  # a run that tries nothing proves nothing
    return failures


def _refused_to_members(app: FastAPI) -> set[tuple[str, str]]:
    """Operations whose action the policy grants no member: the route's guard refuses a member's
    token whatever else the request holds (tests/contracts/test_access_policy.py: every route has
    its guard), so generating requests for them, most of the time of a run, would search nothing."""
    return {
        (method, route.path)
        for route in api_routes(app)
        if (action := action_of(route)) is not None and Role.MEMBER not in POLICY[action]
        for method in route.methods
    }


@pytest.mark.parametrize("service", ["members", "points", "feedback", "campaigns", "gateway"])
def test_no_generated_request_gets_a_server_error(fuzz_stack: Stack, service: str) -> None:
    failures = _fuzz(fuzz_stack, service)
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures)


@pytest.mark.parametrize("service", ["members", "points", "feedback", "gateway"])
def test_no_generated_request_from_a_member_gets_a_server_error(fuzz_stack: Stack, service: str) -> None:
    failures = _fuzz(fuzz_stack, service, as_member=True)
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures)
