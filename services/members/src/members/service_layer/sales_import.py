"""A batch of a chain's past sales, recorded as live sales are (`sales_batch.record`), in one
transaction: purchases and their lines, members' spend, dates and counts, the information base's
rows, tiers and milestones, and `purchase_attributed` for points, campaigns and feedback, marked
as imported (and as earning nothing, when the import said so).

Each sale is refused on its own, naming the field: invalid values (`domain.sales_import`), and a
card or phone no member has. An import is of the chain's members, so a sale of an unknown customer
is refused rather than kept unattributed as a live one would be (nobody will register with a card
of years ago, and kept it would wait for a late match for ever). A POS transaction recorded
already, by an earlier run of the import or live from the till, is answered present and changes
nothing: running an import again, or resuming an interrupted one, counts nothing twice. One
recorded as another sale (another amount, or day) is refused, naming the recorded one; within a
batch, whose sales come from one file, a sale differing in anything from an earlier one under the
same id is refused naming it (`fingerprint`). What it
records is announced to the gateway (`sales_imported`), which refuses a till's sale under an
imported transaction id and takes returns of imported sales at the till.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from members.adapters.tables import MemberRow
from members.config import settings_of
from members.domain.cards import still_theirs
from members.domain.sales_import import (
    ImportedSale,
    PointsMode,
    RowStatus,
    conflicting_repeat,
    fingerprint,
    parse_sale,
    unknown_customer,
)
from members.service_layer import sales
from members.service_layer.sales import Origin
from members.service_layer.sales_batch import PURCHASES, Key, Sale, record
from shared.consumer import Delivery
from shared.db import one_of
from shared.events import contracts as c
from shared.events.contracts.pos import quantities_by_sku, sold_skus
from shared.events.envelope import Envelope, sale_event_id
from shared.events.registry import PURCHASE_MADE, SALES_IMPORTED
from shared.pseudonyms import phone_hmac
from shared.unit_of_work import UnitOfWork

MEMBERS = MemberRow.__table__  # type: ignore[attr-defined]
SOURCE = "members/import"
# A `sales_imported` is about no one customer: an import's announcements share one partition.
ANNOUNCEMENT_KEY = "sales-import"
ANNOUNCED_SALES = 500
# A sku with its quantity, categories and amount is at most about 200 bytes of JSON: 2,500 of
# them stay near half a megabyte, far below the broker's 1 MB message size.
ANNOUNCED_SKUS = 2_500


@dataclass(frozen=True)
class RowResult:
    status: RowStatus
    reason: str | None = None


async def import_sales(
    uow: UnitOfWork, raw_sales: Sequence[Any], points: PointsMode, local_time_zone: ZoneInfo | None = None,
    *, dry_run: bool = False,
) -> list[RowResult]:
    """One result per sale of `raw_sales`, in order; a time without its offset is taken in
    `local_time_zone` if given. A dry run checks the sales the same way and records nothing: its
    `imported` are the sales an import would record."""
    now = uow.now()
    parsed = [parse_sale(raw, now, local_time_zone) for raw in raw_sales]
    results: dict[int, RowResult] = {
        i: RowResult(RowStatus.REJECTED, p) for i, p in enumerate(parsed) if isinstance(p, str)
    }
    valid = {i: p for i, p in enumerate(parsed) if isinstance(p, ImportedSale)}
    # A transaction twice in the batch is decided once, from its first sale: the same sale again
    # shares its outcome, another sale under the id is refused naming the first.
    repeats = _repeats(valid, results)
    # Looked up first, so that a run again or resumed spends nothing more on what it did before.
    zone = settings_of(uow).zone
    present = await _recorded(uow, [(p.store_id, p.pos_txn_id) for p in valid.values()], zone)
    for i, sale in list(valid.items()):
        if (kept := present.get((sale.store_id, sale.pos_txn_id))) is None:
            continue
        results[i] = _present_or_another((sale.store_id, sale.pos_txn_id), kept, (sale.amount, sale.occurred_at.astimezone(zone).date()))
        del valid[i]
    pepper = settings_of(uow).resolved_pepper()
    customers = {i: _customer(sale, pepper) for i, sale in valid.items()}
    known = await _known(uow, [ref for ref in customers.values() if ref is not None])
    replaced = await sales.holders_of_replaced(uow.session, {ref.card_no for ref in customers.values() if ref and ref.card_no})
    origin = Origin(imported=True, earns_points=points is PointsMode.RULE_AT_TIME)
    batch: dict[int, Sale] = {}
    for i, sale in valid.items():
        ref = customers[i]
        if ref is not None and ref.key not in known and not (
                ref.card_no in replaced and still_theirs(sale.occurred_at, replaced[ref.card_no][1])):
            results[i] = RowResult(RowStatus.REJECTED, unknown_customer(sale))
            continue
        batch[i] = _sale(sale, ref, now, origin)
    recorded = {s.key for s in batch.values()} if dry_run else await record(uow, list(batch.values()))
    if not dry_run:
        announce(uow, [s.sale for s in batch.values() if s.key in recorded])
    for i, s in batch.items():
        results[i] = RowResult(RowStatus.IMPORTED if s.key in recorded else RowStatus.PRESENT)
    for i, first in repeats.items():
        # Recorded once: the repeat of a sale just imported is present, as in a later batch.
        results[i] = RowResult(RowStatus.PRESENT) if results[first].status is RowStatus.IMPORTED else results[first]
    return [results[i] for i in range(len(raw_sales))]


def _repeats(valid: dict[int, ImportedSale], results: dict[int, RowResult]) -> dict[int, int]:
    """Takes out of `valid` each sale of a transaction an earlier sale of the batch has: the same
    sale (`fingerprint`) is answered with the first one's outcome, so it is returned with the
    first's index; another one is refused in `results`."""
    first: dict[Key, tuple[int, int]] = {}
    repeats: dict[int, int] = {}
    for i, sale in list(valid.items()):
        key, this = (sale.store_id, sale.pos_txn_id), fingerprint(sale)
        if (earlier := first.get(key)) is None:
            first[key] = (i, this)
            continue
        del valid[i]
        if earlier[1] == this:
            repeats[i] = earlier[0]
        else:
            results[i] = RowResult(RowStatus.REJECTED, conflicting_repeat(f"sale {earlier[0] + 1} of this batch"))
    return repeats


# A recorded POS transaction as an import tells it from another: its amount and its local day.
Recorded = tuple[Decimal, date]


def _present_or_another(key: Key, kept: Recorded, this: Recorded) -> RowResult:
    """The same transaction with another amount, or on another day, is another sale under the
    same id (a till numbering its sales as the old system did, or an old system whose numbers
    start again every day): refused, not answered present as if the history were in."""
    if this == kept:
        return RowResult(RowStatus.PRESENT)
    (amount, day), (kept_amount, kept_day) = this, kept
    said = f"of {kept_amount} (not {amount})" if amount != kept_amount else f"on {kept_day} (not {day})"
    return RowResult(RowStatus.REJECTED, f"pos_txn_id: {key[0]}/{key[1]} is recorded already as another sale, {said}")


def announce(uow: UnitOfWork, sales: Sequence[c.PurchaseMadeV1]) -> None:
    """`sales_imported` for the gateway (which keeps every POS transaction id), in events of at
    most `ANNOUNCED_SALES` sales and about `ANNOUNCED_SKUS` skus: far below the broker's message
    size however large the baskets. Each transaction once, as recorded (the first of a batch)."""
    chunk: list[c.ImportedSaleRef] = []
    skus = 0
    seen: set[Key] = set()
    for sale in sales:
        if (sale.store_id, sale.pos_txn_id) in seen:
            continue
        seen.add((sale.store_id, sale.pos_txn_id))
        detail = sold_skus(sale.lines)
        sold = [c.SoldQuantity.model_construct(sku=sku, qty=qty, categories=list(detail[sku].categories), amount=detail[sku].amount)
                for sku, qty in quantities_by_sku(sale.lines).items()]
        # Built without validating again: every value passed the import's own rules just now.
        chunk.append(c.ImportedSaleRef.model_construct(
            store_id=sale.store_id, pos_txn_id=sale.pos_txn_id, occurred_at=sale.occurred_at, total=sale.total, sold=sold))
        skus += len(sold)
        if len(chunk) >= ANNOUNCED_SALES or skus >= ANNOUNCED_SKUS:
            uow.emit(SALES_IMPORTED, c.SalesImportedV1.model_construct(sales=chunk), key=ANNOUNCEMENT_KEY)
            chunk, skus = [], 0
    if chunk:
        uow.emit(SALES_IMPORTED, c.SalesImportedV1.model_construct(sales=chunk), key=ANNOUNCEMENT_KEY)


async def _recorded(uow: UnitOfWork, keys: Sequence[Key], zone: ZoneInfo) -> dict[Key, Recorded]:
    """The POS transactions among `keys` recorded already, with the total each was recorded with
    and the local day it was sold on."""
    if not keys:
        return {}
    session = uow.session
    p = PURCHASES.c
    found = await session.exec(select(p.store_id, p.pos_txn_id, p.total, p.occurred_at).where(  # type: ignore[call-overload]
        one_of(session, p.store_id, {store for store, _ in keys}), one_of(session, p.pos_txn_id, {txn for _, txn in keys})))
    wanted = set(keys)
    return {(store, txn): (total, at.astimezone(zone).date()) for store, txn, total, at in found if (store, txn) in wanted}


def _customer(sale: ImportedSale, pepper: str) -> c.CustomerRef | None:
    # Built without validating again: the card and phone passed the shared types just now.
    if sale.card_no is not None:
        return c.CustomerRef.model_construct(card_no=sale.card_no, phone_hmac=None)
    if sale.phone is not None:
        return c.CustomerRef.model_construct(card_no=None, phone_hmac=phone_hmac(sale.phone, pepper))
    return None


async def _known(uow: UnitOfWork, refs: list[c.CustomerRef]) -> set[str]:
    """The customer keys (`CustomerRef.key`) of `refs` that name a member, in one query."""
    cards = {r.card_no for r in refs if r.card_no}
    phones = {r.phone_hmac for r in refs if r.phone_hmac}
    if not cards and not phones:
        return set()
    session = uow.session
    m = MEMBERS.c
    conditions = []
    if cards:
        conditions.append(one_of(session, m.card_no, cards))
    if phones:
        conditions.append(one_of(session, m.phone_hmac, phones))
    found = await session.exec(select(m.card_no, m.phone_hmac).where(or_(*conditions)))  # type: ignore[call-overload]
    keys: set[str] = set()
    for card_no, hmac in found:
        keys.add(f"card:{card_no}")
        if hmac:
            keys.add(f"phone:{hmac}")
    return keys


def _sale(sale: ImportedSale, customer: c.CustomerRef | None, now: datetime, origin: Origin) -> Sale:
    # The event id a till's sale of this transaction gets: whichever arrives second, live or
    # imported, is the same sale to every service downstream.
    event_id = sale_event_id(sale.store_id, sale.pos_txn_id)
    # The old system's discount is one, with no coupon code: the codes it redeemed are not this platform's.
    discounts = [c.Discount.model_construct(code=None, amount=sale.discount, label="")] if sale.discount else []
    event = c.PurchaseMadeV1.model_construct(
        store_id=sale.store_id, pos_txn_id=sale.pos_txn_id, occurred_at=sale.occurred_at, customer=customer,
        lines=list[c.SaleLine](sale.lines), total=sale.amount, payment=sale.payment, coupons=[], discounts=discounts,
    )
    envelope = Envelope.model_construct(
        specversion="1.0", id=event_id, source=SOURCE, type=PURCHASE_MADE, time=now, subject=None,
        datacontenttype="application/json", correlationid=None, crmcredential=None, data={},
    )
    return Sale(Delivery(envelope, event), event, (sale.store_id, sale.pos_txn_id), sale.discount, sale.paid, origin)
