"""Level 1 over date ranges reads month rows for whole months and day rows for the rest; the
answers must be those the day rows alone give, on SQLite and PostgreSQL.

Sales and returns go through the consumer (one by one and as a batch), so the month rows are the
ones the event path keeps, not a recomputation.
"""

import asyncio
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import members as members_package
from members.adapters.tables.infobase import ALL_STORES, HouseholdMonthSpendRow, MemberDaySpendRow
from shared.auth import Role
from shared.columns import MoneyColumn, UtcDateTime
from shared.migrations import upgrade
from tests.support.factories import line
from tests.support.members import deliver_batch, deliver_refund, deliver_sale, register, sale_event

pytestmark = pytest.mark.integration

RICE = line(sku="rice", qty="2", unit_price="39.90")      # 79.80
ONE_RICE = line(sku="rice", qty="1", unit_price="39.90")  # 39.90
PAINT = line(sku="paint", qty="1", unit_price="100.00")   # 100.00
TILES = line(sku="tiles", qty="10", unit_price="25.00")   # 250.00

# Shanghai is UTC+8: 16:30 UTC on 10-31 is 00:30 on 11-01, a November business day.
OCT_03 = datetime(2026, 10, 3, 2, 0, tzinfo=UTC)
OCT_20 = datetime(2026, 10, 20, 6, 0, tzinfo=UTC)
OCT_31_LATE = datetime(2026, 10, 31, 16, 30, tzinfo=UTC)
NOV_15 = datetime(2026, 11, 15, 3, 0, tzinfo=UTC)
NOV_30 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DEC_01 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
DEC_10 = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
JAN_05 = datetime(2027, 1, 5, 1, 0, tzinfo=UTC)

RANGES = [
    ("2026-10-01", "2026-12-31"),  # three whole months
    ("2026-11-01", "2026-11-30"),  # one whole month
    ("2026-10-15", "2026-12-10"),  # days, one month, days
    ("2026-10-20", "2026-11-15"),  # across one month boundary: days only
    ("2026-11-01", "2026-11-01"),  # the day of the sale made at 00:30 local time
    ("2026-11-02", "2027-01-05"),
    (None, "2026-11-30"),
    (None, "2026-11-15"),
    ("2026-11-15", None),
    ("2026-12-01", None),
]


async def _world(members, env) -> dict:
    """Three households in two communities, sales over four months in two stores, returns of
    earlier months' sales arriving later, and a batch like a backlog's."""
    a1 = await register(members, env, community="阳光花园", address="3幢2单元401")
    a2 = await register(members, env, community="阳光花园", address="3幢 2单元401")  # a1's household
    a3 = await register(members, env, community="阳光花园", address="7幢101", home_store_id="S002")
    b1 = await register(members, env, community="翠苑", address="1幢1单元1室")
    oct_sale = await deliver_sale(members, card_no=a1["card_no"], lines=[RICE, PAINT], occurred_at=OCT_20)
    await deliver_sale(members, card_no=a2["card_no"], lines=[ONE_RICE], occurred_at=OCT_31_LATE)
    await deliver_sale(members, card_no=a3["card_no"], lines=[PAINT], store="S002", occurred_at=OCT_03)
    nov_sale = await deliver_sale(members, card_no=b1["card_no"], lines=[TILES], occurred_at=NOV_15)
    await deliver_batch(members, [
        sale_event(members, card_no=a1["card_no"], lines=[PAINT], occurred_at=NOV_30),
        sale_event(members, card_no=a3["card_no"], lines=[RICE], store="S002", occurred_at=DEC_01),
        sale_event(members, card_no=b1["card_no"], lines=[ONE_RICE], occurred_at=DEC_10),
        sale_event(members, card_no=a2["card_no"], lines=[TILES], store="S002", occurred_at=JAN_05),
        # One household's two days of December in one store: summed into one month row.
        sale_event(members, card_no=a2["card_no"], lines=[ONE_RICE], occurred_at=DEC_01),
        sale_event(members, card_no=a1["card_no"], lines=[RICE], occurred_at=DEC_10),
        sale_event(members, lines=[TILES], occurred_at=DEC_10),  # anonymous: counts nowhere
    ])
    # Returns lower the month of their sale, whenever they come.
    await deliver_refund(members, txn=oct_sale, lines=[PAINT], occurred_at=DEC_10)
    await deliver_refund(members, txn=nov_sale, lines=[line(sku="tiles", qty="4", unit_price="25.00")], occurred_at=JAN_05)
    return {"a1": a1, "a2": a2, "a3": a3, "b1": b1}


async def _day_rows(members) -> list[MemberDaySpendRow]:
    async with members.app.state.sessions() as s:
        return list((await s.exec(select(MemberDaySpendRow))).all())


def _from_days(days: list[MemberDaySpendRow], first: str | None, last: str | None, store: str | None) -> dict:
    """Level 1's figures per community from the day rows alone: (households, spend, purchases)."""
    lo, hi = date.fromisoformat(first or "0001-01-01"), date.fromisoformat(last or "9999-12-31")
    households: dict[str, set[str]] = defaultdict(set)
    sums: dict[str, list] = defaultdict(lambda: [Decimal("0.00"), 0])
    for d in days:
        if lo <= d.business_day <= hi and (store is None or d.store_id == store):
            households[d.community_id].add(d.household_id)
            sums[d.community_id][0] += d.spend
            sums[d.community_id][1] += d.purchases
    return {c: (len(households[c]), sums[c][0], sums[c][1]) for c in households}


async def _level1(members, env, first: str | None, last: str | None, store: str | None) -> dict:
    params = {k: v for k, v in (("from", first), ("to", last), ("store_id", store)) if v}
    r = await members.get("/v1/infobase/communities", params={**params, "limit": 200}, headers=env.auth(Role.MARKETING))
    assert r.status_code == 200, r.text
    return {i["community_id"]: (i["households"], Decimal(i["spend"]), i["purchases"])
            for i in r.json()["items"] if i["households"] or Decimal(i["spend"]) or i["purchases"]}


async def _assert_months_are_the_sum_of_days(members) -> None:
    """Each month row holds its day rows' sums and last day, and points at the last day of the
    household's previous month row in the same store (or "*")."""
    expected: dict[tuple, list] = defaultdict(lambda: [Decimal("0.00"), 0, date.min, None])
    for d in await _day_rows(members):
        for store in (d.store_id, ALL_STORES):
            row = expected[(store, d.business_day.replace(day=1), d.community_id, d.household_id)]
            row[0] += d.spend
            row[1] += d.purchases
            row[2] = max(row[2], d.business_day)
    previous: dict[tuple, date] = {}
    for store, month, community_id, household_id in sorted(expected):
        expected[(store, month, community_id, household_id)][3] = previous.get((store, community_id, household_id))
        previous[(store, community_id, household_id)] = expected[(store, month, community_id, household_id)][2]
    async with members.app.state.sessions() as s:
        months = (await s.exec(select(HouseholdMonthSpendRow))).all()
    assert {(m.store_id, m.month, m.community_id, m.household_id): (m.spend, m.purchases, m.last_day, m.prev_day)
            for m in months} == {k: tuple(v) for k, v in expected.items()}


async def _assert_ranges_answer_as_days_alone(members, env) -> None:
    days = await _day_rows(members)
    for store in (None, "S001", "S002"):
        for first, last in RANGES:
            assert await _level1(members, env, first, last, store) == _from_days(days, first, last, store), (first, last, store)


async def test_ranges_aligned_or_not_answer_as_the_day_rows_alone(members, env) -> None:
    await _world(members, env)
    await _assert_months_are_the_sum_of_days(members)
    await _assert_ranges_answer_as_days_alone(members, env)
    days = await _day_rows(members)
    # The figures themselves, so a bug shared by both sides cannot hide: October in 阳光花园 is
    # a1's 179.80 less the 100.00 returned in December and a3's 100.00 in S002; a2's sale at
    # 00:30 on 11-01 belongs to November.
    sun = next(d.community_id for d in days if d.spend == Decimal("100.00") and d.store_id == "S002")
    october = await _level1(members, env, "2026-10-01", "2026-10-31", None)
    assert october[sun] == (2, Decimal("179.80"), 2)
    november_first = await _level1(members, env, "2026-11-01", "2026-11-01", None)
    assert november_first[sun] == (1, Decimal("39.90"), 1)


async def test_late_sales_a_late_match_and_a_merge_keep_the_months_the_sum_of_their_days(members, env) -> None:
    world = await _world(members, env)
    # A sale of October arriving after 翠苑's November and December ones (an import of past
    # sales, or a till that was offline): the months after it now follow a purchase.
    await deliver_sale(members, card_no=world["b1"]["card_no"], lines=[PAINT], occurred_at=OCT_03)
    await _assert_months_are_the_sum_of_days(members)
    await _assert_ranges_answer_as_days_alone(members, env)
    # A sale of October matched when its card is registered in November.
    await deliver_sale(members, card_no="8800000077777", lines=[TILES], occurred_at=OCT_20)
    late = await register(members, env, card_no="8800000077777", community="湖畔居", address="9幢")
    assert late["purchase_count"] == 1
    # 翠苑 turns out to be part of 阳光花园: its day rows move community, and an address both
    # have becomes one household.
    await register(members, env, community="翠苑", address="3幢2单元401")
    communities = (await members.get("/v1/communities", headers=env.auth(Role.ADMIN))).json()["items"]
    ids = {c["name"]: c["id"] for c in communities}
    merged = await members.post(f"/v1/communities/{ids['阳光花园']}/merge", json={"community_id": ids["翠苑"]},
                                headers=env.auth(Role.ADMIN))
    assert merged.status_code == 200, merged.text
    await _assert_months_are_the_sum_of_days(members)
    await _assert_ranges_answer_as_days_alone(members, env)
    assert (await _level1(members, env, "2026-10-01", "2026-10-31", None))[ids["湖畔居"]] == (1, Decimal("250.00"), 1)


async def test_upgrading_fills_the_months_from_the_day_rows_and_chains_them(database_factory) -> None:
    url = await database_factory("members", empty=True)
    migrations = Path(members_package.__file__).parent / "migrations"
    await asyncio.to_thread(upgrade, migrations, url, "0009")
    day = sa.table("infobase_member_day", *(sa.column(c) for c in (
        "member_id", "store_id", "business_day", "community_id", "household_id", "purchases")),
        sa.column("spend", MoneyColumn()), sa.column("last_purchase_at", UtcDateTime()))
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        for member_id, store, business_day, spend in (
            ("m1", "S001", date(2026, 10, 3), "10.00"), ("m2", "S001", date(2026, 10, 20), "20.00"),
            ("m1", "S002", date(2026, 11, 30), "30.00"), ("m2", "S001", date(2027, 1, 5), "40.00"),
        ):
            await conn.execute(day.insert().values(
                member_id=member_id, store_id=store, business_day=business_day, community_id="c1", household_id="h1",
                purchases=1, spend=Decimal(spend), last_purchase_at=OCT_03))
    await engine.dispose()
    await asyncio.to_thread(upgrade, migrations, url)
    engine = create_async_engine(url)
    async with AsyncSession(engine) as s:
        months = (await s.exec(select(HouseholdMonthSpendRow))).all()
    await engine.dispose()
    assert sorted((m.store_id, m.month, m.spend, m.purchases, m.last_day, m.prev_day) for m in months) == [
        ("*", date(2026, 10, 1), Decimal("30.00"), 2, date(2026, 10, 20), None),
        ("*", date(2026, 11, 1), Decimal("30.00"), 1, date(2026, 11, 30), date(2026, 10, 20)),
        ("*", date(2027, 1, 1), Decimal("40.00"), 1, date(2027, 1, 5), date(2026, 11, 30)),
        ("S001", date(2026, 10, 1), Decimal("30.00"), 2, date(2026, 10, 20), None),
        ("S001", date(2027, 1, 1), Decimal("40.00"), 1, date(2027, 1, 5), date(2026, 10, 20)),
        ("S002", date(2026, 11, 1), Decimal("30.00"), 1, date(2026, 11, 30), None),
    ]
