"""An erased member's sales at the gateway: it keeps the card number or phone digest each sale was
posted with (the transaction's idempotency record), and forgets them when members names the sales
(`member_sales_erased`), as members does on its purchases. A return of such a sale then names no
customer."""

import json

import pytest
from sqlmodel import select

from gateway.adapters.tables import PosSaleRow
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import MEMBER_SALES_ERASED, PURCHASE_REFUNDED
from shared.outbox import OutboxRecord
from tests.support.factories import refund_body, sale_body
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

CARD, OTHER_CARD, PHONE = "8800000055555", "8800000066666", "13612345678"


@pytest.fixture
async def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def gateway(env: TestEnv, database_factory, clock: MovableClock):
    async with gateway_with_stores(env, await database_factory("gateway"), clock) as client:
        yield client


async def post_sale(gateway, env: TestEnv, store: str, member: dict[str, str]) -> dict:
    sale = sale_body(store, member=member)
    r = await gateway.post("/pos/v1/purchases", json=sale, headers=env.auth(Role.POS, store_id=store))
    assert r.status_code == 202, r.text
    return sale


async def customers(gateway) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    async with gateway.app.state.sessions() as session:
        rows = (await session.exec(select(PosSaleRow))).all()
    return {(r.store_id, r.pos_txn_id): (r.card_no, r.phone_hmac) for r in rows}


async def told(gateway, clock: MovableClock, *sales: dict, event_id: str = "member-sales-erased:m-1:0") -> None:
    consumer = gateway.app.state.consumer
    payload = c.MemberSalesErasedV1(member_id="m-1", erased_at=clock.now, sales=[
        c.SaleKey(store_id=s["store_id"], pos_txn_id=s["pos_txn_id"]) for s in sales])
    await consumer.apply_batch([consumer.delivery(
        new_event(MEMBER_SALES_ERASED, payload, source="crm/members", subject="m-1", event_id=event_id))])


async def test_the_erased_members_sales_forget_their_card_and_phone_and_no_other_sale_does(
    gateway, env: TestEnv, clock: MovableClock,
) -> None:
    by_card = await post_sale(gateway, env, "S001", {"card_no": CARD})
    elsewhere = await post_sale(gateway, env, "S002", {"card_no": CARD})
    by_phone = await post_sale(gateway, env, "S001", {"phone": PHONE})
    someone_else = await post_sale(gateway, env, "S001", {"card_no": OTHER_CARD})
    before = await customers(gateway)
    assert before[("S001", by_phone["pos_txn_id"])][1] is not None

    await told(gateway, clock, by_card, elsewhere)
    await told(gateway, clock, by_phone, event_id="member-sales-erased:m-1:1")
    after = await customers(gateway)
    for sale in (by_card, elsewhere, by_phone):
        assert after[(sale["store_id"], sale["pos_txn_id"])] == (None, None)
    assert after[("S001", someone_else["pos_txn_id"])] == (OTHER_CARD, None)

    # Delivered again: nothing changes, and the sales stay the gateway's to take returns of.
    await told(gateway, clock, by_card, elsewhere)
    assert await customers(gateway) == after
    r = await gateway.post("/pos/v1/purchases", json=by_card, headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 202 and r.json()["duplicate"], r.text


async def test_a_return_of_an_erased_members_sale_names_no_customer(gateway, env: TestEnv, clock: MovableClock) -> None:
    sale = await post_sale(gateway, env, "S001", {"card_no": CARD})
    await told(gateway, clock, sale)
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale), headers=env.auth(Role.POS, store_id="S001"))
    assert r.status_code == 202, r.text
    async with gateway.app.state.sessions() as session:
        [queued] = (await session.exec(select(OutboxRecord).where(OutboxRecord.event_type == PURCHASE_REFUNDED))).all()
    assert json.loads(queued.envelope)["data"]["customer"] is None
    assert queued.key == "store:S001" and CARD not in queued.envelope
