"""Budgets and caps: the counters a coupon's use is taken from and given back to."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from sqlalchemy import literal, update
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import CouponCounterRow, CouponRow
from campaigns.domain.coupons import ZERO, TemplateSpec
from shared.columns import MoneyColumn
from shared.db import insert_into

COUNTER = CouponCounterRow.__table__  # type: ignore[attr-defined]


def campaign_key(template_id: str, campaign_id: str | None) -> str:
    return f"{template_id}|{campaign_id or '-'}"


def period_of(at: datetime, days: int, zone: tzinfo) -> int:
    """The period of `days` a use at `at` counts in, by the chain's local calendar: a daily cap
    starts again at local midnight (not at UTC's, 08:00 in Shanghai), and periods are numbered from
    the first day of the calendar, a Monday, so that weekly ones run Monday to Sunday."""
    return (at.astimezone(zone).date().toordinal() - 1) // days


@dataclass(frozen=True)
class Take:
    key: str
    count_cap: int | None = None
    amount_cap: Decimal | None = None


def counters(spec: TemplateSpec, key: str, member_id: str | None, store_id: str, period: int | None) -> list[Take]:
    """The counters one use of a coupon goes into, in key order (one lock order for every till)."""
    caps = spec.caps
    takes = [Take(f"{key}|redemptions", caps.redemptions, caps.amount)]
    if member_id is not None and caps.per_member is not None:
        takes.append(Take(f"{key}|member|{member_id}", caps.per_member))
    if member_id is not None and caps.per_member_per_period is not None and period is not None:
        takes.append(Take(f"{key}|member|{member_id}|period|{period}", caps.per_member_per_period))
    if caps.per_store is not None:
        takes.append(Take(f"{key}|store|{store_id}", caps.per_store))
    return sorted(takes, key=lambda t: t.key)


async def ensure_counter(session: AsyncSession, key: str) -> None:
    await session.exec(insert_into(session, COUNTER).values(key=key, used_count=0, used_amount=ZERO).on_conflict_do_nothing(index_elements=["key"]))


async def take_counter(session: AsyncSession, take: Take, count: int, amount: Decimal) -> bool:
    """Adds to the counter unless that would pass its cap: one conditional UPDATE, atomic on
    PostgreSQL (a concurrent update is waited for and the condition checked again) and SQLite."""
    await ensure_counter(session, take.key)
    statement = update(COUNTER).where(COUNTER.c.key == take.key)
    if take.count_cap is not None:
        statement = statement.where(COUNTER.c.used_count + count <= take.count_cap)
    if take.amount_cap is not None:
        # The cap bound as money too (fen), like the column: a bare Decimal would be bound as yuan.
        statement = statement.where(COUNTER.c.used_amount + amount <= literal(take.amount_cap, MoneyColumn()))
    result = await session.exec(
        statement.values(used_count=COUNTER.c.used_count + count, used_amount=COUNTER.c.used_amount + amount)
    )
    return result.rowcount == 1


async def give_back(session: AsyncSession, takes: Iterable[Take], amount: Decimal) -> None:
    for take in takes:
        await session.exec(
            update(COUNTER).where(COUNTER.c.key == take.key)
            .values(used_count=COUNTER.c.used_count - 1, used_amount=COUNTER.c.used_amount - amount)
        )


async def take_all(session: AsyncSession, takes: list[Take], amount: Decimal) -> bool:
    """All of a use's counters or none: a savepoint is rolled back when one cap refuses."""
    savepoint = await session.begin_nested()
    for take in takes:
        if not await take_counter(session, take, 1, amount):
            await savepoint.rollback()
            return False
    await savepoint.commit()
    return True


async def counter(session: AsyncSession, key: str) -> CouponCounterRow | None:
    return await session.get(CouponCounterRow, key)


def counted_takes(spec: TemplateSpec, row: CouponRow) -> list[Take]:
    assert row.counted_store_id is not None
    return counters(spec, row.campaign_key, row.counted_member_id, row.counted_store_id, row.counted_period)
