"""A sale or return dated in the future, beyond the tills' allowed clock skew, is refused."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from tests.support.factories import refund_body, sale_body
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    settings = env.settings(Settings, await database_factory("gateway"), clock_skew_s=300)
    async with service(create_app(settings)) as client:
        r = await client.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text
        yield client


def at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def test_a_sale_dated_beyond_the_clock_skew_is_422_on_occurred_at(gateway, env: TestEnv) -> None:
    r = await gateway.post("/pos/v1/purchases", json=sale_body(occurred_at=at(timedelta(minutes=10))),
                           headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "occurred_at"] and "in the future beyond the allowed clock skew" in error["msg"]


async def test_a_sale_from_a_till_a_little_ahead_is_accepted(gateway, env: TestEnv) -> None:
    r = await gateway.post("/pos/v1/purchases", json=sale_body(occurred_at=at(timedelta(minutes=4))),
                           headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 202, r.text


async def test_a_return_dated_beyond_the_clock_skew_is_422_on_occurred_at(gateway, env: TestEnv) -> None:
    pos = env.auth(Role.POS, store_id="S001")
    sale = sale_body()
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=pos)).status_code == 202
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, occurred_at=at(timedelta(days=365))), headers=pos)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "occurred_at"]


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                                         "1970-01-01T07:59:59+08:00"])
async def test_a_sale_dated_before_1970_is_422_on_occurred_at(gateway, env: TestEnv, occurred_at: str) -> None:
    # Year 1 east of Greenwich used to fail converting to UTC (a 500 the till retries forever),
    # and year 1 at UTC was recorded as the customer's first purchase.
    r = await gateway.post("/pos/v1/purchases", json=sale_body(occurred_at=occurred_at),
                           headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    # The bound is a moment: 1970 already, at +08:00, is still before it.
    assert error["loc"] == ["body", "occurred_at"] and "before 1970-01-01T00:00:00Z" in error["msg"]
