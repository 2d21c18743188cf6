"""Sales and returns a till published straight to Kafka (docs/events.md): the gateway reads them
and keeps them as if they had come through the API. A till falling back to HTTP with the same
sale is answered as a retry, another sale under its id is refused (409) instead of accepted and
then dead-lettered by members, and a return at a desk through the API finds its sale and is held
to what the published returns left of it."""

from decimal import Decimal

import pytest
from sqlmodel import select

from gateway.adapters.tables import PosSaleRow
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import PURCHASE_MADE, PURCHASE_REFUNDED
from shared.outbox import OutboxRecord
from tests.support.factories import line, refund_body, sale_body
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

CARD = "8800000012345"


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


def pos(env: TestEnv) -> dict[str, str]:
    return env.auth(Role.POS, store_id="S001")


async def publish(client, env: TestEnv, event_type: str, payload: c.Contract, event_id: str) -> None:
    """As a vendor's till publishes it: its own source, its till's token as the credential."""
    consumer = client.app.state.consumer
    credential = pos(env)["Authorization"].removeprefix("Bearer ")
    event = new_event(event_type, payload, source="pos/vendor-a/S001", credential=credential, event_id=event_id)
    await consumer.apply_batch([consumer.delivery(event)])


def as_event(sale: dict, customer: dict | None = None) -> c.PurchaseMadeV1:
    """The sale a till would have posted, as it publishes it: the customer as the event names them."""
    return c.PurchaseMadeV1.model_validate({k: v for k, v in sale.items() if k != "member"} | {"customer": customer})


async def queued(client) -> list[str]:
    """The POS events the gateway queued itself."""
    async with client.app.state.sessions() as session:
        return [r.event_type for r in (await session.exec(select(OutboxRecord))).all() if r.event_type.startswith("crm.pos.")]


async def test_the_same_sale_posted_after_it_was_published_is_a_retry_and_another_is_refused(gateway, env: TestEnv) -> None:
    sale = sale_body(member={"card_no": CARD})
    await publish(gateway, env, PURCHASE_MADE, as_event(sale, {"card_no": CARD}), "vendor-event-1")
    same = await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))
    assert same.status_code == 202, same.text
    assert same.json() == {"event_id": "vendor-event-1", "duplicate": True}
    other = {**sale, "lines": [line(qty="3")], "total": "119.70"}
    r = await gateway.post("/pos/v1/purchases", json=other, headers=pos(env))
    assert r.status_code == 409 and "already accepted with different content" in r.text, r.text
    assert await queued(gateway) == []  # members has the sale from the till: nothing sent again


async def test_a_sale_published_by_phone_digest_cannot_be_compared_and_its_id_is_refused(gateway, env: TestEnv) -> None:
    sale = sale_body()
    await publish(gateway, env, PURCHASE_MADE, as_event(sale, {"phone_hmac": "ab" * 32}), "vendor-event-2")
    r = await gateway.post("/pos/v1/purchases", json={**sale, "member": {"phone": "13912345678"}}, headers=pos(env))
    assert r.status_code == 409 and "published to Kafka" in r.text, r.text


async def test_a_published_sale_is_returned_at_a_desk_within_what_its_published_returns_left(gateway, env: TestEnv) -> None:
    sale = sale_body(member={"card_no": CARD}, lines=[line(qty="2", unit_price="10.00")])  # 20.00
    await publish(gateway, env, PURCHASE_MADE, as_event(sale, {"card_no": CARD}), "vendor-event-3")
    # The till returns one of the two straight to Kafka as well.
    published_return = refund_body(sale, lines=[line(qty="1", unit_price="10.00")])
    await publish(gateway, env, PURCHASE_REFUNDED, c.PurchaseRefundedV1.model_validate(
        {**published_return, "customer": {"card_no": CARD}}), "vendor-event-4")
    async with gateway.app.state.sessions() as session:
        kept = (await session.exec(select(PosSaleRow).where(PosSaleRow.pos_txn_id == sale["pos_txn_id"]))).one()
    assert kept.refunded_total == Decimal("10.00")
    # At the desk, both again: one is left.
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale), headers=pos(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "lines", 0, "qty"], r.text
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(qty="1", unit_price="10.00")]), headers=pos(env))
    assert r.status_code == 202, r.text
    assert await queued(gateway) == ["crm.pos.purchase_refunded.v1"]  # to the card's key, as the sale
    # The published return posted as the till's fallback: the same return, answered as a retry.
    r = await gateway.post("/pos/v1/refunds", json=published_return, headers=pos(env))
    assert r.status_code == 202 and r.json() == {"event_id": "vendor-event-4", "duplicate": True}, r.text


async def test_a_published_return_over_what_is_left_takes_nothing_back(gateway, env: TestEnv) -> None:
    """Members dead-letters it: the sale keeps all of its amount for the returns to come."""
    sale = sale_body(lines=[line(qty="1", unit_price="10.00")])
    await publish(gateway, env, PURCHASE_MADE, as_event(sale), "vendor-event-5")
    greedy = refund_body(sale, lines=[line(qty="3", unit_price="10.00")])
    await publish(gateway, env, PURCHASE_REFUNDED, c.PurchaseRefundedV1.model_validate(greedy), "vendor-event-6")
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale), headers=pos(env))
    assert r.status_code == 202, r.text
