"""The demo's members sign up over the months of its history, each before their first sale."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from crm_cli.demo import HISTORY_DAYS, _joining_days, _members_shopping, _registered_at

START = datetime(2026, 9, 2, tzinfo=UTC)


def test_every_member_registers_before_their_first_sale() -> None:
    rng = random.Random(7)
    joined = _joining_days(rng, 200)
    registered = [_registered_at(rng, START, day) for day in joined]
    # The load asks for one more visit at a time when the habits made too few: those too.
    shopped = _members_shopping(rng, joined, 3000) + [visit for _ in range(50) for visit in _members_shopping(rng, joined, 1)]
    assert len(shopped) > 2500
    for idx, day, _, _ in shopped:
        # The earliest a sale of that day is made (the demo dates sales from 8:00 UTC).
        assert START + timedelta(days=day, hours=8) > registered[idx]
        assert 0 <= day < HISTORY_DAYS


def test_registrations_spread_over_the_months_of_the_history_and_before_it() -> None:
    rng = random.Random(20261123)
    joined = _joining_days(rng, 200)
    months = Counter(_registered_at(rng, START, day).strftime("%Y-%m") for day in joined)
    within = [month for month in months if START.strftime("%Y-%m") <= month]
    assert len(within) >= 3 and len(months) >= 8
    assert max(months.values()) < 0.3 * 200  # no month holds the bulk of the chain's customers
    assert all(_registered_at(rng, START, day) < START + timedelta(days=HISTORY_DAYS) for day in joined)
