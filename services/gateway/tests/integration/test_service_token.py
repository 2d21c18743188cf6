"""`shared.service_token` against the real gateway: a service gets its token, keeps it while it is
fresh, renews it before it expires with one request however many callers wait, and says clearly
when the identity endpoint refuses."""

import asyncio
import base64

import httpx
import pytest

from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role, TokenVerifier
from shared.service_token import ServiceTokenError, ServiceTokenSource
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration


class Counting(httpx.AsyncBaseTransport):
    """The gateway app in process, counting the token requests it receives."""

    def __init__(self, app) -> None:
        self.inner, self.requests = httpx.ASGITransport(app=app), 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    settings = env.settings(Settings, await database_factory("gateway"), identity_token_ttl_s=600)
    async with service(create_app(settings)) as client:
        yield client


@pytest.fixture
async def credential(gateway, env: TestEnv) -> dict:
    r = await gateway.post("/identity/v1/clients", json={"kind": "service", "service": "campaigns"}, headers=env.auth(Role.ADMIN))
    assert r.status_code == 201, r.text
    return r.json()


def source(gateway, credential: dict, transport: httpx.AsyncBaseTransport, ticker: Ticker, secret: str | None = None):
    http = httpx.AsyncClient(transport=transport)
    return ServiceTokenSource(
        "http://gateway/", credential["client_id"], secret or credential["client_secret"], client=http, monotonic=ticker,
    ), http


async def test_the_token_is_a_service_token_kept_while_fresh_and_renewed_before_it_expires(gateway, env, credential) -> None:
    transport, ticker = Counting(gateway.app), Ticker()
    tokens, http = source(gateway, credential, transport, ticker)
    async with http:
        first = await tokens.token()
        principal = TokenVerifier(env.public_key, "crm-identity", "crm").verify(first)
        assert (principal.role, principal.subject) == (Role.SERVICE, "campaigns")
        ticker.now += 530  # 600 s token, renewed 60 s before its end
        assert await tokens.token() == first and transport.requests == 1
        ticker.now += 15
        await tokens.token()
        assert transport.requests == 2
        tokens.forget()
        await tokens.token()
        assert transport.requests == 3


async def test_many_callers_at_once_cause_one_request(gateway, credential) -> None:
    transport, ticker = Counting(gateway.app), Ticker()
    tokens, http = source(gateway, credential, transport, ticker)
    async with http:
        got = await asyncio.gather(*(tokens.token() for _ in range(20)))
    assert len(set(got)) == 1 and transport.requests == 1


async def test_a_refused_credential_is_a_clear_error_naming_the_endpoint_and_client(gateway, env, credential) -> None:
    tokens, http = source(gateway, credential, Counting(gateway.app), Ticker(), secret="not-the-secret")
    async with http:
        with pytest.raises(ServiceTokenError) as refused:
            await tokens.token()
    message = str(refused.value)
    assert "http://gateway/identity/v1/token" in message and credential["client_id"] in message
    assert "401" in message and "client authentication failed" in message

    # Revoked: the cached token is used until it is due for renewal, then the refusal is raised.
    ticker = Ticker()
    tokens, http = source(gateway, credential, Counting(gateway.app), ticker)
    async with http:
        await tokens.token()
        r = await gateway.post(f"/identity/v1/clients/{credential['client_id']}/revoke", headers=env.auth(Role.ADMIN))
        assert r.status_code == 200
        ticker.now += 600
        with pytest.raises(ServiceTokenError, match="401"):
            await tokens.token()


async def test_an_unreachable_endpoint_is_a_clear_error(credential) -> None:
    async with httpx.AsyncClient(base_url="http://127.0.0.1:1", timeout=1.0) as http:
        tokens = ServiceTokenSource("http://127.0.0.1:1", credential["client_id"], "s", client=http)
        with pytest.raises(ServiceTokenError, match="unreachable"):
            await tokens.token()


async def test_the_credential_travels_in_http_basic_form_encoded(gateway, credential) -> None:
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request.headers["authorization"])

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app), event_hooks={"request": [record]}) as http:
        tokens = ServiceTokenSource("http://gateway", credential["client_id"], credential["client_secret"], client=http)
        await tokens.token()
    decoded = base64.b64decode(seen[0].removeprefix("Basic ")).decode()
    assert decoded == f"{credential['client_id']}:{credential['client_secret']}"


def test_a_source_without_its_settings_refuses_to_be_made() -> None:
    with pytest.raises(ValueError, match="identity URL"):
        ServiceTokenSource("", "svc_a", "secret")
