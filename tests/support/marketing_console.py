"""A gateway whose console reaches a real campaigns app, in process: the stack of the marketing
pages' tests (members and points are not there; a page that asks them says so)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from campaigns.config import Settings as CampaignsSettings
from campaigns.main import create_app as campaigns_app
from tests.support.audience import attributes, consent, registered
from tests.support.campaigns import CampaignsDriver, Clock
from tests.support.platform import TestEnv, gateway_reaching, service


@asynccontextmanager
async def gateway_over_campaigns(env: TestEnv, database_factory: Callable[[str], Awaitable[Any]]) -> AsyncIterator[tuple[Any, CampaignsDriver]]:
    clock = Clock()
    async with service(campaigns_app(env.settings(CampaignsSettings, await database_factory("campaigns")), clock=clock)) as cmp:
        async with gateway_reaching(env, database_factory, campaigns=cmp.app) as gw:  # type: ignore[attr-defined]
            yield gw, CampaignsDriver(cmp, env, clock)


async def key_customers_at_risk(cmp: CampaignsDriver) -> None:
    """Three key customers at high risk, two of whom agreed to marketing SMS."""
    await cmp.apply(*(e for m in ("m-1", "m-2", "m-3") for e in (registered(m), attributes(m, value_class="key", churn_risk="high"))),
                    consent("m-1", "marketing_sms", True), consent("m-2", "marketing_sms", True))
