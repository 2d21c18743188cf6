"""The till's points preview refuses what it would otherwise silently ignore, and passes the
basket's discounts on: points are earned on what is paid."""

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from tests.support.factories import line
from tests.support.identity import answering
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


async def test_the_baskets_discounts_reach_points_checked_as_a_sales_are(gateway, env: TestEnv) -> None:
    sent: list[dict] = []

    def points(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"points": 69})

    async with answering(gateway, "points", points):
        pos = env.auth(Role.POS, store_id="S001")
        basket = {"store_id": "S001", "lines": [line()], "coupons": ["K7QM2XWD9P"],
                  "discounts": [{"code": "K7QM2XWD9P", "amount": "10.00"}, {"amount": "0.80", "label": "会员价"}]}
        r = await gateway.post("/pos/v1/points/preview", json=basket, headers=pos)
        assert r.status_code == 200, r.text
        assert sent[0]["discount"] == "10.80" and sent[0]["lines"][0]["amount"] == "79.80"
        stray = {**basket, "coupons": []}  # a coupon's discount without the coupon, as a sale refuses it
        r = await gateway.post("/pos/v1/points/preview", json=stray, headers=pos)
        assert r.status_code == 422 and "not among the sale's coupons" in r.text
        assert len(sent) == 1


async def test_a_basket_dated_beyond_the_clock_skew_is_422_as_its_sale_would_be(gateway, env: TestEnv) -> None:
    # Passed on, it was priced by whatever rule is in force then (one not yet in force today),
    # for a sale the gateway then refuses; a till a little ahead is still answered.
    sent: list[dict] = []

    def points(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"points": 79})

    async with answering(gateway, "points", points):
        pos = env.auth(Role.POS, store_id="S001")
        skew = timedelta(seconds=gateway.app.state.settings.clock_skew_s)
        ahead = {"store_id": "S001", "lines": [line()], "occurred_at": (datetime.now(UTC) + skew + timedelta(days=1)).isoformat()}
        r = await gateway.post("/pos/v1/points/preview", json=ahead, headers=pos)
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert error["loc"] == ["body", "occurred_at"] and "in the future beyond the allowed clock skew" in error["msg"]
        assert sent == []
        a_little = {**ahead, "occurred_at": (datetime.now(UTC) + skew / 2).isoformat()}
        r = await gateway.post("/pos/v1/points/preview", json=a_little, headers=pos)
        assert r.status_code == 200, r.text
        assert len(sent) == 1


@pytest.mark.parametrize(("failure", "status", "said"), [
    (httpx.ConnectError("refused"), 503, "points service unavailable: ConnectError"),
    (httpx.ReadTimeout("slow"), 504, "points service did not answer within 2.0s"),
])
async def test_points_away_is_503_and_points_too_slow_504(gateway, env: TestEnv, failure, status, said) -> None:
    # 504: the till's preview books nothing, but it must know the service was reached.
    def points(request: httpx.Request) -> httpx.Response:
        raise failure

    async with answering(gateway, "points", points):
        r = await gateway.post("/pos/v1/points/preview", json={"store_id": "S001", "lines": [line()]},
                               headers=env.auth(Role.POS, store_id="S001"))
    assert (r.status_code, r.json()["detail"]) == (status, said)
