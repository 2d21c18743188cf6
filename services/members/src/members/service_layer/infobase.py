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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, case, select
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables import MemberRow, PurchaseRow, ReturnRow
from members.adapters.tables.infobase import ALL_STORES, HouseholdStoreSpendRow, MemberDaySpendRow
from shared.db import insert_many

MEMBERS = MemberRow.__table__  # type: ignore[attr-defined]
DAYS = MemberDaySpendRow.__table__  # type: ignore[attr-defined]
HOUSEHOLDS = HouseholdStoreSpendRow.__table__  # type: ignore[attr-defined]


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
    await _upsert(
        session, DAYS, ("member_id", "store_id", "business_day"), [days[k] for k in sorted(days)],
        last_purchase_at=lambda excluded: case(
            (excluded.last_purchase_at > DAYS.c.last_purchase_at, excluded.last_purchase_at), else_=DAYS.c.last_purchase_at,
        ),
    )
    await _upsert(session, HOUSEHOLDS, ("household_id", "store_id"), [households[k] for k in sorted(households)])


async def _upsert(
    session: AsyncSession, table: Table, key: tuple[str, ...], rows: list[dict[str, Any]],
    **special: Any,
) -> None:
    """INSERT the rows, or add their spend and purchases to the existing ones (the community and
    household of an existing row stay those of its first sale)."""
    stmt, params = insert_many(session, table, rows)
    added: dict[str, ColumnElement] = {
        "spend": table.c.spend + stmt.excluded.spend,
        "purchases": table.c.purchases + stmt.excluded.purchases,
    }
    added.update({name: make(stmt.excluded) for name, make in special.items()})
    await session.exec(stmt.on_conflict_do_update(index_elements=list(key), set_=added), params=params)
