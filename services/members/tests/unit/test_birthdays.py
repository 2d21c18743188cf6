"""When a birthday is celebrated, and whose birthdays fall on a day (leap days included)."""

from datetime import date

import pytest

from members.domain.birthdays import birthday_in, birthdays_on, days_to_birthday


@pytest.mark.parametrize(("born", "year", "celebrated"), [
    (date(1990, 12, 12), 2026, date(2026, 12, 12)),
    (date(2000, 2, 29), 2027, date(2027, 2, 28)),  # a common year: the last day of February
    (date(2000, 2, 29), 2028, date(2028, 2, 29)),
    (date(1999, 2, 28), 2028, date(2028, 2, 28)),
    (date(1980, 3, 1), 2027, date(2027, 3, 1)),
])
def test_a_birthday_is_celebrated_on_its_day_and_a_leap_day_on_28_february_in_common_years(
    born: date, year: int, celebrated: date
) -> None:
    assert birthday_in(year, born) == celebrated


def test_28_february_of_a_common_year_is_also_the_birthday_of_those_born_on_a_leap_day() -> None:
    assert birthdays_on(date(2027, 2, 28)) == [(2, 28), (2, 29)]
    assert birthdays_on(date(2028, 2, 28)) == [(2, 28)]
    assert birthdays_on(date(2028, 2, 29)) == [(2, 29)]
    assert birthdays_on(date(2027, 3, 1)) == [(3, 1)]


def test_every_birthday_is_found_on_the_day_it_is_celebrated() -> None:
    # Every day of birth in a leap year, checked against a common and a leap year: the two rules agree.
    for year in (2027, 2028):
        for ordinal in range(date(2000, 1, 1).toordinal(), date(2000, 12, 31).toordinal() + 1):
            born = date.fromordinal(ordinal)
            celebrated = birthday_in(year, born)
            assert (born.month, born.day) in birthdays_on(celebrated)


@pytest.mark.parametrize(("born", "today", "days"), [
    (date(1990, 12, 12), date(2026, 12, 12), 0),
    (date(1990, 12, 12), date(2026, 12, 9), 3),
    (date(1990, 12, 12), date(2026, 12, 13), 364),  # just gone: next year's
    (date(1990, 1, 2), date(2026, 12, 30), 3),  # across the new year
    (date(2000, 2, 29), date(2027, 2, 26), 2),  # 28 February in a common year
    (date(2000, 2, 29), date(2028, 2, 26), 3),
])
def test_the_days_to_a_birthday_count_to_its_next_celebration(born: date, today: date, days: int) -> None:
    assert days_to_birthday(born, today) == days
