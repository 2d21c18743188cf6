"""The caps on manual bookings by store managers, without a database."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from points.domain.exceptions import CapExceeded
from points.domain.manual import ManualCaps

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAPS = ManualCaps(per_entry=2_000, per_day=10_000, zone=SHANGHAI)


def test_the_day_is_the_business_day_in_the_chains_time_zone() -> None:
    start, end = CAPS.day_of(datetime(2026, 12, 1, 16, 30, tzinfo=UTC))  # 00:30 on 2 December in Shanghai
    assert (start, end) == (datetime(2026, 12, 2, tzinfo=SHANGHAI), datetime(2026, 12, 3, tzinfo=SHANGHAI))
    assert start.astimezone(UTC) == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


def test_one_entry_may_move_at_most_the_entry_cap_either_way() -> None:
    CAPS.check(2_000, 0)
    CAPS.check(-2_000, 0)
    for points in (2_001, -2_001):
        with pytest.raises(CapExceeded, match="2000 points per manual entry"):
            CAPS.check(points, 0)


def test_the_day_may_move_at_most_the_daily_cap_counting_what_was_booked() -> None:
    CAPS.check(2_000, 8_000)
    with pytest.raises(CapExceeded, match=r"daily cap of 10000 points .*8001 booked today"):
        CAPS.check(2_000, 8_001)
