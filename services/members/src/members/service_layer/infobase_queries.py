"""The three levels of the customer information base, read from the read model and the sales.

1. communities ranked by buying households or by spend (from `infobase_household_month` for the
   whole months of the period and `infobase_member_day` for the days at its ends);
2. one community's customers ranked by spend (same read model, so they add up to level 1);
3. one customer's purchase list line by line, each sale followed by its returns.

A "buying household" bought at least once in the period; a sale that was later returned in full
still counts as a visit, the same rule as the members' purchase count (domain/spend.py).
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    Result,
    RowMapping,
    Select,
    String,
    Subquery,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    nulls_last,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables import (
    CommunityRow,
    MemberRow,
    PurchaseLineRow,
    PurchaseRow,
    ReturnLineRow,
    ReturnRow,
)
from members.adapters.tables.infobase import (
    ALL_STORES,
    HouseholdMonthSpendRow,
    HouseholdStoreSpendRow,
    MemberDaySpendRow,
)
from members.adapters.tables.staff import StaffRow
from members.domain.month_ranges import Days, split_months
from members.service_layer.infobase import day_bounds
from shared.columns import MoneyColumn

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Period:
    """Which sales count: one store or all, business days first..last (inclusive, open if None)."""

    zone: ZoneInfo
    store_id: str | None = None
    first: date | None = None
    last: date | None = None

    def read_model_filters(self) -> list[ColumnElement[bool]]:
        return _day_filters(self.store_id, self.first, self.last)


def _day_filters(store_id: str | None, first: date | None, last: date | None) -> list[ColumnElement[bool]]:
    d = MemberDaySpendRow
    found: list[ColumnElement[bool]] = []
    if store_id:
        found.append(col(d.store_id) == store_id)
    if first:
        found.append(col(d.business_day) >= first)
    if last:
        found.append(col(d.business_day) <= last)
    return found


class CommunityOrder(StrEnum):
    HOUSEHOLDS = "households"
    SPEND = "spend"


@dataclass(frozen=True)
class CommunityRank:
    community_id: str
    name: str
    member_count: int
    households: int
    spend: Decimal
    purchases: int

    @property
    def spend_per_household(self) -> Decimal:
        return average_per_household(self.spend, self.households)


def average_per_household(spend: Decimal, households: int) -> Decimal:
    """Spend per buying household, to the fen; a community nobody bought in averages 0."""
    return (spend / households).quantize(Decimal("0.01")) if households else ZERO


def _per_community(period: Period) -> Subquery:
    """(community_id, households, spend, purchases) of the period's buying households."""
    if period.first is None and period.last is None:
        # All time: one rollup row per household (and store), so households are plain counts.
        h = HouseholdStoreSpendRow
        return (
            select(col(h.community_id), func.count().label("households"), func.sum(h.spend).label("spend"),
                   func.sum(h.purchases).label("purchases"))
            .where(col(h.store_id) == (period.store_id or ALL_STORES), col(h.purchases) > 0)
            .group_by(h.community_id)
            .subquery()
        )
    split = split_months(period.first, period.last)
    if split.months is None:
        return _count_households(_households_in(period, (period.first, period.last))).subquery()
    # Whole months from the month rows, the days before and after them from the day rows. Each
    # buying household is counted once, by the first part it bought in: a month row counts its
    # household if the household bought nothing between the period's first day and that month
    # (`prev_day` before it), and so does the household of a day after the months.
    m = HouseholdMonthSpendRow
    first_in_period = _first_buy_in_period(col(m.prev_day), period.first)
    first_month, last_month = split.months
    in_months = [col(m.store_id) == (period.store_id or ALL_STORES)]
    if first_month:
        in_months.append(col(m.month) >= first_month)
    if last_month:
        in_months.append(col(m.month) <= last_month)
    parts: list[Select[*tuple[Any, ...]]] = [
        select(
            col(m.community_id), func.count(case((first_in_period, 1))).label("households"),
            func.sum(m.spend).label("spend"), func.sum(m.purchases).label("purchases"),
        )
        .where(*in_months)
        .group_by(m.community_id)
    ]
    if split.head:
        parts.append(_count_households(_households_in(period, split.head)))
    if split.tail:
        tail = _households_in(period, split.tail)
        month = aliased(HouseholdMonthSpendRow)
        parts.append(
            select(
                tail.c.community_id, func.count(case((_first_buy_in_period(col(month.prev_day), period.first), 1))),
                func.sum(tail.c.spend), func.sum(tail.c.purchases),
            )
            .join(month, and_(
                col(month.store_id) == (period.store_id or ALL_STORES), col(month.month) == split.tail[0],
                col(month.community_id) == tail.c.community_id, col(month.household_id) == tail.c.household_id,
            ))
            .group_by(tail.c.community_id)
        )
    rows = union_all(*parts).subquery()
    return (
        select(
            rows.c.community_id, func.sum(rows.c.households).label("households"), func.sum(rows.c.spend).label("spend"),
            func.sum(rows.c.purchases).label("purchases"),
        )
        .group_by(rows.c.community_id)
        .subquery()
    )


def _households_in(period: Period, days: Days) -> Subquery:
    """(community_id, household_id, spend, purchases) of each household that bought on `days`."""
    d = MemberDaySpendRow
    return (
        select(col(d.community_id), col(d.household_id), func.sum(d.spend).label("spend"),
               func.sum(d.purchases).label("purchases"))
        .where(*_day_filters(period.store_id, *days))
        .group_by(d.community_id, d.household_id)
        .subquery()
    )


def _count_households(per_household: Subquery) -> Select[*tuple[Any, ...]]:
    # Per household first, so counting households is a plain count over small groups (a
    # COUNT(DISTINCT) would sort every row of the period).
    h = per_household.c
    return (
        select(h.community_id, func.count().label("households"), func.sum(h.spend).label("spend"),
               func.sum(h.purchases).label("purchases"))
        .group_by(h.community_id)
    )


def _first_buy_in_period(prev_day: Any, first: date | None) -> ColumnElement[bool]:
    """Whether a month row holds its household's first purchase of a period starting on `first`:
    the household's last purchase day before that month (`prev_day`) lies before `first`."""
    return prev_day.is_(None) if first is None else or_(prev_day.is_(None), prev_day < first)


async def _run(session: AsyncSession, statement: Executable) -> Result[*tuple[Any, ...]]:
    # The information base is written in SQLAlchemy Core (subqueries, unions, wide rows), which
    # SQLModel's exec() is not typed for: it accepts its own select() only.
    return await session.exec(statement)  # type: ignore[call-overload]


def community_ranking(period: Period, order: CommunityOrder, limit: int, offset: int) -> Select:
    """Level 1 as one statement: (id, name, members, households, spend, purchases) per community."""
    per_community = _per_community(period)
    members = (
        select(col(MemberRow.community_id), func.count().label("members"))
        .where(col(MemberRow.erased_at).is_(None), col(MemberRow.community_id).is_not(None))
        .group_by(MemberRow.community_id)
        .subquery()
    )
    households = func.coalesce(per_community.c.households, 0)
    spend = func.coalesce(per_community.c.spend, ZERO)
    ranking = [households.desc(), spend.desc()] if order == CommunityOrder.HOUSEHOLDS else [spend.desc(), households.desc()]
    return (
        select(
            col(CommunityRow.id), col(CommunityRow.name), func.coalesce(members.c.members, 0), households, spend,
            func.coalesce(per_community.c.purchases, 0),
        )
        .outerjoin(members, members.c.community_id == CommunityRow.id)
        .outerjoin(per_community, per_community.c.community_id == CommunityRow.id)
        .order_by(*ranking, CommunityRow.name, CommunityRow.id)
        .limit(limit)
        .offset(offset)
    )


async def rank_communities(
    session: AsyncSession, period: Period, order: CommunityOrder, limit: int, offset: int
) -> tuple[list[CommunityRank], int]:
    rows = (await _run(session, community_ranking(period, order, limit, offset))).all()
    total = (await _run(session, select(func.count()).select_from(CommunityRow))).scalar_one()
    return [CommunityRank(r[0], r[1], int(r[2]), int(r[3]), r[4], int(r[5])) for r in rows], total


@dataclass(frozen=True)
class CustomerRank:
    member_id: str
    card_no: str
    name: str
    tier: str
    manager_id: str | None
    manager_name: str | None
    spend: Decimal
    purchases: int
    last_purchase_at: datetime | None
    erased: bool


@dataclass(frozen=True)
class OutsideScope:
    """What the customers a scoped caller may not see (a store manager: other stores' customers
    buying at their store) spent in the community in the period: level 1 counts it, their level 2
    does not list it. `community_spend` is everyone's, as level 1 shows it."""

    spend: Decimal
    purchases: int
    community_spend: Decimal


async def community_customers(
    session: AsyncSession, community_id: str, period: Period, scope: list[ColumnElement[bool]], limit: int, offset: int
) -> tuple[list[CustomerRank], int, OutsideScope | None]:
    """Customers who live in the community or bought while living there, by spend in the period;
    residents who bought nothing in it come last with zero, so staff see whom to win over. For a
    caller who sees only some customers (`scope`), what the others spent (None when there is
    nothing they miss): without it their list and level 1's row would not add up, and a community
    level 1 ranks would read here as one without sales."""
    d = MemberDaySpendRow
    spent = (
        select(
            col(d.member_id), func.sum(d.spend).label("spend"), func.sum(d.purchases).label("purchases"),
            func.max(d.last_purchase_at).label("last_purchase_at"),
        )
        .where(col(d.community_id) == community_id, *period.read_model_filters())
        .group_by(d.member_id)
        .subquery()
    )
    spend = func.coalesce(spent.c.spend, ZERO)
    purchases = func.coalesce(spent.c.purchases, 0)
    base = (
        select(col(MemberRow.id))
        .outerjoin(spent, spent.c.member_id == col(MemberRow.id))
        .where(or_(col(MemberRow.community_id) == community_id, spent.c.member_id.is_not(None)), *scope)
    )
    query = (
        base.with_only_columns(
            col(MemberRow.id), col(MemberRow.card_no), col(MemberRow.name), col(MemberRow.tier), col(MemberRow.manager_id), col(StaffRow.name),
            spend, purchases, spent.c.last_purchase_at, col(MemberRow.erased_at),
        )
        .outerjoin(StaffRow, col(StaffRow.id) == col(MemberRow.manager_id))
        .order_by(spend.desc(), purchases.desc(), nulls_last(spent.c.last_purchase_at.desc()), MemberRow.id)
        .limit(limit)
        .offset(offset)
    )
    rows = (await _run(session, query)).all()
    total = (await _run(session, select(func.count()).select_from(base.subquery()))).scalar_one()
    ranks = [CustomerRank(r[0], r[1], r[2], r[3], r[4], r[5], r[6], int(r[7]), r[8], r[9] is not None) for r in rows]
    if not scope:
        return ranks, total, None
    sums = (func.coalesce(func.sum(spent.c.spend), ZERO), func.coalesce(func.sum(spent.c.purchases), 0))
    everyone = (await _run(session, select(*sums))).one()
    listed = (await _run(session, base.with_only_columns(*sums))).one()
    outside = OutsideScope(everyone[0] - listed[0], int(everyone[1]) - int(listed[1]), everyone[0])
    return ranks, total, outside if outside.spend or outside.purchases else None


@dataclass(frozen=True)
class PurchaseListLine:
    kind: str  # one of KINDS
    occurred_at: datetime
    store_id: str
    pos_txn_id: str
    refund_id: str | None
    line_no: int
    sku: str
    name: str
    category: str
    qty: Decimal
    unit_price: Decimal
    amount: Decimal


# A level 3 row: a sale's line, the sale's discounts (one row, negative), a returned line
# (negative), and what a return of a discounted sale keeps of its lines' amount (its share of the
# discounts, positive). By (is a return, is a discount) as the query numbers them.
KINDS = {(0, 0): "sale", (0, 1): "discount", (1, 0): "return", (1, 1): "return_discount"}


async def purchase_list(
    session: AsyncSession, member_id: str, period: Period, limit: int, offset: int
) -> tuple[list[PurchaseListLine], int]:
    """Newest sale first, line by line, then the sale's discounts; each return of it follows as
    negative rows, then what it kept of the discounts.

    The period selects sales by their business day and brings their returns along, so the rows
    of a period add up to the spend levels 1 and 2 show for it: what was paid, less what returns
    gave back.
    """
    p, pl, r, rl = PurchaseRow, PurchaseLineRow, ReturnRow, ReturnLineRow
    start, end = day_bounds(period.first, period.last, period.zone)
    sale_filters: list[ColumnElement[bool]] = []
    if period.store_id:
        sale_filters.append(col(p.store_id) == period.store_id)
    if start:
        sale_filters.append(col(p.occurred_at) >= start)
    if end:
        sale_filters.append(col(p.occurred_at) < end)
    zero, one, no_text = literal(0, Integer()), literal(1, Integer()), literal("", String())
    one_unit = literal(Decimal(1), PurchaseLineRow.__table__.c.qty.type)  # type: ignore[attr-defined]  # stored scaled, as qty is
    sold: Select[*tuple[Any, ...]] = (
        select(
            col(p.occurred_at).label("sale_at"), col(p.id).label("purchase_id"), zero.label("kind"),
            col(p.occurred_at).label("at"), zero.label("return_id"), cast(null(), String()).label("refund_id"),
            zero.label("discount"), col(p.store_id), col(p.pos_txn_id), col(pl.line_no), col(pl.sku), col(pl.name),
            col(pl.category), col(pl.qty), col(pl.unit_price), col(pl.amount),
        )
        .join(pl, col(pl.purchase_id) == col(p.id))
        .where(col(p.member_id) == member_id, *sale_filters)
    )
    # A sale an import kept as its total only has no lines: it is one row of its total, or the
    # rows would add up to less than levels 1 and 2 count for the same customer and period.
    total_only = (
        select(
            col(p.occurred_at), col(p.id), zero, col(p.occurred_at), zero, cast(null(), String()), zero,
            col(p.store_id), col(p.pos_txn_id), zero, no_text, no_text, no_text, one_unit, col(p.total), col(p.total),
        )
        .where(col(p.member_id) == member_id, ~exists().where(col(pl.purchase_id) == col(p.id)), *sale_filters)
    )
    discounts = (
        select(
            col(p.occurred_at), col(p.id), zero, col(p.occurred_at), zero, cast(null(), String()), one,
            col(p.store_id), col(p.pos_txn_id), zero, no_text, no_text, no_text, one_unit, col(p.discount),
            col(p.discount),
        )
        .where(col(p.member_id) == member_id, col(p.discount) > 0, *sale_filters)
    )
    returned = (
        select(
            col(p.occurred_at), col(p.id), one, col(r.occurred_at), col(r.id), col(r.refund_id), zero,
            col(p.store_id), col(p.pos_txn_id), col(rl.line_no), col(rl.sku), col(rl.name), col(rl.category), col(rl.qty), col(rl.unit_price), col(rl.amount),
        )
        .join(r, col(r.purchase_id) == col(p.id))
        .join(rl, col(rl.return_id) == col(r.id))
        .where(col(r.member_id) == member_id, col(r.applied_at).is_not(None), *sale_filters)
    )
    kept = type_coerce(col(r.amount) - col(r.paid), MoneyColumn())
    kept_discounts = (
        select(
            col(p.occurred_at), col(p.id), one, col(r.occurred_at), col(r.id), col(r.refund_id), one,
            col(p.store_id), col(p.pos_txn_id), zero, no_text, no_text, no_text, one_unit, kept, kept,
        )
        .join(r, col(r.purchase_id) == col(p.id))
        .where(col(r.member_id) == member_id, col(r.applied_at).is_not(None), col(r.amount) > col(r.paid), *sale_filters)
    )
    lines = union_all(sold, total_only, discounts, returned, kept_discounts).subquery()
    c = lines.c
    query = select(lines).order_by(
        c.sale_at.desc(), c.purchase_id.desc(), c.kind, c.at, c.return_id, c.discount, c.line_no
    ).limit(limit).offset(offset)
    rows = (await _run(session, query)).mappings().all()
    total = (await _run(session, select(func.count()).select_from(lines))).scalar_one()
    return [_line(row) for row in rows], total


def _line(row: RowMapping) -> PurchaseListLine:
    # Negative: a returned line and a sale's discounts; positive: a sale's line and what a return
    # kept of the discounts.
    sign = -1 if row["kind"] != row["discount"] else 1
    return PurchaseListLine(
        kind=KINDS[row["kind"], row["discount"]], occurred_at=row["at"], store_id=row["store_id"],
        pos_txn_id=row["pos_txn_id"], refund_id=row["refund_id"], line_no=row["line_no"], sku=row["sku"],
        name=row["name"], category=row["category"], qty=sign * row["qty"], unit_price=row["unit_price"],
        amount=sign * row["amount"],
    )
