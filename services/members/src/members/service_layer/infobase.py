"""The information base's read model, kept in step with every attributed sale and return.

One row per (member, store, business day) holds the net spend and the number of sales; the
community ranking (level 1) over dates and a community's customers (level 2) aggregate it instead
of the purchase lines. One row per (household, store) and per household over all stores holds the
same all-time totals, so the ranking without dates counts households without grouping day rows. It is written in the same transaction as the sale or return (`projections`), so
it never drifts from the members' spend, and late matches at registration count like any sale.

Business day: the local date in the chain's timezone (`CRM_BUSINESS_TIMEZONE`, Asia/Shanghai by
default), so a sale at 00:30 Beijing time belongs to that day, not to the previous UTC day.

A return lowers the spend of the day and store of its *sale*, not of the day it happened: "spend
in a period" then means what the sales of that period are worth after returns, which is what the
purchase list (level 3) shows for the same period (each sale with its returns beneath it), and a
period's figure never turns negative because goods bought earlier were returned in it. The price is
that a closed period's figure can still go down when a later return arrives.
"""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnCollection, ColumnElement, Date, Integer, Select, String, Table, case, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables import MemberRow, PurchaseRow, ReturnRow
from members.adapters.tables.infobase import ALL_STORES, HouseholdStoreSpendRow, MemberDaySpendRow
from shared.columns import MoneyColumn, UtcDateTime
from shared.db import is_postgresql


def business_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def day_bounds(first: date | None, last: date | None, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The instants [start, end) covering business days first..last (either side may be open)."""
    start = datetime.combine(first, time(), zone) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), zone) if last else None
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
    m = MemberRow.__table__.c  # type: ignore[attr-defined]
    # The community and household come from the member row as committed now, not from the object
    # the sale loaded earlier, for the same reason.
    resident = (m.id == member.id, m.community_id.is_not(None), m.household_id.is_not(None))
    day = business_day(purchase.occurred_at, zone)
    at = literal(purchase.occurred_at, UtcDateTime())
    amount, count = literal(spend, MoneyColumn()), literal(purchases, Integer())
    day_table = MemberDaySpendRow.__table__  # type: ignore[attr-defined]
    await _upsert(
        session, day_table, ("member_id", "store_id", "business_day"),
        select(m.id, literal(purchase.store_id, String()), literal(day, Date()), m.community_id, m.household_id,
               amount, count, at).where(*resident),
        ("community_id", "household_id", "spend", "purchases", "last_purchase_at"),
        last_purchase_at=lambda excluded: case(
            (excluded.last_purchase_at > day_table.c.last_purchase_at, excluded.last_purchase_at),
            else_=day_table.c.last_purchase_at,
        ),
    )
    for store in (purchase.store_id, ALL_STORES):
        await _upsert(
            session, HouseholdStoreSpendRow.__table__, ("household_id", "store_id"),  # type: ignore[attr-defined]
            select(m.household_id, literal(store, String()), m.community_id, amount, count).where(*resident),
            ("community_id", "spend", "purchases"),
        )


async def _upsert(
    session: AsyncSession, table: Table, key: tuple[str, ...], source: Select, rest: tuple[str, ...],
    **special: Callable[[ColumnCollection], ColumnElement],
) -> None:
    """INSERT the row `source` selects, or add its spend and purchases to the existing one."""
    dialect = postgresql if is_postgresql(session) else sqlite
    stmt = dialect.insert(table).from_select([*key, *rest], source)
    added = {
        "spend": table.c.spend + stmt.excluded.spend,
        "purchases": table.c.purchases + stmt.excluded.purchases,
    }
    added.update({name: make(stmt.excluded) for name, make in special.items()})
    await session.exec(stmt.on_conflict_do_update(index_elements=list(key), set_=added))
