"""The till's points preview refuses what it would otherwise silently ignore."""

import pytest

from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from tests.support.factories import line
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    settings = env.settings(Settings, await database_factory("gateway"))
    async with service(create_app(settings)) as client:
        yield client


async def test_a_card_sent_as_a_sales_member_is_422_naming_the_field(gateway, env: TestEnv) -> None:
    # Ignored, it made the preview answer for no card at all: member_known false, retail rates.
    basket = {"store_id": "S001", "member": {"card_no": "8800000012345"}, "lines": [line()]}
    r = await gateway.post("/pos/v1/points/preview", json=basket, headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "member"] and error["type"] == "extra_forbidden"
