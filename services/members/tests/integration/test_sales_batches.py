"""Sales consumed a batch at a time count exactly as they would one by one, on SQLite and PostgreSQL.

Each test hands the consumer several records as one batch (one transaction, the batch handler of
`purchase_made`), the way a backlog arrives after an outage.
"""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import col, select

from members.adapters.tables import MemberRow, PurchaseLineRow, PurchaseRow
from members.adapters.tables.infobase import HouseholdStoreSpendRow, MemberDaySpendRow
from shared.events import contracts as c
from shared.events.envelope import Envelope
from shared.outbox import OutboxRecord
from tests.support.factories import line, spend_line
from tests.support.members import deliver_batch, outbox, refund_event, register, sale_event

pytestmark = pytest.mark.integration

RICE = line(sku="rice", qty="2", unit_price="50.00")      # 100.00
OIL = line(sku="oil", qty="1", unit_price="80.00")        # 80.00
MORNING = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)         # 09:00 in Shanghai, business day 11-23
EVENING = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)        # 19:00, the same business day


async def member_row(members, member_id: str) -> MemberRow:
    async with members.app.state.sessions() as s:
        return (await s.exec(select(MemberRow).where(MemberRow.id == member_id))).one()


async def rows(members, model, *where) -> list:
    async with members.app.state.sessions() as s:
        return list((await s.exec(select(model).where(*where))).all())


def card_sale(members, member: dict, amount: str, txn: str) -> Envelope:
    """A sale by the member's card of one line of `amount`, under POS transaction `txn`."""
    return sale_event(members, card_no=member["card_no"], lines=[spend_line(amount)], txn=txn)


def data(records: list[OutboxRecord]) -> list[dict]:
    return [json.loads(r.envelope)["data"] for r in records]


async def test_two_sales_of_one_member_in_a_batch_both_count_in_spend_and_read_model(members, env) -> None:
    m = await register(members, env)
    await deliver_batch(members, [
        sale_event(members, card_no=m["card_no"], lines=[RICE], occurred_at=EVENING, txn="T-1"),
        sale_event(members, card_no=m["card_no"], lines=[OIL], occurred_at=MORNING, txn="T-2"),
    ])
    row = await member_row(members, m["id"])
    assert (row.lifetime_spend, row.purchase_count) == (Decimal("180.00"), 2)
    assert (row.first_purchase_at, row.last_purchase_at) == (MORNING, EVENING)
    [day] = await rows(members, MemberDaySpendRow, MemberDaySpendRow.member_id == m["id"])
    assert (day.spend, day.purchases, day.last_purchase_at) == (Decimal("180.00"), 2, EVENING)
    rollups = {r.store_id: (r.spend, r.purchases) for r in await rows(members, HouseholdStoreSpendRow)}
    assert rollups == {"S001": (Decimal("180.00"), 2), "*": (Decimal("180.00"), 2)}
    announced = data(await outbox(members, "crm.members.purchase_attributed.v1"))
    assert [(a["pos_txn_id"], a["member_id"], a["late_match"]) for a in announced] == [
        ("T-1", m["id"], False), ("T-2", m["id"], False)]
    assert [ln["sku"] for ln in announced[0]["lines"]] == ["rice"]


async def test_a_transaction_twice_in_a_batch_counts_once_whatever_its_event_ids(members, env) -> None:
    m = await register(members, env)
    first = sale_event(members, card_no=m["card_no"], lines=[RICE], txn="T-dup")
    resent = sale_event(members, card_no=m["card_no"], lines=[RICE], txn="T-dup", event_id=str(uuid.uuid4()))
    await deliver_batch(members, [first, resent, first])
    # And again in a later batch, under yet another id.
    await deliver_batch(members, [sale_event(members, card_no=m["card_no"], lines=[RICE], txn="T-dup",
                                             event_id=str(uuid.uuid4()))])
    row = await member_row(members, m["id"])
    assert (row.lifetime_spend, row.purchase_count) == (Decimal("100.00"), 1)
    [purchase] = await rows(members, PurchaseRow, PurchaseRow.pos_txn_id == "T-dup")
    assert purchase.sale_event_id == first.id
    assert len(await outbox(members, "crm.members.purchase_attributed.v1")) == 1


async def test_a_batch_mixing_members_unknown_cards_phones_and_anonymous_sales(members, env) -> None:
    by_card = await register(members, env)
    by_phone = await register(members, env, phone="13300000042")
    await deliver_batch(members, [
        sale_event(members, card_no=by_card["card_no"], lines=[RICE], txn="T-card"),
        sale_event(members, lines=[OIL], txn="T-anon"),
        sale_event(members, card_no="8800000099999", lines=[OIL], txn="T-unknown"),
        sale_event(members, phone="13300000042", lines=[OIL, RICE], txn="T-phone"),
    ])
    purchases = {p.pos_txn_id: p for p in await rows(members, PurchaseRow)}
    assert {t: p.member_id for t, p in purchases.items()} == {
        "T-card": by_card["id"], "T-anon": None, "T-unknown": None, "T-phone": by_phone["id"]}
    assert purchases["T-unknown"].card_no == "8800000099999" and purchases["T-unknown"].attributed_at is None
    lines = await rows(members, PurchaseLineRow, PurchaseLineRow.purchase_id == purchases["T-phone"].id)
    assert sorted((ln.line_no, ln.sku) for ln in lines) == [(1, "oil"), (2, "rice")]
    assert (await member_row(members, by_phone["id"])).lifetime_spend == Decimal("180.00")
    assert sorted(a["pos_txn_id"] for a in data(await outbox(members, "crm.members.purchase_attributed.v1"))) == [
        "T-card", "T-phone"]
    # The unknown card's sale waits, unattributed, and counts when the card is registered.
    late = await register(members, env, card_no="8800000099999")
    assert (await member_row(members, late["id"])).lifetime_spend == Decimal("80.00")
    [matched] = [a for a in data(await outbox(members, "crm.members.purchase_attributed.v1")) if a["late_match"]]
    assert matched["pos_txn_id"] == "T-unknown"


async def test_a_return_in_the_batch_of_its_sale_counts_in_either_order(members, env) -> None:
    m = await register(members, env)
    await deliver_batch(members, [
        sale_event(members, card_no=m["card_no"], lines=[RICE, OIL], txn="T-then"),
        refund_event(members, txn="T-then", lines=[OIL]),
        # The return of this one overtook its sale: it waits, and the sale applies it.
        refund_event(members, txn="T-first", lines=[OIL]),
        sale_event(members, card_no=m["card_no"], lines=[RICE, OIL], txn="T-first"),
        sale_event(members, card_no=m["card_no"], lines=[RICE], txn="T-after"),
    ])
    row = await member_row(members, m["id"])
    assert (row.lifetime_spend, row.purchase_count) == (Decimal("300.00"), 3)
    returns = data(await outbox(members, "crm.members.return_attributed.v1"))
    assert sorted(r["pos_txn_id"] for r in returns) == ["T-first", "T-then"]
    [day] = await rows(members, MemberDaySpendRow, MemberDaySpendRow.member_id == m["id"])
    assert (day.spend, day.purchases) == (Decimal("300.00"), 3)
    # The member's events keep the order of the records: the waiting return follows its sale.
    sales_and_returns = ("crm.members.purchase_attributed.v1", "crm.members.return_attributed.v1")
    mine = [r for r in await outbox_of(members, m["id"]) if r.event_type in sales_and_returns]
    assert [(r.event_type.split(".")[2], json.loads(r.envelope)["data"].get("pos_txn_id")) for r in mine] == [
        ("purchase_attributed", "T-then"), ("return_attributed", "T-then"),
        ("purchase_attributed", "T-first"), ("return_attributed", "T-first"),
        ("purchase_attributed", "T-after"),
    ]


async def test_a_sale_crossing_the_vip_threshold_mid_batch_promotes_once_in_order(members, env) -> None:
    m = await register(members, env)
    await deliver_batch(members, [
        card_sale(members, m, "3000.00", "T-a"),
        card_sale(members, m, "2500.00", "T-b"),
        card_sale(members, m, "100.00", "T-c"),
    ])
    row = await member_row(members, m["id"])
    assert (row.tier, row.lifetime_spend, row.purchase_count) == ("vip", Decimal("5600.00"), 3)
    [change] = [c.TierChangedV1.model_validate(d) for d in data(await outbox(members, "crm.members.tier_changed.v1"))]
    assert (change.old_tier, change.new_tier, change.lifetime_spend) == ("member", "vip", Decimal("5500.00"))
    kinds = [r.event_type.split(".")[2] for r in await outbox_of(members, m["id"])]
    assert kinds[kinds.index("purchase_attributed"):] == [
        "purchase_attributed", "purchase_attributed", "tier_changed", "account_manager_assigned", "purchase_attributed"]


async def test_other_members_sales_around_a_crossing_all_count_and_each_member_keeps_their_order(members, env) -> None:
    # The crossing sale is written with the others and its promotion applied before the member's
    # next sale: every sale counts once, and each member's announcements keep their order.
    x = await register(members, env, phone="13900000001")
    y = await register(members, env, phone="13900000002")
    await deliver_batch(members, [
        card_sale(members, y, "10.00", "Y-1"),
        card_sale(members, x, "5500.00", "X-1"),
        card_sale(members, y, "20.00", "Y-2"),
        card_sale(members, x, "30.00", "X-2"),
        card_sale(members, y, "40.00", "Y-3"),
    ])
    rx, ry = await member_row(members, x["id"]), await member_row(members, y["id"])
    assert (rx.tier, rx.lifetime_spend, rx.purchase_count) == ("vip", Decimal("5530.00"), 2)
    assert (ry.tier, ry.lifetime_spend, ry.purchase_count) == ("member", Decimal("70.00"), 3)
    announced = data(await outbox(members, "crm.members.purchase_attributed.v1"))
    assert [a["pos_txn_id"] for a in announced if a["member_id"] == x["id"]] == ["X-1", "X-2"]
    assert [a["pos_txn_id"] for a in announced if a["member_id"] == y["id"]] == ["Y-1", "Y-2", "Y-3"]
    kinds = [r.event_type.split(".")[2] for r in await outbox_of(members, x["id"])]
    assert kinds[kinds.index("purchase_attributed"):] == [
        "purchase_attributed", "tier_changed", "account_manager_assigned", "purchase_attributed"]
    everywhere = [r for r in await rows(members, HouseholdStoreSpendRow) if r.store_id == "*"]
    assert (sum(r.spend for r in everywhere), sum(r.purchases for r in everywhere)) == (Decimal("5600.00"), 5)


async def test_a_member_crossing_twice_in_a_batch_gets_each_milestone_at_its_sale_in_order(members, env) -> None:
    # Two crossings of one member: a round each, the milestone announced at the spend its sale
    # left, before the member's next sale; another member's sales all count around them.
    x = await register(members, env, phone="13900000011")
    y = await register(members, env, phone="13900000012")
    await deliver_batch(members, [
        card_sale(members, x, "30000.00", "X-1"),
        card_sale(members, y, "10.00", "Y-1"),
        card_sale(members, x, "19000.00", "X-2"),
        card_sale(members, x, "1000.00", "X-3"),
        card_sale(members, y, "20.00", "Y-2"),
        card_sale(members, x, "5.00", "X-4"),
    ])
    rx, ry = await member_row(members, x["id"]), await member_row(members, y["id"])
    assert (rx.tier, rx.lifetime_spend, rx.purchase_count) == ("vip", Decimal("50005.00"), 4)
    assert (ry.tier, ry.lifetime_spend, ry.purchase_count) == ("member", Decimal("30.00"), 2)
    reached = [c.SpendMilestoneReachedV1.model_validate(d)
               for d in data(await outbox(members, "crm.members.spend_milestone_reached.v1"))]
    assert [(e.milestone, e.lifetime_spend) for e in reached] == [
        (Decimal("30000.00"), Decimal("30000.00")), (Decimal("50000.00"), Decimal("50000.00"))]
    [change] = [c.TierChangedV1.model_validate(d) for d in data(await outbox(members, "crm.members.tier_changed.v1"))]
    assert change.lifetime_spend == Decimal("30000.00")
    events = [(r.event_type.split(".")[2], json.loads(r.envelope)["data"].get("pos_txn_id"))
              for r in await outbox_of(members, x["id"])]
    events = events[[kind for kind, _ in events].index("purchase_attributed"):]
    assert events == [
        ("purchase_attributed", "X-1"), ("spend_milestone_reached", None), ("tier_changed", None),
        ("account_manager_assigned", None), ("purchase_attributed", "X-2"), ("purchase_attributed", "X-3"),
        ("spend_milestone_reached", None), ("purchase_attributed", "X-4"),
    ]


async def outbox_of(members, member_id: str) -> list[OutboxRecord]:
    async with members.app.state.sessions() as s:
        query = select(OutboxRecord).where(OutboxRecord.key == member_id).order_by(col(OutboxRecord.id))
        return list((await s.exec(query)).all())


async def test_the_batch_announces_a_sale_as_the_contract_reads_it_back(members, env) -> None:
    """The batch builds `purchase_attributed` without validating it again and writes its envelope
    from a frame: what it writes must be what `emit` of the validated event would write."""
    m = await register(members, env)
    weighed = line(sku="肉", qty="0.755", unit_price="39.90", name="五花肉 \"精选\"", category="fresh")
    sale = sale_event(members, card_no=m["card_no"], lines=[weighed, OIL], txn="T-frame", coupons=["WELCOME10"],
                      discounts=[{"code": "WELCOME10", "amount": "10", "label": "新客"}])
    await deliver_batch(members, [sale])
    [record] = await outbox(members, "crm.members.purchase_attributed.v1")
    envelope = Envelope.model_validate_json(record.envelope)
    assert (envelope.type, envelope.source, envelope.subject, envelope.correlationid, envelope.crmcredential) == (
        "crm.members.purchase_attributed.v1", "crm/members", m["id"], sale.id, None)
    assert (record.key, record.event_id) == (m["id"], envelope.id)
    announced = c.PurchaseAttributedV1.model_validate(envelope.data)
    # Validating changes nothing: the JSON is already in the contract's normal form.
    assert announced.model_dump(mode="json") == envelope.data
    made = c.PurchaseMadeV1.model_validate(sale.data)
    assert announced == c.PurchaseAttributedV1(
        member_id=m["id"], sale_event_id=sale.id, store_id="S001", pos_txn_id="T-frame", occurred_at=made.occurred_at,
        total=made.total, discount=Decimal("10.00"),
        lines=[c.AttributedLine(sku=ln.sku, category=ln.category, qty=ln.qty, amount=ln.amount) for ln in made.lines],
    )
    assert envelope.data["discount"] == "10.00" and envelope.data["lines"][0]["qty"] == "0.755"
