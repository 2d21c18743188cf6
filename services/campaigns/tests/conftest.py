"""The campaigns service on the test's backend (the driver: tests/support/campaigns.py)."""

from typing import Any

import pytest

from campaigns.config import Settings
from campaigns.main import create_app
from tests.support.campaigns import CampaignsDriver, Clock
from tests.support.platform import TestEnv, service


def campaigns_settings(env: TestEnv, url: str, **overrides: Any) -> Settings:
    return env.settings(Settings, url, **overrides)


@pytest.fixture
async def cmp(env: TestEnv, database_factory):
    clock = Clock()
    async with service(create_app(campaigns_settings(env, await database_factory("campaigns")), clock=clock)) as client:
        yield CampaignsDriver(client, env, clock)
