"""The information base's read model, kept in step with every attributed sale and return.

One row per (member, store, business day) holds the net spend and the number of sales; the
community ranking (level 1) over dates and a community's customers (level 2) aggregate it instead
of the purchase lines. One row per (household, store) and per household over all stores holds the
same all-time totals, so the ranking without dates counts households without grouping day rows.
One row per (household, store or all stores, month) holds the day rows summed per month, so a long
range of dates reads months instead of days. It is all written in the same transaction as the sale
or return (`projections`, `sales_batch`, both through `add_spend`), so it never drifts from the
members' spend, and late matches at registration count like any sale.

Business day: the local date in the chain's timezone (`CRM_BUSINESS_TIMEZONE`, Asia/Shanghai by
default), so a sale at 00:30 Beijing time belongs to that day, not to the previous UTC day.

A return lowers the spend of the day and store of its *sale*, not of the day it happened: "spend
in a period" then means what the sales of that period are worth after returns, which is what the
purchase list (level 3) shows for the same period (each sale with its returns beneath it), and a
period's figure never turns negative because goods bought earlier were returned in it. The price is
that a closed period's figure can still go down when a later return arrives. For the same reason a
return taken at another store of the chain (`sale_store_id`) lowers the figures of the store that
made the sale, not of the store whose till paid the money back: a store's figures are what its
sales are worth, and the returning store never had the sale to lose.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, Table, case, cast, delete, func, insert, literal, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables import MemberRow, PurchaseRow, ReturnRow
from members.adapters.tables.infobase import (
    ALL_STORES,
    HouseholdMonthSpendRow,
    HouseholdStoreSpendRow,
    MemberDaySpendRow,
)
from members.domain.month_ranges import month_start
from shared.db import BulkInsert, is_postgresql, one_of
from shared.zones import end_of_day, start_of_day

MEMBERS = MemberRow.__table__  # type: ignore[attr-defined]
DAYS = MemberDaySpendRow.__table__  # type: ignore[attr-defined]
HOUSEHOLDS = HouseholdStoreSpendRow.__table__  # type: ignore[attr-defined]
MONTHS = HouseholdMonthSpendRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SpendChange:
    """What one sale (purchases 1) or return (purchases 0, spend negative) adds to the read model,
    for a member living in `community_id` / `household_id` when it is counted."""

    member_id: str
    community_id: str
    household_id: str
    store_id: str
    day: date
    spend: Decimal
    purchases: int
    at: datetime  # when the sale was made


def business_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def day_bounds(first: date | None, last: date | None, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The instants [start, end) covering business days first..last (either side may be open)."""
    start = start_of_day(first, zone) if first else None
    end = end_of_day(last, zone) if last else None
    return start, end


async def record_sale(session: AsyncSession, member: MemberRow, purchase: PurchaseRow, zone: ZoneInfo) -> None:
    await _add(session, member, purchase, zone, spend=purchase.total - purchase.discount, purchases=1)


async def record_return(session: AsyncSession, member: MemberRow, purchase: PurchaseRow, ret: ReturnRow, zone: ZoneInfo) -> None:
    await _add(session, member, purchase, zone, spend=-ret.paid, purchases=0)


async def _add(
    session: AsyncSession, member: MemberRow, purchase: PurchaseRow, zone: ZoneInfo, *, spend: Decimal, purchases: int
) -> None:
    # Flushing first writes the member's new spend, which takes the member's row lock before the
    # community is read below: a concurrent community merge (which updates members first) is then
    # either already visible or waits for this transaction, so no row keeps a merged-away community.
    await session.flush()
    # The community and household come from the member row as committed now, not from the object
    # the sale loaded earlier, for the same reason.
    home = (await session.exec(
        select(MEMBERS.c.community_id, MEMBERS.c.household_id).where(MEMBERS.c.id == member.id)  # type: ignore[call-overload]
    )).one()
    community_id, household_id = home
    if community_id is None or household_id is None:
        return
    await add_spend(session, [SpendChange(
        member.id, community_id, household_id, purchase.store_id, business_day(purchase.occurred_at, zone), spend,
        purchases, purchase.occurred_at,
    )])


async def add_spend(session: AsyncSession, changes: Iterable[SpendChange]) -> None:
    """Adds sales and returns to the day rows and the household rollups: one multi-row upsert per
    table, however many changes. Changes of the same row are summed first (an upsert may touch a
    row once), and rows are written in key order so two writers never wait on each other in turn."""
    days: dict[tuple[str, str, date], dict[str, Any]] = {}
    households: dict[tuple[str, str], dict[str, Any]] = {}
    for ch in changes:
        day = days.get((ch.member_id, ch.store_id, ch.day))
        if day is None:
            days[(ch.member_id, ch.store_id, ch.day)] = {
                "member_id": ch.member_id, "store_id": ch.store_id, "business_day": ch.day,
                "community_id": ch.community_id, "household_id": ch.household_id,
                "spend": ch.spend, "purchases": ch.purchases, "last_purchase_at": ch.at,
            }
        else:
            day["spend"] += ch.spend
            day["purchases"] += ch.purchases
            day["last_purchase_at"] = max(day["last_purchase_at"], ch.at)
        for store in (ch.store_id, ALL_STORES):
            rollup = households.get((ch.household_id, store))
            if rollup is None:
                households[(ch.household_id, store)] = {
                    "household_id": ch.household_id, "store_id": store, "community_id": ch.community_id,
                    "spend": ch.spend, "purchases": ch.purchases,
                }
            else:
                rollup["spend"] += ch.spend
                rollup["purchases"] += ch.purchases
    if not days:
        return
    stored = (await _ADD_DAYS.run(session, [days[k] for k in sorted(days)])).all()
    await _ADD_HOUSEHOLDS.run(session, [households[k] for k in sorted(households)])
    months = _month_changes(days, stored)
    await _ADD_MONTHS.run(session, months)
    await _chain_months(session, one_of(session, MONTHS.c.household_id, sorted({m["household_id"] for m in months})))


MONTH_KEY = ("store_id", "month", "community_id", "household_id")


def _adding(
    table: Table, key: tuple[str, ...], columns: tuple[str, ...], returning: tuple[ColumnElement, ...] = (), **special: Any,
) -> BulkInsert:
    """INSERT the rows, or add their spend and purchases to the existing ones (the community and
    household of an existing row stay those of its first sale); `special` columns are set from the
    row offered (`excluded`) as they say; the result has the `returning` columns of every row
    written, as stored. Built once: every batch of sales runs the three of them."""

    def finish(insert: Any) -> Any:
        added: dict[str, ColumnElement] = {
            "spend": table.c.spend + insert.excluded.spend,
            "purchases": table.c.purchases + insert.excluded.purchases,
        }
        added.update({name: make(insert.excluded) for name, make in special.items()})
        upsert = insert.on_conflict_do_update(index_elements=list(key), set_=added)
        return upsert.returning(*returning) if returning else upsert

    return BulkInsert(table, columns, finish)


_ADD_DAYS = _adding(
    DAYS, ("member_id", "store_id", "business_day"),
    ("member_id", "store_id", "business_day", "community_id", "household_id", "spend", "purchases", "last_purchase_at"),
    returning=(DAYS.c.member_id, DAYS.c.store_id, DAYS.c.business_day, DAYS.c.community_id, DAYS.c.household_id),
    last_purchase_at=lambda excluded: case(
        (excluded.last_purchase_at > DAYS.c.last_purchase_at, excluded.last_purchase_at), else_=DAYS.c.last_purchase_at,
    ),
)
_ADD_HOUSEHOLDS = _adding(
    HOUSEHOLDS, ("household_id", "store_id"), ("household_id", "store_id", "community_id", "spend", "purchases"),
)
_ADD_MONTHS = _adding(
    MONTHS, MONTH_KEY, (*MONTH_KEY, "spend", "purchases", "last_day"),
    last_day=lambda excluded: case((excluded.last_day > MONTHS.c.last_day, excluded.last_day), else_=MONTHS.c.last_day),
)


def _month_changes(days: dict[tuple[str, str, date], dict[str, Any]], stored: list[Any]) -> list[dict[str, Any]]:
    """The day rows' changes summed per month, under the community and household the day row
    keeps (that of its first sale, which a later change of the same day does not move): the month
    rows then stay exactly the sum of their day rows."""
    home = {(r.member_id, r.store_id, r.business_day): (r.community_id, r.household_id) for r in stored}
    months: dict[tuple[str, date, str, str], dict[str, Any]] = {}
    for key, day in days.items():
        community_id, household_id = home[key]
        for store in (day["store_id"], ALL_STORES):
            month_key = (store, month_start(day["business_day"]), community_id, household_id)
            row = months.get(month_key)
            if row is None:
                months[month_key] = dict(
                    zip(MONTH_KEY, month_key, strict=True), spend=day["spend"], purchases=day["purchases"], last_day=day["business_day"],
                )
            else:
                row["spend"] += day["spend"]
                row["purchases"] += day["purchases"]
                row["last_day"] = max(row["last_day"], day["business_day"])
    return [months[k] for k in sorted(months)]


async def _chain_months(session: AsyncSession, which: ColumnElement[bool]) -> None:
    """Sets `prev_day` of the month rows of the households `which` selects to the `last_day` of
    each one's previous month row: a new month row, or a later day in a month, moves the
    pointer of the month after it (a past sale arriving late, or imported, lands before others)."""
    # Two transactions recording sales of one household do not chain at the same time: the upsert
    # of the household's all-stores row in `add_spend` makes the second wait for the first to
    # commit, and this statement then sees the first one's months.
    m = MONTHS.c
    chained = (
        select(m.store_id, m.month, m.community_id, m.household_id,
               func.lag(m.last_day).over(partition_by=(m.store_id, m.community_id, m.household_id), order_by=m.month)
               .label("prev_day"))
        .where(which)
        .subquery()
    )
    await session.exec(
        update(MONTHS)
        .where(*(m[k] == chained.c[k] for k in MONTH_KEY), m.prev_day.is_distinct_from(chained.c.prev_day))
        .values(prev_day=chained.c.prev_day)
    )


async def rebuild_months(session: AsyncSession, community_ids: list[str]) -> None:
    """Writes the month rows of the communities again from their day rows: after a merge moved day
    rows between communities and households, which an upsert of changes cannot follow."""
    await session.exec(delete(MONTHS).where(MONTHS.c.community_id.in_(community_ids)))
    d = DAYS.c
    # The first of the month in each dialect (SQLite keeps dates as ISO text).
    month = (cast(func.date_trunc("month", d.business_day), Date) if is_postgresql(session)
             else func.date(d.business_day, "start of month"))
    for store, per_store in ((d.store_id, [d.store_id]), (literal(ALL_STORES), [])):
        per_month = (
            select(store, month, d.community_id, d.household_id, func.sum(d.spend), func.sum(d.purchases),
                   func.max(d.business_day))
            .where(d.community_id.in_(community_ids))
            .group_by(*per_store, month, d.community_id, d.household_id)
        )
        await session.exec(
            insert(MONTHS).from_select([*MONTH_KEY, "spend", "purchases", "last_day"], per_month)
        )
    await _chain_months(session, MONTHS.c.community_id.in_(community_ids))
