"""The periods of the personal offer lists (domain/rounds.py): numbered by the chain's local date,
each round ending with its period, where the next one begins."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.domain.rounds import last_day, period_key, period_of, round_ends

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS = 14


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def test_a_period_begins_at_local_midnight_not_at_utcs() -> None:
    # Fortnights from 1 January 1970: one runs 3 to 16 December 2026 (Thursday to Wednesday).
    first, last = date(2026, 12, 3), date(2026, 12, 16)
    assert period_of(local(first), DAYS, SHANGHAI) == period_of(local(last, 23, 59), DAYS, SHANGHAI)
    # 00:30 in Shanghai on the 17th is still the 16th in UTC: the next period all the same.
    after = local(last + timedelta(days=1), 0, 30)
    assert after.astimezone(UTC).date() == last
    assert period_of(after, DAYS, SHANGHAI) == period_of(local(last), DAYS, SHANGHAI) + 1
    assert period_key(after, DAYS, SHANGHAI) != period_key(local(last), DAYS, SHANGHAI)
    # The key of a moment on the same date in UTC and locally is what it was by UTC days.
    noon = local(date(2026, 12, 5), 12)
    assert period_key(noon, DAYS, SHANGHAI) == f"period:{(noon.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)).days // DAYS}"


def test_a_round_ends_with_its_period_not_a_periods_days_after_its_build() -> None:
    # Built on Saturday 5 December at 10:00: it ends when the 16th does, not fourteen days later.
    built = local(date(2026, 12, 5), 10)
    assert last_day(built, DAYS, SHANGHAI) == date(2026, 12, 16)
    assert round_ends(built, DAYS, SHANGHAI) == local(date(2026, 12, 17))
    # Built at 23:30 on its last day, it lasts the half-hour left of the period.
    assert round_ends(local(date(2026, 12, 16), 23, 30), DAYS, SHANGHAI) == local(date(2026, 12, 17))


@pytest.mark.parametrize("days", [1, 7, 14, 30])
def test_consecutive_rounds_never_overlap(days: int) -> None:
    # Whenever in a period a round is built, it ends where the next period begins, and a round
    # built at that moment (or any later one) belongs to the next period.
    for hours in range(0, 24 * 45, 5):
        at = local(date(2026, 12, 1)) + timedelta(hours=hours, minutes=30)
        ends = round_ends(at, days, SHANGHAI)
        assert at < ends
        assert period_of(ends, days, SHANGHAI) == period_of(at, days, SHANGHAI) + 1
        assert period_of(ends - timedelta(microseconds=1), days, SHANGHAI) == period_of(at, days, SHANGHAI)
        assert ends.astimezone(SHANGHAI).time() == datetime.min.time()
