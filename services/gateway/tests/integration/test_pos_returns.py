"""A return must fit its sale: not dated before it, only what the sale sold, and of each sku no
more than is left after the sale's earlier returns (points weigh a return by its lines, so a till
could otherwise pick which points come back)."""

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlmodel import select

from gateway.adapters.tables import PosSaleRow
from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from shared.outbox import OutboxRecord
from tests.support.factories import line, refund_body, sale_body
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration

RICE, OIL = "6901234567890", "6902083881085"


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with service(create_app(env.settings(Settings, await database_factory("gateway")))) as client:
        r = await client.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text
        yield client


def pos(env: TestEnv) -> dict[str, str]:
    return env.auth(Role.POS, store_id="S001")


async def refunds_queued(client) -> int:
    async with client.app.state.sessions() as session:
        rows = (await session.exec(select(OutboxRecord.event_type))).all()
    return sum(t == "crm.pos.purchase_refunded.v1" for t in rows)


async def sold(client, env: TestEnv, *lines: dict) -> dict:
    """A sale of `lines` (rice x2 and oil x1 unless told), accepted."""
    sale = sale_body(lines=list(lines) or [line(qty="2"), line(sku=OIL, qty="1", unit_price="139.00")])
    r = await client.post("/pos/v1/purchases", json=sale, headers=pos(env))
    assert r.status_code == 202, r.text
    return sale


def refused(r, loc: list) -> str:
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == loc, error
    return error["msg"]


async def test_a_return_dated_before_its_sale_is_422_on_occurred_at(gateway, env: TestEnv) -> None:
    sale = await sold(gateway, env)
    sold_at = datetime.fromisoformat(sale["occurred_at"])
    for before in (datetime(2020, 1, 1, tzinfo=UTC), sold_at - timedelta(seconds=1)):
        r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, occurred_at=before.isoformat()), headers=pos(env))
        msg = refused(r, ["body", "occurred_at"])
        assert "before the sale" in msg and sold_at.isoformat() in msg
    # The same instant, in another offset, is not before it.
    same_time = sold_at.astimezone(timezone(timedelta(hours=8)))
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, occurred_at=same_time.isoformat()), headers=pos(env))
    assert r.status_code == 202, r.text
    assert await refunds_queued(gateway) == 1


async def test_a_return_of_a_sku_the_sale_did_not_sell_is_422_on_that_lines_sku(gateway, env: TestEnv) -> None:
    sale = await sold(gateway, env)
    stranger = line(sku="NEVERBOUGHT", qty="1", unit_price="9.90")
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(qty="1"), stranger]), headers=pos(env))
    msg = refused(r, ["body", "lines", 1, "sku"])
    assert "NEVERBOUGHT" in msg and sale["pos_txn_id"] in msg
    assert await refunds_queued(gateway) == 0


async def test_a_return_of_more_than_was_bought_is_422_on_that_lines_qty(gateway, env: TestEnv) -> None:
    # Worth less than the sale (the amount alone would let it through): 7 bottles of water, 1 bought.
    sale = await sold(gateway, env, line(qty="1", unit_price="200.00"), line(sku="WATER", qty="1", unit_price="2.00"))
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(sku="WATER", qty="7", unit_price="2.00")]),
                           headers=pos(env))
    msg = refused(r, ["body", "lines", 0, "qty"])
    assert "7" in msg and "at most 1" in msg
    assert await refunds_queued(gateway) == 0


async def test_earlier_returns_of_a_sale_count_against_what_is_left_of_each_sku(gateway, env: TestEnv) -> None:
    sale = await sold(gateway, env)  # rice x2, oil x1
    first = refund_body(sale, lines=[line(qty="1")])
    assert (await gateway.post("/pos/v1/refunds", json=first, headers=pos(env))).status_code == 202
    # The till retries the first return: answered as that return, not counted a second time.
    assert (await gateway.post("/pos/v1/refunds", json=first, headers=pos(env))).json()["duplicate"] is True

    # Two bags on two lines of one return: the second line goes past the one bag left.
    both = refund_body(sale, lines=[line(qty="1"), line(qty="1")])
    msg = refused(await gateway.post("/pos/v1/refunds", json=both, headers=pos(env)), ["body", "lines", 1, "qty"])
    assert "at most 1" in msg and "1 already returned" in msg

    rest = refund_body(sale, lines=[line(qty="1.000"), line(sku=OIL, qty="1", unit_price="139.00")])
    assert (await gateway.post("/pos/v1/refunds", json=rest, headers=pos(env))).status_code == 202
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(qty="0.001", unit_price="1.00")]),
                           headers=pos(env))
    assert "at most 0" in refused(r, ["body", "lines", 0, "qty"])
    assert await refunds_queued(gateway) == 2


async def test_a_sku_sold_on_several_lines_may_be_returned_up_to_their_sum(gateway, env: TestEnv) -> None:
    sale = await sold(gateway, env, line(qty="1"), line(sku=OIL, qty="1", unit_price="139.00"), line(qty="0.5"))
    over = refund_body(sale, lines=[line(qty="1.6")])
    assert "at most 1.5" in refused(await gateway.post("/pos/v1/refunds", json=over, headers=pos(env)),
                                    ["body", "lines", 0, "qty"])
    whole = refund_body(sale, lines=[line(qty="1.5")])
    assert (await gateway.post("/pos/v1/refunds", json=whole, headers=pos(env))).status_code == 202


async def test_two_returns_of_the_last_item_at_once_do_not_both_pass(gateway, env: TestEnv) -> None:
    sale = await sold(gateway, env)  # rice x2: 79.80 of 218.80, so the amount would let both through
    returns = [refund_body(sale, lines=[line(qty="2")]) for _ in range(2)]
    answers = await asyncio.gather(*(gateway.post("/pos/v1/refunds", json=b, headers=pos(env)) for b in returns))
    assert sorted(a.status_code for a in answers) == [202, 422], [a.text for a in answers]
    [loser] = [a for a in answers if a.status_code == 422]
    refused(loser, ["body", "lines", 0, "qty"])
    assert await refunds_queued(gateway) == 1


async def test_a_retry_racing_its_return_of_all_that_is_left_is_answered_as_that_return(gateway, env: TestEnv) -> None:
    # A retry that found no earlier return before the original took what was left would be held
    # to the nothing the original left, and refused.
    sale = await sold(gateway, env, line(qty="1"))
    whole = refund_body(sale)
    answers = await asyncio.gather(*(gateway.post("/pos/v1/refunds", json=whole, headers=pos(env)) for _ in range(2)))
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True]
    assert len({a.json()["event_id"] for a in answers}) == 1
    assert await refunds_queued(gateway) == 1


async def test_a_sale_accepted_before_quantities_were_kept_is_checked_by_amount_only(gateway, env: TestEnv) -> None:
    sale = await sold(gateway, env)
    async with gateway.app.state.sessions() as session:  # as the migration left a sale accepted before it
        await session.exec(update(PosSaleRow).where(PosSaleRow.pos_txn_id == sale["pos_txn_id"]).values(sold_by_sku=None))
        await session.commit()
    stranger = refund_body(sale, lines=[line(sku="NEVERBOUGHT", qty="3", unit_price="10.00")])
    assert (await gateway.post("/pos/v1/refunds", json=stranger, headers=pos(env))).status_code == 202
    too_much = refund_body(sale, lines=[line(qty="5")])  # 199.50 of the 188.80 left
    assert "188.80" in refused(await gateway.post("/pos/v1/refunds", json=too_much, headers=pos(env)), ["body", "amount"])
    async with gateway.app.state.sessions() as session:
        row = (await session.exec(select(PosSaleRow).where(PosSaleRow.pos_txn_id == sale["pos_txn_id"]))).one()
    assert (row.sold_by_sku, row.returned_by_sku) == (None, None)


async def test_a_return_naming_a_sold_sku_under_another_category_is_422_on_that_lines_category(gateway, env: TestEnv) -> None:
    # Cigarettes earn nothing and rice earns: returned "as grain" they would take back the rice's points.
    sale = await sold(gateway, env, line(sku="CIG", qty="1", unit_price="100.00", category="tobacco"),
                      line(qty="1", unit_price="100.00"))
    as_grain = refund_body(sale, lines=[line(sku="CIG", qty="1", unit_price="100.00")])
    msg = refused(await gateway.post("/pos/v1/refunds", json=as_grain, headers=pos(env)), ["body", "lines", 0, "category"])
    assert 'sold CIG as "tobacco"' in msg and sale["pos_txn_id"] in msg
    assert await refunds_queued(gateway) == 0
    as_sold = refund_body(sale, lines=[line(sku="CIG", qty="1", unit_price="100.00", category="tobacco")])
    assert (await gateway.post("/pos/v1/refunds", json=as_sold, headers=pos(env))).status_code == 202


async def test_a_return_asking_more_than_those_units_were_sold_for_is_422_on_that_lines_amount(gateway, env: TestEnv) -> None:
    sale = await sold(gateway, env, line(sku="A", qty="2", unit_price="50.00"),
                      line(sku="B", qty="1", unit_price="50.00", category="tobacco"))
    # One of two units declared at the whole line's 100.00 (within the sale's 150.00 total).
    greedy = refund_body(sale, lines=[line(sku="A", qty="1", unit_price="50.00", amount="100.00")])
    msg = refused(await gateway.post("/pos/v1/refunds", json=greedy, headers=pos(env)), ["body", "lines", 0, "amount"])
    assert "at most 50.00" in msg
    first = refund_body(sale, lines=[line(sku="A", qty="1", unit_price="50.00")])
    assert (await gateway.post("/pos/v1/refunds", json=first, headers=pos(env))).status_code == 202
    # The second unit is held to what is left of the line, with the first return counted.
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(sku="A", qty="1", unit_price="50.01")]),
                           headers=pos(env))
    assert "took 1 for 50.00" in refused(r, ["body", "lines", 0, "amount"])
    rest = refund_body(sale, lines=[line(sku="A", qty="1", unit_price="50.00")])
    assert (await gateway.post("/pos/v1/refunds", json=rest, headers=pos(env))).status_code == 202
    async with gateway.app.state.sessions() as session:
        row = (await session.exec(select(PosSaleRow).where(PosSaleRow.pos_txn_id == sale["pos_txn_id"]))).one()
    assert row.returned_amount_by_sku == '{"A":"100.00"}'
    assert await refunds_queued(gateway) == 2


async def test_weighed_goods_returned_in_parts_get_back_their_whole_amount(gateway, env: TestEnv) -> None:
    sale = await sold(gateway, env, line(sku="BEEF", qty="0.750", unit_price="13.34", amount="10.00", category="meat"))
    for qty, amount in (("0.250", "3.34"), ("0.250", "3.33"), ("0.250", "3.33")):
        part = refund_body(sale, lines=[line(sku="BEEF", qty=qty, unit_price="13.34", amount=amount, category="meat")])
        r = await gateway.post("/pos/v1/refunds", json=part, headers=pos(env))
        assert r.status_code == 202, r.text
    assert await refunds_queued(gateway) == 3


async def test_a_sale_accepted_before_categories_and_amounts_were_kept_is_held_to_sku_and_quantity(gateway, env: TestEnv) -> None:
    sale = await sold(gateway, env)  # rice x2 at 39.90, oil x1
    async with gateway.app.state.sessions() as session:  # as migration 0011 left a sale accepted before it
        await session.exec(update(PosSaleRow).where(PosSaleRow.pos_txn_id == sale["pos_txn_id"])
                           .values(sold_detail_by_sku=None))
        await session.commit()
    other = refund_body(sale, lines=[line(qty="1", unit_price="79.80", category="tobacco")])
    assert (await gateway.post("/pos/v1/refunds", json=other, headers=pos(env))).status_code == 202
    r = await gateway.post("/pos/v1/refunds", json=refund_body(sale, lines=[line(qty="2")]), headers=pos(env))
    refused(r, ["body", "lines", 0, "qty"])
    async with gateway.app.state.sessions() as session:
        row = (await session.exec(select(PosSaleRow).where(PosSaleRow.pos_txn_id == sale["pos_txn_id"]))).one()
    assert (row.returned_by_sku, row.returned_amount_by_sku) == ('{"6901234567890":"1"}', None)
