"""Each member's purchases per item (SKU and category, when, how many, for how much, net of
returns), kept from members' attributed sales and returns for the personal offer lists.

Sales arrive by the thousand after an outage or a late match, so both handlers take a batch: one
look-up of erased members and one multi-row INSERT per batch. Every line is keyed by its event and
SKU (ON CONFLICT DO NOTHING), so a redelivery adds nothing; a return is stored as negative lines
of its sale, so it counts whether it comes before or after the sale.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, type_coerce
from sqlalchemy import select as core_select
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import CustomerItemRow, CustomerRow
from shared.columns import MoneyColumn, Qty, UtcDateTime
from shared.consumer import Delivery
from shared.db import driver_connection, insert_or_skip, is_postgresql, one_of
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
    await insert_or_skip(uow.session, ITEMS, rows)


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


@dataclass
class Shopper:
    """A member's history as the prediction reads it: the local days (date ordinals, ascending,
    distinct) they bought each item (`sku:<sku>`, `category:<name>`) and shopped at all, net of
    returns, and what they last paid per unit of each SKU."""

    history: dict[str, list[int]] = field(default_factory=dict)
    visits: list[int] = field(default_factory=list)
    paid_last: dict[str, Decimal] = field(default_factory=dict)


# On PostgreSQL the lines are grouped by the database: a member's year of lines comes back as a row
# per SKU (the local days it was bought, what was paid per unit the last time), not a row per line,
# which is most of the cost of building 100,000 lists. A sale's SKU is one line (see `_lines`);
# its returns, rare, are netted by a join rather than by grouping every line by sale.
_BY_SKU = """
WITH back AS (
  SELECT sale_event_id, sku, sum(qty) AS qty, sum(amount) AS amount FROM customer_item
  WHERE member_id = ANY($2::varchar[]) AND qty < 0 AND occurred_at >= $3 AND occurred_at < $4
  GROUP BY sale_event_id, sku
)
SELECT i.member_id, i.sku, max(i.category), array_agg((i.occurred_at AT TIME ZONE $1)::date - DATE '0001-01-01' + 1),
       (array_agg(round((i.amount + coalesce(b.amount, 0)) / 100.0 / ((i.qty + coalesce(b.qty, 0)) / 1000.0), 2)
                  ORDER BY i.occurred_at DESC))[1]
FROM customer_item i LEFT JOIN back b ON b.sale_event_id = i.sale_event_id AND b.sku = i.sku
WHERE i.member_id = ANY($2::varchar[]) AND i.qty > 0 AND i.occurred_at >= $3 AND i.occurred_at < $4
  AND i.qty + coalesce(b.qty, 0) > 0
GROUP BY i.member_id, i.sku
"""


async def histories(session: AsyncSession, since: datetime, until: datetime, member_ids: Sequence[str],
                    zone: ZoneInfo) -> dict[str, Shopper]:
    """Each member's history from the kept lines of sales in [since, until); members without one
    are left out."""
    if is_postgresql(session):
        # Straight through the driver: tens of thousands of rows of arrays a chunk, where SQLAlchemy's
        # result processing cost as much as the rest of reading them.
        raw = await driver_connection(session)
        await raw.execute("SET LOCAL work_mem = '64MB'")  # the sort by member and SKU, in memory
        rows = await raw.fetch(_BY_SKU, zone.key, list(member_ids), since, until)
        return _shoppers((m, sku, category or "", set(days), paid) for m, sku, category, days, paid in rows)
    days: dict[tuple[str, str], set[int]] = defaultdict(set)
    last: dict[tuple[str, str], Line] = {}
    for ln in await lines_of(session, since, until, member_ids):
        key = (ln.member_id, ln.sku)
        days[key].add(ln.occurred_at.astimezone(zone).date().toordinal())
        if key not in last or ln.occurred_at > last[key].occurred_at:
            last[key] = ln
    return _shoppers((m, sku, last[(m, sku)].category, bought, _unit(last[(m, sku)].amount, last[(m, sku)].qty))
                     for (m, sku), bought in days.items())


def _shoppers(by_sku: Iterable[tuple[str, str, str, set[int], Decimal]]) -> dict[str, Shopper]:
    """Members' histories from (member, SKU, category, days bought, last unit price): a category's
    days and the visits are the union of its SKUs' and of all."""
    found: dict[str, Shopper] = {}
    categories: dict[tuple[str, str], set[int]] = defaultdict(set)
    visits: dict[str, set[int]] = defaultdict(set)
    for member_id, sku, category, bought, paid in by_sku:
        shopper = found.get(member_id)
        if shopper is None:
            shopper = found[member_id] = Shopper()
        shopper.history[f"sku:{sku}"] = sorted(bought)
        shopper.paid_last[sku] = paid
        if category:
            categories[(member_id, category)].update(bought)
        visits[member_id].update(bought)
    for (member_id, category), bought in categories.items():
        found[member_id].history[f"category:{category}"] = sorted(bought)
    for member_id, shopped in visits.items():
        found[member_id].visits = sorted(shopped)
    return found


def _unit(amount: Decimal, qty: Decimal) -> Decimal:
    return (amount / qty).quantize(CENT, ROUND_HALF_UP)


async def latest(session: AsyncSession) -> datetime | None:
    return (await session.exec(core_select(type_coerce(func.max(ITEMS.c.occurred_at), UtcDateTime())))).scalar_one()  # type: ignore[call-overload]


async def members_with_history(session: AsyncSession, since: datetime, until: datetime) -> list[str]:
    found = await session.exec(core_select(ITEMS.c.member_id).where(  # type: ignore[call-overload]
        ITEMS.c.occurred_at >= since, ITEMS.c.occurred_at < until).distinct().order_by(ITEMS.c.member_id))
    return list(found.scalars().all())
