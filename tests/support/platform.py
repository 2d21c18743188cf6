"""Services of the platform run in-process against real databases and, for tests marked `kafka`,
the real broker.

Each test gets its own topic prefix (and so its own consumer groups) on the session's broker, its
own databases, and a fresh signing key. Only tests marked `kafka` start the broker: the others get
services whose Kafka address is a closed port (`NO_BROKER`), where the outbox relay keeps its rows
and retries with backoff, as it does whenever the broker is away, and the API works as usual.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI

from shared.auth import Role, TokenIssuer, ensure_dev_keypair
from shared.settings import ServiceSettings
from shared.tls import client_tls
from tests.support.infra import Broker
from tests.support.polling import eventually

S = TypeVar("S", bound=ServiceSettings)

PEPPER = "test-identity-pepper-0123456789"
# A closed port: the services' address for the broker in tests not marked `kafka`. Connecting is
# refused at once, so the relay's retries cost nothing and nothing ever reaches a broker.
NO_BROKER = "127.0.0.1:1"


@dataclass
class TestEnv:
    __test__ = False  # a fixture value, not a test class

    data_dir: Path
    broker: Broker | None  # None unless the test is marked `kafka`
    prefix: str
    public_key: str
    issuer: TokenIssuer
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self, cls: type[S], database_url: str, **overrides: Any) -> S:
        values: dict[str, Any] = dict(
            environment="test",
            # The gateway's staff accounts: argon2's cheapest work (the tests of hashing itself
            # use RFC 9106's).
            password_hashing="test-minimal",
            data_dir=self.data_dir,
            database_url=database_url,
            kafka_bootstrap=self.broker.bootstrap if self.broker is not None else NO_BROKER,
            kafka_topic_prefix=self.prefix,
            kafka_session_timeout_ms=6000,
            kafka_heartbeat_interval_ms=500,
            jwt_public_key=self.public_key,
            identity_pepper=PEPPER,
            log_json=False,
            outbox_poll_interval_s=0.2,
            jobs_enabled=False,  # tests run jobs explicitly, with their own clock
        )
        values.update(self.overrides)
        values.update(overrides)
        return cls(**values)

    def auth(self, role: Role, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.mint(f'test-{role.value}', role, **claims)}"}


@pytest.fixture
def env(tmp_path: Path, request: pytest.FixtureRequest) -> TestEnv:
    """The test's environment; the session's broker is started (once) only for tests marked `kafka`."""
    broker: Broker | None = request.getfixturevalue("broker") if request.node.get_closest_marker("kafka") else None
    private, public = ensure_dev_keypair(tmp_path / "keys")
    return TestEnv(
        data_dir=tmp_path, broker=broker, prefix=f"t{uuid.uuid4().hex[:10]}.", public_key=public, issuer=TokenIssuer(private)
    )


@asynccontextmanager
async def running(app: FastAPI, *, wait_for_consumer: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """Runs the app's lifespan (migrations, relay, consumer) and yields an in-process client."""
    if wait_for_consumer and app.state.settings.consume_events and app.state.settings.kafka_bootstrap == NO_BROKER:
        raise RuntimeError("a running consumer needs the broker: mark the test @pytest.mark.kafka")
    async with app.router.lifespan_context(app):
        if wait_for_consumer and app.state.consumer is not None:
            await eventually(lambda: _assigned(app), timeout=30, what="consumer partition assignment")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield client


@asynccontextmanager
async def service(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """One service alone, for API and handler tests: its client, with the app at `client.app`.
    Its consumer does not join the broker (a group join takes seconds on Tansu): tests hand events
    to `app.state.consumer.apply_batch`, the same exactly-once path the broker's records take."""
    app.state.settings.consume_events = False
    async with running(app, wait_for_consumer=False) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


def away(base_url: str = "http://127.0.0.1:9", **options: Any) -> httpx.AsyncClient:
    """A client of a service that is not there (by default a closed port), for a page or a call that
    must cope without it. With the platform's one TLS context, as the services' own clients: a
    client built without one loads the trusted certificates again, 35 ms of CPU each time."""
    return httpx.AsyncClient(base_url=base_url, verify=client_tls(), **options)


@asynccontextmanager
async def gateway_reaching(env: TestEnv, database_factory, **reached: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway alone (`service`), reaching the apps named by service (`points=...`) in process
    and every other service at a closed port: a page that asks one of those says it is away."""
    from gateway.adapters.clients import Downstream
    from gateway.config import Settings as GatewaySettings
    from gateway.main import create_app as gateway_app

    gateway = gateway_app(env.settings(GatewaySettings, await database_factory("gateway")))
    clients = {name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
               for name, app in reached.items()}
    gateway.state.downstream = Downstream(**{name: clients.get(name) or away() for name in ("members", "points", "campaigns")})
    async with service(gateway) as gw:
        yield gw


async def _assigned(app: FastAPI) -> bool:
    return app.state.consumer.assigned


@dataclass
class Platform:
    gateway: httpx.AsyncClient
    members: httpx.AsyncClient
    points: httpx.AsyncClient
    apps: dict[str, FastAPI]
    env: TestEnv
    feedback: httpx.AsyncClient | None = None
    campaigns: httpx.AsyncClient | None = None


@asynccontextmanager
async def platform(env: TestEnv, database_factory, *, points_url: str | None = None) -> AsyncIterator[Platform]:
    """Members, points, feedback, campaigns and the gateway wired together. `points_url` points the gateway at a
    real address instead (e.g. a closed port, to see the 360 view with points down)."""
    from campaigns.config import Settings as CampaignsSettings
    from campaigns.main import create_app as campaigns_app
    from feedback.config import Settings as FeedbackSettings
    from feedback.main import create_app as feedback_app
    from gateway.adapters.clients import Downstream
    from gateway.config import Settings as GatewaySettings
    from gateway.main import create_app as gateway_app
    from members.config import Settings as MembersSettings
    from members.main import create_app as members_app
    from points.adapters.coupon_templates import CouponTemplates
    from points.adapters.member_names import MemberNames
    from points.config import Settings as PointsSettings
    from points.main import create_app as points_app

    members = members_app(env.settings(MembersSettings, await database_factory("members")))
    campaigns = campaigns_app(env.settings(CampaignsSettings, await database_factory("campaigns")))
    # Points asks members for customers' names when it prints the gift register, and campaigns
    # whether a coupon item's template exists.
    names = MemberNames("http://members", timeout_s=3.0, transport=httpx.ASGITransport(app=members))
    templates = CouponTemplates("http://campaigns", timeout_s=3.0, transport=httpx.ASGITransport(app=campaigns))
    apps = {
        "members": members,
        "points": points_app(env.settings(PointsSettings, await database_factory("points")), member_names=names,
                             coupon_templates=templates),
        "feedback": feedback_app(env.settings(FeedbackSettings, await database_factory("feedback"))),
        "campaigns": campaigns,
        "gateway": gateway_app(env.settings(GatewaySettings, await database_factory("gateway"), downstream_timeout_s=3.0)),
    }
    # Injected before start-up, so the gateway uses these instead of opening its own; it closes
    # them at shutdown like its own.
    apps["gateway"].state.downstream = Downstream(
        members=httpx.AsyncClient(transport=httpx.ASGITransport(app=apps["members"]), base_url="http://members"),
        points=away(points_url, timeout=1.0)
        if points_url
        else httpx.AsyncClient(transport=httpx.ASGITransport(app=apps["points"]), base_url="http://points"),
        feedback=httpx.AsyncClient(transport=httpx.ASGITransport(app=apps["feedback"]), base_url="http://feedback"),
        campaigns=httpx.AsyncClient(transport=httpx.ASGITransport(app=apps["campaigns"]), base_url="http://campaigns"),
    )
    async with AsyncExitStack() as stack:
        clients = {name: await stack.enter_async_context(running(app, wait_for_consumer=False)) for name, app in apps.items()}
        # Each consumer's group join takes seconds on Tansu: wait for all of them at once rather than
        # one service after another (what running() would do), then go on as before.
        if env.broker is None:
            raise RuntimeError("the platform's consumers need the broker: mark the test @pytest.mark.kafka")
        await asyncio.gather(*(
            eventually(lambda app=app: _assigned(app), timeout=30, what=f"{name} consumer partition assignment")
            for name, app in apps.items() if app.state.consumer is not None
        ))
        yield Platform(clients["gateway"], clients["members"], clients["points"], apps, env, feedback=clients["feedback"],
                       campaigns=clients["campaigns"])
