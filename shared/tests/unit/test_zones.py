"""Local times made moments: a wall-clock time in the chain's zone, or one with its own offset,
refused with a ValueError (a 422 naming the field where a form gave it) when it names no moment."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.zones import Moment, end_of_day, end_of_local_day, in_zone, moment_of, start_of_day

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
MOMENT: TypeAdapter[datetime] = TypeAdapter(Moment)


def test_a_time_without_an_offset_is_the_zone_s_wall_clock_and_one_with_an_offset_keeps_it() -> None:
    assert moment_of(datetime(2026, 12, 1, 10, 0), SHANGHAI) == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    given = datetime.fromisoformat("2026-12-01T10:00+01:00")
    assert moment_of(given, SHANGHAI) == given


@pytest.mark.parametrize(("value", "zone"), [
    ("0001-01-01T00:00", SHANGHAI),  # a year typed as 0001: before year 1 in UTC
    ("9999-12-31T23:59", NEW_YORK),  # after year 9999 in UTC
    ("0001-01-01T00:00+08:00", SHANGHAI),  # its own offset, the same moment
    ("9999-12-31T23:59+00:00", ZoneInfo("Pacific/Kiritimati")),  # a moment UTC holds, the zone cannot show
])
def test_a_time_outside_the_calendar_in_utc_or_the_zone_is_refused_as_a_value_error(value: str, zone: ZoneInfo) -> None:
    # OverflowError before: a 500 from the first filter or form that compared or showed it.
    with pytest.raises(ValueError, match=r"is outside the years 1 to 9999 in \S+ or in UTC$"):
        moment_of(datetime.fromisoformat(value), zone)


def test_in_zone_refuses_a_time_out_of_range_as_it_refuses_a_skipped_one() -> None:
    with pytest.raises(ValueError, match="outside the years 1 to 9999"):
        in_zone(datetime(1, 1, 1), SHANGHAI)
    with pytest.raises(ValueError, match="skipped"):
        in_zone(datetime(2026, 3, 8, 2, 30), NEW_YORK)


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31T12:00:00+00:00"])
def test_a_moment_a_client_gives_near_the_ends_of_the_calendar_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="is outside the years 1 to 9999"):
        MOMENT.validate_python(value)


def test_an_ordinary_moment_is_taken_as_it_is() -> None:
    assert MOMENT.validate_python("2026-12-05T08:00:00+08:00") == datetime(2026, 12, 5, tzinfo=UTC)
    with pytest.raises(ValidationError, match="timezone"):
        MOMENT.validate_python("2026-12-05T08:00:00")



def test_a_local_day_ends_at_the_next_local_midnight_counted_in_calendar_days() -> None:
    assert end_of_day(date(2026, 12, 5), SHANGHAI) == datetime(2026, 12, 5, 16, 0, tzinfo=UTC)
    assert start_of_day(date(2026, 12, 5), SHANGHAI) == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    # 00:30 in Shanghai is the day before in UTC: the local day counts.
    assert end_of_local_day(datetime(2026, 12, 4, 16, 30, tzinfo=UTC), SHANGHAI) == datetime(2026, 12, 6, tzinfo=SHANGHAI)
    # Over New York's change to summer time (8 March 2026, a 23-hour day), seven days are seven dates.
    evening = datetime(2026, 3, 7, 23, 30, tzinfo=NEW_YORK)
    assert end_of_local_day(evening, NEW_YORK, 7) == datetime(2026, 3, 15, tzinfo=NEW_YORK)
