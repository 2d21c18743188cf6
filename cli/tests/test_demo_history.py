"""The demo's members sign up over the months of its history, each before their first sale, and shop
while the stores are open in their time zone."""

import random
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from crm_cli.demo import HISTORY_DAYS, _joining_days, _members_shopping, _registered_at, _sold_at, return_of

START = datetime(2026, 9, 2, tzinfo=UTC)


def test_every_member_registers_before_their_first_sale() -> None:
    rng = random.Random(7)
    joined = _joining_days(rng, 200)
    registered = [_registered_at(rng, START, day) for day in joined]
    # The load asks for one more visit at a time when the habits made too few: those too.
    shopped = _members_shopping(rng, joined, 3000) + [visit for _ in range(50) for visit in _members_shopping(rng, joined, 1)]
    assert len(shopped) > 2500
    for idx, day, _, _ in shopped:
        # The earliest a sale of that day is made: the stores open at 8:00 in Shanghai, 0:00 UTC.
        assert START + timedelta(days=day) > registered[idx]
        assert 0 <= day < HISTORY_DAYS


def test_sales_are_made_while_the_stores_are_open_in_their_time_zone_and_before_the_day_of_the_load() -> None:
    rng = random.Random(11)
    stores = ZoneInfo("Asia/Shanghai")
    for day in range(HISTORY_DAYS):
        for _ in range(20):
            sold = _sold_at(rng, START, day)
            local = sold.astimezone(stores)
            assert time(8) <= local.time() <= time(21)
            assert local.date() == START.date() + timedelta(days=day)
            assert sold.tzinfo == UTC and sold < START + timedelta(days=HISTORY_DAYS)
    registered = _registered_at(rng, START, 3).astimezone(stores)
    assert time(9) <= registered.time() <= time(15) and registered.date() == START.date() + timedelta(days=3)


def test_registrations_spread_over_the_months_of_the_history_and_before_it() -> None:
    rng = random.Random(20261123)
    joined = _joining_days(rng, 200)
    months = Counter(_registered_at(rng, START, day).strftime("%Y-%m") for day in joined)
    within = [month for month in months if START.strftime("%Y-%m") <= month]
    assert len(within) >= 3 and len(months) >= 8
    assert max(months.values()) < 0.3 * 200  # no month holds the bulk of the chain's customers
    assert all(_registered_at(rng, START, day) < START + timedelta(days=HISTORY_DAYS) for day in joined)


def test_a_return_is_dated_by_the_day_of_the_load_so_a_second_load_that_day_posts_the_same_one() -> None:
    today = START + timedelta(days=HISTORY_DAYS)
    line = {"sku": "6902083881085", "name": "鲁花花生油 5L", "category": "oil", "qty": "1", "unit_price": "139.00", "amount": "139.00"}
    older = {"store_id": "S001", "pos_txn_id": "S001-D1-000001", "occurred_at": (today - timedelta(days=10)).isoformat(), "lines": [line]}
    recent = {**older, "pos_txn_id": "S001-D1-000002", "occurred_at": (today - timedelta(hours=4)).isoformat()}

    assert return_of(older, today)["occurred_at"] == (today - timedelta(days=8)).isoformat()  # two days after the sale
    # Two days after a sale of last night would be ahead of the clock: the start of the load's day
    # instead, after the sale, and the same whenever that day the demo is loaded again.
    assert return_of(recent, today)["occurred_at"] == today.isoformat()
    assert return_of(recent, today)["refund_id"] == "S001-D1-000002-R"
    assert return_of(recent, today)["amount"] == "139.00"
