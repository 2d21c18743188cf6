"""A sale that redeems coupons: the till's body is held to the event's own discount rules (a 422
naming the field, never a 202 for a sale the event would refuse) and the event carries the codes
and discounts as sent."""

import pytest
from sqlmodel import col, select

from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from shared.events.envelope import Envelope
from shared.outbox import OutboxRecord
from tests.support.factories import sale_body
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration

COUPON = {"code": "K7QM2XWD9P", "amount": "10.00", "label": "满50减10"}


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with service(create_app(env.settings(Settings, await database_factory("gateway")))) as client:
        r = await client.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text
        yield client


async def published(client) -> list[dict]:
    async with client.app.state.sessions() as session:
        rows = (await session.exec(
            select(OutboxRecord).where(col(OutboxRecord.event_type).startswith("crm.pos.")).order_by(OutboxRecord.id))).all()
    return [Envelope.model_validate_json(row.envelope).data for row in rows]


async def test_the_sale_event_carries_its_coupons_and_discounts(gateway, env: TestEnv) -> None:
    sale = sale_body(member={"card_no": "8800000012345"}, coupons=[" k7qm2xwd9p "],
                     discounts=[COUPON, {"amount": "2.00", "label": "会员日"}])
    r = await gateway.post("/pos/v1/purchases", json=sale, headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 202, r.text
    [event] = await published(gateway)
    # The code is normalised as the till's customer typed it; the event carries the canonical form.
    assert event["coupons"] == ["K7QM2XWD9P"]
    assert event["discounts"] == [COUPON, {"code": None, "amount": "2.00", "label": "会员日"}]
    assert event["total"] == "79.80"


async def test_a_sale_without_coupons_publishes_empty_lists(gateway, env: TestEnv) -> None:
    r = await gateway.post("/pos/v1/purchases", json=sale_body(), headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 202, r.text
    [event] = await published(gateway)
    assert event["coupons"] == [] and event["discounts"] == []


@pytest.mark.parametrize(("coupons", "discounts", "message"), [
    (["K7QM2XWD9P", "k7qm2xwd9p"], [], "coupons: a code is listed twice"),
    ([], [COUPON], "discounts: code K7QM2XWD9P is not among the sale's coupons"),
    (["K7QM2XWD9P"], [{**COUPON, "amount": "70.00"}, {"amount": "9.81"}], "discounts: 79.81 is more than the total 79.80"),
])
async def test_coupons_and_discounts_that_do_not_fit_the_sale_are_422(
    gateway, env: TestEnv, coupons: list, discounts: list, message: str
) -> None:
    r = await gateway.post("/pos/v1/purchases", json=sale_body(coupons=coupons, discounts=discounts),
                           headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 422, r.text
    assert message in r.json()["detail"][0]["msg"]
    assert await published(gateway) == []


@pytest.mark.parametrize(("field", "value"), [
    ("coupons", ["AB"]),  # shorter than a code can be
    ("coupons", ["SPRING-20"]),  # not letters and digits
    ("discounts", [{"amount": "0.00"}]),  # a discount takes something off
    ("discounts", [{"amount": "-5.00"}]),
])
async def test_a_malformed_code_or_discount_is_422_naming_the_field(gateway, env: TestEnv, field: str, value: list) -> None:
    r = await gateway.post("/pos/v1/purchases", json=sale_body(**{field: value}), headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][:2] == ["body", field]


async def test_a_sale_retried_with_different_discounts_is_a_conflict(gateway, env: TestEnv) -> None:
    sale = sale_body(coupons=["K7QM2XWD9P"], discounts=[COUPON])
    till = env.auth(Role.POS, store_id="S001")
    assert (await gateway.post("/pos/v1/purchases", json=sale, headers=till)).status_code == 202
    again = await gateway.post("/pos/v1/purchases", json={**sale, "discounts": [{**COUPON, "amount": "20.00"}]}, headers=till)
    assert again.status_code == 409, again.text
