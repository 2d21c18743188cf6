"""Each member's purchases per item (SKU and category, when, how many, for how much, net of
returns), kept from members' attributed sales and returns for the personal offer lists.

Sales arrive by the thousand after an outage or a late match, so both handlers take a batch: one
look-up of erased members and one multi-row INSERT per batch. Every line is keyed by its event and
SKU (ON CONFLICT DO NOTHING), so a redelivery adds nothing; a return is stored as negative lines
of its sale, so it counts whether it comes before or after the sale.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, delete, func, text, type_coerce
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import CustomerItemRow, CustomerRow
from shared.columns import MoneyColumn, Qty, UtcDateTime
from shared.consumer import Delivery
from shared.db import insert_into, is_postgresql, one_of
from shared.events import contracts as c
from shared.unit_of_work import UnitOfWork

ITEMS = CustomerItemRow.__table__  # type: ignore[attr-defined]
CUSTOMERS = CustomerRow.__table__  # type: ignore[attr-defined]
ZERO = Decimal("0")
CENT = Decimal("0.01")


def _lines(lines: Iterable[c.AttributedLine], sign: int) -> dict[str, tuple[str, Decimal, Decimal]]:
    """SKU -> (category, qty, amount), a SKU on several lines of one receipt summed into one."""
    by_sku: dict[str, tuple[str, Decimal, Decimal]] = {}
    for line in lines:
        sku = line.sku[:64]
        category, qty, amount = by_sku.get(sku, (line.category[:64], ZERO, ZERO))
        by_sku[sku] = (category, qty + sign * line.qty, amount + sign * line.amount)
    return by_sku


async def _erased(uow: UnitOfWork, member_ids: set[str]) -> set[str]:
    found = await uow.session.exec(core_select(CUSTOMERS.c.member_id).where(  # type: ignore[call-overload]
        one_of(uow.session, CUSTOMERS.c.member_id, member_ids), CUSTOMERS.c.erased_at.is_not(None)))
    return set(found.scalars().all())


async def _store(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    if rows:
        # Executemany parameters: multi-row INSERTs of one cached statement (see coupons' issue).
        await uow.session.exec(insert_into(uow.session, ITEMS).on_conflict_do_nothing(), params=rows)


async def on_purchases_attributed(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
    sales = [cast(c.PurchaseAttributedV1, d.payload) for d in deliveries]
    erased = await _erased(uow, {s.member_id for s in sales})
    await _store(uow, [
        {"event_id": s.sale_event_id, "sku": sku, "sale_event_id": s.sale_event_id, "member_id": s.member_id,
         "category": category, "occurred_at": s.occurred_at, "qty": qty, "amount": amount}
        for s in sales if s.member_id not in erased
        for sku, (category, qty, amount) in _lines(s.lines, 1).items()
    ])


async def on_returns_attributed(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
    refunds = [cast(c.ReturnAttributedV1, d.payload) for d in deliveries]
    erased = await _erased(uow, {r.member_id for r in refunds})
    await _store(uow, [
        {"event_id": r.refund_event_id, "sku": sku, "sale_event_id": r.sale_event_id, "member_id": r.member_id,
         "category": category, "occurred_at": r.occurred_at, "qty": qty, "amount": amount}
        for r in refunds if r.member_id not in erased
        for sku, (category, qty, amount) in _lines(r.lines, -1).items()
    ])


async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    erased = cast(c.MemberErasedV1, delivery.payload)
    await uow.session.exec(delete(ITEMS).where(ITEMS.c.member_id == erased.member_id))


# --- reading it back


@dataclass(frozen=True, slots=True)
class Line:
    """What a member kept of one item of one sale (net of its returns so far)."""

    member_id: str
    sku: str
    category: str
    occurred_at: datetime
    qty: Decimal
    amount: Decimal


def _net(since: datetime, until: datetime) -> Any:
    """Per sale and SKU, the sale's time and what was kept: lines with nothing left (returned in
    full) or whose sale lies outside [since, until) drop out; returns after `until` are not known yet."""
    bought = ITEMS.c.qty > 0
    return (
        core_select(
            ITEMS.c.member_id, ITEMS.c.sku, func.max(ITEMS.c.category).filter(bought),
            type_coerce(func.min(ITEMS.c.occurred_at).filter(bought), UtcDateTime()),
            type_coerce(func.sum(ITEMS.c.qty), Qty()), type_coerce(func.sum(ITEMS.c.amount), MoneyColumn()),
        )
        .where(ITEMS.c.occurred_at >= since, ITEMS.c.occurred_at < until)
        .group_by(ITEMS.c.member_id, ITEMS.c.sale_event_id, ITEMS.c.sku)
        .having(func.count().filter(bought) > 0, func.sum(ITEMS.c.qty) > 0)
    )


def _line(row: Any) -> Line:
    member_id, sku, category, at, qty, amount = row
    return Line(member_id, sku, category or "", at, qty, amount)


async def lines_of(session: AsyncSession, since: datetime, until: datetime, member_ids: Sequence[str] | None = None) -> list[Line]:
    """The kept lines of sales in [since, until), of the given members or everyone, in one query."""
    query = _net(since, until)
    if member_ids is not None:
        query = query.where(one_of(session, ITEMS.c.member_id, member_ids))
    return [_line(r) for r in (await session.exec(query)).all()]


@dataclass(frozen=True, slots=True)
class ItemDays:
    """The local days a member bought one SKU (net of returns), and what they last paid per unit."""

    member_id: str
    sku: str
    category: str
    days: list[int]  # date ordinals, ascending, distinct
    paid_last: Decimal


# On PostgreSQL the days are grouped by the database: a member's year of lines comes back as a row
# per SKU, not a row per line, which is most of the cost of building 100,000 lists.
_ITEM_DAYS = text("""
SELECT member_id, sku, max(category),
       array_agg(DISTINCT ((at AT TIME ZONE :zone)::date - DATE '0001-01-01' + 1)),
       (array_agg(amount ORDER BY at DESC))[1], (array_agg(qty ORDER BY at DESC))[1]
FROM (
  SELECT member_id, sku, max(category) FILTER (WHERE qty > 0) AS category,
         min(occurred_at) FILTER (WHERE qty > 0) AS at, sum(qty) AS qty, sum(amount) AS amount
  FROM customer_item
  WHERE member_id = ANY(:members) AND occurred_at >= :since AND occurred_at < :until
  GROUP BY member_id, sale_event_id, sku
  HAVING count(*) FILTER (WHERE qty > 0) > 0 AND sum(qty) > 0
) AS kept
GROUP BY member_id, sku
""").bindparams(bindparam("members", type_=ARRAY(String())), bindparam("since", type_=UtcDateTime()),
                bindparam("until", type_=UtcDateTime()))


async def item_days(session: AsyncSession, since: datetime, until: datetime, member_ids: Sequence[str],
                    zone: ZoneInfo) -> list[ItemDays]:
    """Per member and SKU, the local days of the kept lines of sales in [since, until)."""
    if is_postgresql(session):
        found = await session.exec(_ITEM_DAYS, params={  # type: ignore[call-overload]
            "zone": zone.key, "members": list(member_ids), "since": since, "until": until})
        return [ItemDays(m, sku, category or "", sorted(days), _unit(Decimal(amount).scaleb(-2), Decimal(qty).scaleb(-3)))
                for m, sku, category, days, amount, qty in found.all()]
    days: dict[tuple[str, str], set[int]] = defaultdict(set)
    last: dict[tuple[str, str], Line] = {}
    for ln in await lines_of(session, since, until, member_ids):
        key = (ln.member_id, ln.sku)
        days[key].add(ln.occurred_at.astimezone(zone).date().toordinal())
        if key not in last or ln.occurred_at > last[key].occurred_at:
            last[key] = ln
    return [ItemDays(m, sku, last[(m, sku)].category, sorted(d), _unit(last[(m, sku)].amount, last[(m, sku)].qty))
            for (m, sku), d in days.items()]


def _unit(amount: Decimal, qty: Decimal) -> Decimal:
    return (amount / qty).quantize(CENT, ROUND_HALF_UP)


async def latest(session: AsyncSession) -> datetime | None:
    return (await session.exec(core_select(type_coerce(func.max(ITEMS.c.occurred_at), UtcDateTime())))).scalar_one()  # type: ignore[call-overload]


async def members_with_history(session: AsyncSession, since: datetime, until: datetime) -> list[str]:
    found = await session.exec(core_select(ITEMS.c.member_id).where(  # type: ignore[call-overload]
        ITEMS.c.occurred_at >= since, ITEMS.c.occurred_at < until).distinct().order_by(ITEMS.c.member_id))
    return list(found.scalars().all())
