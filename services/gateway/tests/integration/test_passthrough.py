"""The gateway's pass-through to the services: clear errors when a service is unknown or down.
(Forwarding itself, with tokens, bodies and report downloads, is exercised end to end in
tests/e2e/test_vip_tracking_flow.py.)"""

import socket

import pytest

from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from tests.support.platform import TestEnv, service
from tests.support.points_console import gateway_over_points

pytestmark = pytest.mark.integration


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    down = f"http://127.0.0.1:{closed_port()}"
    settings = env.settings(Settings, await database_factory("gateway"), members_url=down, points_url=down, feedback_url=down)
    async with service(create_app(settings)) as client:
        yield client


async def test_an_unknown_service_is_404_naming_the_known_ones(gateway, env: TestEnv) -> None:
    r = await gateway.get("/api/billing/v1/invoices", headers=env.auth(Role.ADMIN))
    assert r.status_code == 404 and "members, points, feedback" in r.json()["detail"]


async def test_a_method_the_gateways_own_route_does_not_take_is_405_not_an_unknown_service(gateway, env: TestEnv) -> None:
    r = await gateway.delete("/api/v1/stores", headers=env.auth(Role.ADMIN))
    assert r.status_code == 405 and r.headers["allow"] == "GET", (r.status_code, r.headers, r.text)
    r = await gateway.post("/api/v1/stores/S001", headers=env.auth(Role.ADMIN))
    assert r.status_code == 405 and r.headers["allow"] == "PUT", (r.status_code, r.headers, r.text)
    assert (await gateway.get("/api/v1/no-such-thing", headers=env.auth(Role.ADMIN))).status_code == 404


@pytest.mark.parametrize("service_name", ["members", "points", "feedback"])
async def test_a_service_that_is_down_is_503_naming_it(gateway, env: TestEnv, service_name: str) -> None:
    r = await gateway.post(f"/api/{service_name}/v1/anything", json={}, headers=env.auth(Role.ADMIN))
    assert r.status_code == 503 and r.json()["detail"].startswith(f"{service_name} service unavailable")


async def test_a_services_redirect_points_at_the_gateways_own_address(env: TestEnv, database_factory) -> None:
    """A trailing slash the service redirects away: forwarded without its Location, the redirect
    led nowhere, and the service's own address is no caller's to reach."""
    async with gateway_over_points(env, database_factory) as (gw, _):
        r = await gw.get("/api/points/v1/gifts/", headers=env.auth(Role.ADMIN), follow_redirects=False)
        assert r.status_code == 307 and r.headers["location"] == "/api/points/v1/gifts", r.headers
        followed = await gw.get("/api/points/v1/gifts/", headers=env.auth(Role.ADMIN), follow_redirects=True)
        assert followed.status_code == 200, followed.text
