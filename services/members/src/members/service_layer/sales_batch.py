"""POS sales recorded a batch at a time: `sales.on_purchase_made` for thousands of sales, with one
query per table for the whole batch.

The consumer hands a run of consecutive `purchase_made` events to `on_purchases_made`, in one
transaction. Almost every sale only adds up: it is written with its lines, matched to a member by
card or phone, counted in the member's spend and in the information base, and announced
(`purchase_attributed`). Those are done for the batch with one look-up of the sales already
recorded, one locked read of the members concerned, multi-row INSERTs and upserts (SQLAlchemy
Core, no ORM objects) and the announcements queued in order on the unit of work.

A sale that takes its member over a spend milestone or the VIP threshold is written with the
others, and then `tiers.spend_grew` - what the one-by-one path calls after such a sale - announces
the milestone or promotes the member, before any later sale of that member in the batch. A sale
with a return waiting for it is handed to `sales.on_purchase_made`, which links the two. The rules
stay in one place, and each sees the state a consumer applying the sales one by one would have
seen.

What is the same as one by one: the first event of a POS transaction counts and later ones are
logged and ignored, whatever their event id and whether they are in this batch or an earlier one;
a card or phone not registered yet leaves the sale unattributed; two sales of one member in a
batch both count, in batch order (spend, purchase dates, the day row); events of one member keep
the order the sales came in.

`sales_import` records a chain's past sales through `record` too, as sales of an import (`Origin`).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlmodel import col
from sqlmodel import select as select_rows  # ORM objects, where `select` here reads plain rows

from members.adapters.tables import MemberRow, PurchaseLineRow, PurchaseRow, ReturnRow
from members.adapters.tables.staff import MilestoneRow
from members.config import settings_of
from members.domain.cards import still_theirs
from members.domain.spend import record_purchase
from members.domain.tiers import TierRules, new_milestones, promoted_tier
from members.service_layer import sales, tiers
from members.service_layer.identity_lock import lock_for_matching_sales
from members.service_layer.infobase import SpendChange, add_spend, business_day
from members.service_layer.sales import LIVE, Origin
from shared.consumer import Delivery
from shared.db import BulkInsert, insert_rows, is_postgresql, one_of, unnest_columns, unnest_params
from shared.errors import Conflict
from shared.events import contracts as c
from shared.events.registry import PURCHASE_ATTRIBUTED
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

MEMBERS = MemberRow.__table__  # type: ignore[attr-defined]
PURCHASES = PurchaseRow.__table__  # type: ignore[attr-defined]
LINES = PurchaseLineRow.__table__  # type: ignore[attr-defined]
RETURNS = ReturnRow.__table__  # type: ignore[attr-defined]
MILESTONES = MilestoneRow.__table__  # type: ignore[attr-defined]

_ZERO = Decimal("0.00")

# The statements every batch runs are built once, with bound parameters: built for every batch,
# building them and working out their cache keys cost more than running them at the batch sizes
# of live sales (tens of sales a fetch).
_PURCHASE_COLUMNS = (
    "sale_event_id", "store_id", "pos_txn_id", "member_id", "card_no", "phone_hmac", "occurred_at", "total", "discount",
    "returned", "returned_paid", "payment", "received_at", "attributed_at",
)
# DO NOTHING keeps the transaction's natural key unique without aborting the transaction; a sale
# recorded by a concurrent consumer since the look-up fails the batch instead of counting twice
# (the consumer then applies its events one by one, and finds it recorded).
_INSERT_PURCHASES = BulkInsert(
    PURCHASES, _PURCHASE_COLUMNS,
    lambda insert: insert.on_conflict_do_nothing(index_elements=["store_id", "pos_txn_id"])
    .returning(PURCHASES.c.id, PURCHASES.c.store_id, PURCHASES.c.pos_txn_id),
)
_SPEND = ("id", "lifetime_spend", "purchase_count", "first_purchase_at", "last_purchase_at")
_spent = unnest_columns(MEMBERS, _SPEND)
_SAVE_SPEND = update(MEMBERS).where(MEMBERS.c.id == _spent.c.id).values(
    lifetime_spend=_spent.c.lifetime_spend, purchase_count=_spent.c.purchase_count,
    first_purchase_at=_spent.c.first_purchase_at, last_purchase_at=_spent.c.last_purchase_at,
)

Key = tuple[str, str]  # (store_id, pos_txn_id): one POS transaction


@dataclass
class MemberState:
    """The columns of a member a sale reads and changes (domain.spend.HasSpend), as locked."""

    id: str
    community_id: str | None
    household_id: str | None
    tier: str
    lifetime_spend: Decimal
    purchase_count: int
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None
    reached: set[Decimal]  # spend milestones already announced


@dataclass(frozen=True)
class Members:
    """The members a batch's sales name, each once: by card number, by phone digest, and by a card
    replaced at the desk, with when, which names its member still for the sales made on it before."""

    by_card: dict[str, "MemberState"]
    by_phone: dict[str, "MemberState"]
    by_replaced_card: dict[str, tuple["MemberState", datetime]]

    def of(self, sale: c.PurchaseMadeV1) -> "MemberState | None":
        customer = sale.customer
        if customer is None:
            return None
        # As `sales`: the card when the till gave one, else the phone.
        if not customer.card_no:
            return self.by_phone.get(customer.phone_hmac or "")
        if (member := self.by_card.get(customer.card_no)) is not None:
            return member
        held = self.by_replaced_card.get(customer.card_no)
        return held[0] if held is not None and still_theirs(sale.occurred_at, held[1]) else None


NOBODY = Members({}, {}, {})


@dataclass(frozen=True)
class Sale:
    delivery: Delivery
    sale: c.PurchaseMadeV1
    key: Key
    # Taken off the total, and what the customer paid: the event works them out from its
    # discounts on every read, which showed in the profile of a batch.
    discount: Decimal
    paid: Decimal
    origin: Origin = LIVE

    @classmethod
    def of(cls, delivery: Delivery, origin: Origin = LIVE) -> "Sale":
        sale: c.PurchaseMadeV1 = delivery.payload  # type: ignore[assignment]
        return cls(delivery, sale, (sale.store_id, sale.pos_txn_id), sale.discount_total, sale.paid, origin)


async def on_purchases_made(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
    await record(uow, [Sale.of(d) for d in deliveries])


async def record(uow: UnitOfWork, batch: list[Sale]) -> set[Key]:
    """Records the sales of `batch` not recorded yet; answers the transactions it recorded (the
    others were recorded already, by an earlier batch or earlier in this one)."""
    session = uow.session
    # What earlier handlers of this transaction changed through the ORM is written before the
    # reads below, which bypass it.
    await session.flush()
    if any(s.sale.customer is not None for s in batch):
        await lock_for_matching_sales(session)
    pending = await _first_of_each_transaction(uow, batch)
    recorded = {s.key for s in pending}
    waiting = await _with_waiting_returns(uow, [s.key for s in pending])
    rules = settings_of(uow).tier_rules
    # In rounds. A round writes every sale up to its member's first that has a return waiting, and
    # up to and including the first that crosses a threshold, all together; then it applies the
    # crossings (`_spend_grown`) and hands the sales with waiting returns to the one-by-one path,
    # and leaves those members' later sales to the next round, which reads them again. A member's
    # sales and announcements keep their order; between members there is no order to keep, as no
    # rule relates one member's sales to another's. So a batch takes as many rounds as one member
    # crosses thresholds in it, not as many as all of them do.
    while pending:
        members = await _lock_members(uow, pending, rules)
        simple: list[tuple[Sale, MemberState | None]] = []
        crossings: list[tuple[Sale, MemberState]] = []
        one_by_one: list[Sale] = []
        later: list[Sale] = []
        held: set[str] = set()
        for s in pending:
            member = members.of(s.sale)
            if member is not None and member.id in held:
                later.append(s)
            elif s.key in waiting:
                one_by_one.append(s)
                if member is not None:
                    held.add(member.id)
            else:
                if member is not None:
                    if _crosses_a_threshold(member, s.paid, rules):
                        crossings.append((s, member))
                        held.add(member.id)
                    record_purchase(member, s.paid, s.sale.occurred_at)
                simple.append((s, member))
        await _write(uow, simple)
        await _spend_grown(uow, crossings)
        for s in one_by_one:
            await _one_by_one(uow, s)
        pending = later
    return recorded


class AnotherSale(Conflict):
    """A till's sale under a POS transaction id recorded already as a sale of another amount:
    dead-lettered (the consumer's rule for a handler's error), for operators to see, rather than
    dropped as a repeat of the sale it is not. In practice a till's sale under the id of one a
    `crm import-sales` recorded a moment before the gateway heard of the import."""


async def recorded_already(uow: UnitOfWork, keys: Sequence[Key]) -> dict[Key, tuple[str, Decimal]]:
    """The POS transactions among `keys` recorded already, with the event id that recorded each
    and its total."""
    if not keys:
        return {}
    session = uow.session
    found = await session.exec(
        select(PURCHASES.c.store_id, PURCHASES.c.pos_txn_id, PURCHASES.c.sale_event_id, PURCHASES.c.total).where(  # type: ignore[call-overload]
            one_of(session, PURCHASES.c.store_id, {store for store, _ in keys}),
            one_of(session, PURCHASES.c.pos_txn_id, {txn for _, txn in keys}),
        )
    )
    wanted = set(keys)
    return {(store, txn): (event_id, total) for store, txn, event_id, total in found if (store, txn) in wanted}


async def _first_of_each_transaction(uow: UnitOfWork, batch: list[Sale]) -> list[Sale]:
    """The sales not recorded yet, each POS transaction once: the first event of it counts."""
    first = await recorded_already(uow, [s.key for s in batch])
    fresh = []
    for s in batch:
        if s.key in first:
            # An import run again finds all its sales there, and answers them present.
            if s.origin.imported:
                continue
            event_id, total = first[s.key]
            if total != s.sale.total:
                raise AnotherSale(f"pos_txn_id: {s.key[0]}/{s.key[1]} is recorded already as another sale, of {total} "
                                  f"(event {event_id}); this one is of {s.sale.total}")
            # The same sale again under another event id (a vendor re-sending it directly, or a
            # till's sale an import recorded first): the first one counts, never applied twice.
            log.warning("sale %s/%s already recorded from event %s; ignoring event %s", *s.key, event_id, s.delivery.envelope.id)
            continue
        first[s.key] = (s.delivery.envelope.id, s.sale.total)
        fresh.append(s)
    return fresh


async def _with_waiting_returns(uow: UnitOfWork, keys: Sequence[Key]) -> set[Key]:
    """The transactions among `keys` whose return arrived before the sale (and waits for it)."""
    if not keys:
        return set()
    session = uow.session
    found = await session.exec(
        # By the sale's store: a return at another store waits for the sale of the store it names.
        select(sales.RETURNED_SALE_STORE, RETURNS.c.pos_txn_id).where(  # type: ignore[call-overload]
            one_of(session, RETURNS.c.pos_txn_id, {txn for _, txn in keys}), RETURNS.c.purchase_id.is_(None)
        )
    )
    wanted = set(keys)
    return {key for key in found if tuple(key) in wanted}


async def _lock_members(uow: UnitOfWork, pending: list[Sale], rules: TierRules) -> Members:
    """The members the sales name, locked in id order (the lock `sales` takes by writing the
    member, taken up front): their spend cannot change under the batch, and a community merge
    either shows in the community read here or waits for this transaction."""
    session = uow.session
    cards = {s.sale.customer.card_no for s in pending if s.sale.customer and s.sale.customer.card_no}
    phones = {s.sale.customer.phone_hmac for s in pending if s.sale.customer and not s.sale.customer.card_no}
    if not cards and not phones:
        return NOBODY
    # Read first, so that the members they lead to are locked with the others, in id order.
    replaced = await sales.holders_of_replaced(session, cards) if cards else {}
    m = MEMBERS.c
    conditions = []
    if cards:
        conditions.append(one_of(session, m.card_no, cards))
    if phones:
        conditions.append(one_of(session, m.phone_hmac, phones))
    if replaced:
        conditions.append(one_of(session, m.id, {member_id for member_id, _ in replaced.values()}))
    rows = await session.exec(
        select(  # type: ignore[call-overload]
            m.id, m.card_no, m.phone_hmac, m.community_id, m.household_id, m.tier, m.lifetime_spend, m.purchase_count,
            m.first_purchase_at, m.last_purchase_at,
        ).where(or_(*conditions)).order_by(m.id).with_for_update()
    )
    by_id: dict[str, MemberState] = {}
    by_card: dict[str, MemberState] = {}
    by_phone: dict[str, MemberState] = {}
    for row in rows:
        state = by_id[row.id] = MemberState(
            row.id, row.community_id, row.household_id, row.tier, row.lifetime_spend or _ZERO, row.purchase_count,
            row.first_purchase_at, row.last_purchase_at, set(),
        )
        by_card[row.card_no] = state
        if row.phone_hmac:
            by_phone.setdefault(row.phone_hmac, state)
    members = Members(by_card, by_phone, {card: (by_id[member_id], at) for card, (member_id, at) in replaced.items() if member_id in by_id})
    await _load_milestones(uow, members, pending, rules)
    return members


async def _load_milestones(uow: UnitOfWork, members: Members, pending: list[Sale], rules: TierRules) -> None:
    """The milestones already reached, of the members this batch could take to one: most are far
    below any milestone, and then nothing is read."""
    if not rules.milestones:
        return
    bound: dict[str, Decimal] = {}  # the most each member's spend can reach during the batch
    for s in pending:
        member = members.of(s.sale)
        if member is not None:
            bound[member.id] = bound.get(member.id, member.lifetime_spend) + max(s.paid, _ZERO)
    lowest = min(rules.milestones)
    near = sorted(member_id for member_id, most in bound.items() if most >= lowest)
    if not near:
        return
    session = uow.session
    found = await session.exec(
        select(MILESTONES.c.member_id, MILESTONES.c.milestone).where(one_of(session, MILESTONES.c.member_id, near))  # type: ignore[call-overload]
    )
    by_id = {m.id: m for m in members.by_card.values()}
    for member_id, milestone in found:
        by_id[member_id].reached.add(Decimal(milestone))


def _crosses_a_threshold(member: MemberState, paid: Decimal, rules: TierRules) -> bool:
    """Whether counting this sale promotes the member or reaches a milestone (tiers.spend_grew)."""
    spend = member.lifetime_spend + paid
    return promoted_tier(member.tier, spend, rules) is not None or bool(new_milestones(spend, rules, member.reached))


async def _write(uow: UnitOfWork, sales_: list[tuple[Sale, MemberState | None]]) -> None:
    if not sales_:
        return
    session = uow.session
    now = uow.now()
    rows = [
        {
            "sale_event_id": s.delivery.envelope.id, "store_id": s.sale.store_id, "pos_txn_id": s.sale.pos_txn_id,
            "member_id": member.id if member else None,
            "card_no": s.sale.customer.card_no if s.sale.customer else None,
            "phone_hmac": s.sale.customer.phone_hmac if s.sale.customer else None,
            "occurred_at": s.sale.occurred_at, "total": s.sale.total, "discount": s.discount,
            "returned": _ZERO, "returned_paid": _ZERO, "payment": s.sale.payment, "received_at": now,
            "attributed_at": now if member else None,
        }
        for s, member in sales_
    ]
    written = (await _INSERT_PURCHASES.run(session, rows)).all()
    if len(written) != len(rows):
        raise RuntimeError(f"{len(rows) - len(written)} sale(s) of the batch were recorded concurrently")
    ids = {(store, txn): purchase_id for purchase_id, store, txn in written}
    await insert_rows(session, LINES, [
        {
            "purchase_id": ids[s.key], "line_no": i, "sku": line.sku, "name": line.name, "category": line.category,
            "qty": line.qty, "unit_price": line.unit_price, "amount": line.amount,
        }
        for s, _ in sales_
        for i, line in enumerate(s.sale.lines, start=1)
    ])
    attributed = [(s, member) for s, member in sales_ if member is not None]
    if not attributed:
        return
    await _save_spend(uow, {member.id: member for _, member in attributed}.values())
    zone = settings_of(uow).zone
    await add_spend(session, [
        SpendChange(member.id, member.community_id, member.household_id, s.sale.store_id,
                    business_day(s.sale.occurred_at, zone), s.paid, 1, s.sale.occurred_at)
        for s, member in attributed
        if member.community_id is not None and member.household_id is not None
    ])
    uow.emit_each(PURCHASE_ATTRIBUTED, (
        (announcement(s, member.id), member.id, member.id, s.delivery.envelope.correlationid or s.delivery.envelope.id)
        for s, member in attributed
    ))


def announcement(s: Sale, member_id: str) -> c.PurchaseAttributedV1:
    """The `purchase_attributed` of a sale the batch attributed to `member_id`. Built without
    validating it again, which cost more than writing the sale: every value is one of the sale's,
    validated when it was read against the same types or stricter ones (Money, Quantity, text), so
    the contract accepts it as it is (the tests check that)."""
    sale = s.sale
    return c.PurchaseAttributedV1.model_construct(
        member_id=member_id, sale_event_id=s.delivery.envelope.id, store_id=sale.store_id, pos_txn_id=sale.pos_txn_id,
        occurred_at=sale.occurred_at, total=sale.total, discount=s.discount,
        lines=[c.AttributedLine.model_construct(sku=ln.sku, category=ln.category, qty=ln.qty, amount=ln.amount)
               for ln in sale.lines],
        late_match=False, business_date=None, imported=s.origin.imported, earns_points=s.origin.earns_points,
    )


async def _save_spend(uow: UnitOfWork, members: Any) -> None:
    session = uow.session
    m = MEMBERS.c
    rows = [
        {"id": mb.id, "lifetime_spend": mb.lifetime_spend, "purchase_count": mb.purchase_count,
         "first_purchase_at": mb.first_purchase_at, "last_purchase_at": mb.last_purchase_at}
        for mb in sorted(members, key=lambda mb: mb.id)
    ]
    if is_postgresql(session):  # one UPDATE ... FROM unnest(...) for the batch
        await session.exec(_SAVE_SPEND, params=unnest_params(_SPEND, rows))
    else:
        await session.exec(
            update(MEMBERS).where(m.id == bindparam("member_id")).values(
                lifetime_spend=bindparam("spend"), purchase_count=bindparam("count"),
                first_purchase_at=bindparam("first"), last_purchase_at=bindparam("last"),
            ),
            params=[{"member_id": r["id"], "spend": r["lifetime_spend"], "count": r["purchase_count"],
                     "first": r["first_purchase_at"], "last": r["last_purchase_at"]} for r in rows],
        )
    # Member objects an earlier handler of this transaction loaded are now stale: reloaded on use.
    session.expire_all()


async def _spend_grown(uow: UnitOfWork, crossings: list[tuple[Sale, MemberState]]) -> None:
    """The milestones and promotions of `crossings`, sales just written that took their member
    over a threshold (each a member's last sale of the round): `tiers.spend_grew` on the member as
    that sale left them, as the one-by-one path does after the sale."""
    if not crossings:
        return
    session = uow.session
    # Read afresh (`_save_spend` expired what the session held), all in one statement.
    ids = [member.id for _, member in crossings]
    rows = {row.id: row for row in await session.exec(select_rows(MemberRow).where(col(MemberRow.id).in_(ids)))}
    for s, member in crossings:
        env = s.delivery.envelope
        uow.correlation_id = env.correlationid or env.id
        try:
            await tiers.spend_grew(uow, rows[member.id], uow.now(), imported=s.origin.imported)
        finally:
            uow.correlation_id = None
    await session.flush()


async def _one_by_one(uow: UnitOfWork, s: Sale) -> None:
    env = s.delivery.envelope
    uow.correlation_id = env.correlationid or env.id
    try:
        await sales.on_purchase_made(uow, s.delivery, s.origin)
        await uow.session.flush()
    finally:
        uow.correlation_id = None
