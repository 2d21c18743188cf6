"""Sales of the chain's past brought in by `crm import-sales`, as members announces them
(`sales_imported`): the gateway keeps their transaction ids with the tills', so a till's sale
under one is refused rather than accepted and then dropped by members, and a return of one at the
till is held to it as to a live sale."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from gateway.adapters.tables import PosSaleRow
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import SALES_IMPORTED
from shared.outbox import OutboxRecord
from tests.support.factories import line, refund_body, sale_body
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

RICE, OIL = "6901234567890", "6902083881085"
SOLD_AT = datetime(2019, 3, 1, 2, 15, tzinfo=UTC)


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


def pos(env: TestEnv) -> dict[str, str]:
    return env.auth(Role.POS, store_id="S001")


def imported(txn: str, total: str, sold: dict[str, str] | None = None) -> c.ImportedSaleRef:
    return c.ImportedSaleRef(
        store_id="S001", pos_txn_id=txn, occurred_at=SOLD_AT, total=Decimal(total),
        sold=[c.SoldQuantity(sku=sku, qty=Decimal(qty)) for sku, qty in (sold or {}).items()],
    )


async def announce(client, *sales: c.ImportedSaleRef) -> None:
    consumer = client.app.state.consumer
    event = new_event(SALES_IMPORTED, c.SalesImportedV1(sales=list(sales)), source="crm/members/import")
    await consumer.apply_batch([consumer.delivery(event)])


async def queued(client, event_type: str) -> list[str]:
    async with client.app.state.sessions() as session:
        rows = (await session.exec(select(OutboxRecord).where(OutboxRecord.event_type == event_type))).all()
    return [r.key for r in rows]


async def test_a_tills_sale_under_an_imported_transaction_id_is_409_and_nothing_is_queued(gateway, env: TestEnv) -> None:
    await announce(gateway, imported("OLD-1", "10.00", {RICE: "1"}))
    sale = sale_body(pos_txn_id="OLD-1", lines=[line(qty="1", unit_price="500.00")])
    r = await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))
    assert r.status_code == 409, r.text
    assert "S001/OLD-1" in r.text and "import" in r.text
    assert await queued(gateway, "crm.pos.purchase_made.v1") == []
    # Another id is the till's as ever.
    r = await gateway.post("/pos/v1/purchases", json=sale_body(pos_txn_id="NEW-1"), headers=pos(env))
    assert r.status_code == 202, r.text


async def test_a_return_of_an_imported_sale_is_held_to_its_lines_and_travels_by_the_store(gateway, env: TestEnv) -> None:
    await announce(gateway, imported("OLD-2", "218.80", {RICE: "2", OIL: "1"}))
    sale = {"store_id": "S001", "pos_txn_id": "OLD-2",
            "lines": [line(qty="2"), line(sku=OIL, qty="1", unit_price="139.00")]}
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(sku=RICE, qty="3")]), headers=pos(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "lines", 0, "qty"], r.text
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(sku="NEVERSOLD", qty="1")]), headers=pos(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "lines", 0, "sku"], r.text
    before = refund_body(sale, occurred_at=datetime(2019, 3, 1, 2, 0, tzinfo=UTC).isoformat())
    r = await gateway.post("/pos/v1/refunds", json=before, headers=pos(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "occurred_at"], r.text

    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(sku=OIL, qty="1", unit_price="139.00")]),
                           headers=pos(env))
    assert r.status_code == 202, r.text
    # The gateway knows no card of an imported sale: members finds the sale by its transaction.
    assert await queued(gateway, "crm.pos.purchase_refunded.v1") == ["store:S001"]
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(sku=OIL, qty="1", unit_price="139.00")]),
                           headers=pos(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "lines", 0, "qty"], r.text


async def test_a_return_of_an_imported_sale_is_held_to_the_categories_and_amounts_it_was_announced_with(
    gateway, env: TestEnv,
) -> None:
    """As a till's sale is (`test_pos_returns`): a return cannot name a sku under another category
    (the points a category earns differ) nor take more of its amount than its share."""
    sold = [c.SoldQuantity(sku=RICE, qty=Decimal("2"), categories=["grain"], amount=Decimal("79.80")),
            c.SoldQuantity(sku=OIL, qty=Decimal("1"), categories=["oil"], amount=Decimal("139.00"))]
    await announce(gateway, c.ImportedSaleRef(store_id="S001", pos_txn_id="OLD-5", occurred_at=SOLD_AT,
                                              total=Decimal("218.80"), sold=sold))
    sale = {"store_id": "S001", "pos_txn_id": "OLD-5", "lines": []}
    as_tobacco = refund_body(sale, lines=[line(qty="1", category="tobacco")])
    r = await gateway.post("/pos/v1/refunds", json=as_tobacco, headers=pos(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "lines", 0, "category"], r.text
    greedy = refund_body(sale, lines=[line(qty="1", unit_price="79.80")])  # one of two for the price of both
    r = await gateway.post("/pos/v1/refunds", json=greedy, headers=pos(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "lines", 0, "amount"], r.text
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(qty="1")]), headers=pos(env))
    assert r.status_code == 202, r.text


async def test_a_return_of_an_imported_total_is_held_to_its_amount(gateway, env: TestEnv) -> None:
    await announce(gateway, imported("OLD-3", "30.00"))
    sale = {"store_id": "S001", "pos_txn_id": "OLD-3", "lines": [line(qty="1", unit_price="20.00")]}
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(qty="2", unit_price="20.00")]), headers=pos(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "amount"], r.text
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale), headers=pos(env))
    assert r.status_code == 202, r.text


async def test_a_tills_sale_keeps_its_id_and_an_announcement_again_changes_nothing(gateway, env: TestEnv) -> None:
    sale = sale_body(pos_txn_id="BOTH-1")
    first = await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))
    assert first.status_code == 202, first.text
    await announce(gateway, imported("BOTH-1", "1.00"), imported("OLD-4", "5.00"))
    await announce(gateway, imported("OLD-4", "7.00"))
    retry = await gateway.post("/pos/v1/purchases", json=sale, headers=pos(env))
    assert retry.status_code == 202 and retry.json() == {**first.json(), "duplicate": True}, retry.text
    async with gateway.app.state.sessions() as session:
        rows = (await session.exec(select(PosSaleRow).where(PosSaleRow.pos_txn_id.in_(["BOTH-1", "OLD-4"])))).all()  # type: ignore[attr-defined]
    assert sorted((r.pos_txn_id, r.total) for r in rows) == [("BOTH-1", Decimal(sale["total"])), ("OLD-4", Decimal("5.00"))]
