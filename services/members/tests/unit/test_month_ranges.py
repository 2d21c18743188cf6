"""Splitting a range of business days into whole months and the days around them."""

from datetime import date, timedelta

import pytest

from members.domain.month_ranges import MonthSplit, next_month, split_months

pytestmark = pytest.mark.unit

D = date.fromisoformat


def covered(split: MonthSplit, history: tuple[date, date]) -> list[date]:
    """Every day of `history` the split covers, once per time it covers it."""
    days: list[date] = []
    first, last = history
    for lo, hi in (part for part in (split.head, split.tail) if part is not None):
        day = lo or first
        while day <= (hi or last):
            days.append(day)
            day += timedelta(days=1)
    if split.months is not None:
        lo_month, hi_month = split.months
        month = lo_month or first.replace(day=1)
        while month <= (hi_month or last):
            day = month
            while day < next_month(month):
                days.append(day)
                day += timedelta(days=1)
            month = next_month(month)
    return sorted(d for d in days if first <= d <= last)


def test_a_year_not_aligned_to_months_reads_eleven_months_and_the_days_at_both_ends() -> None:
    split = split_months(D("2025-11-23"), D("2026-11-22"))
    assert split == MonthSplit((D("2025-11-23"), D("2025-11-30")), (D("2025-12-01"), D("2026-10-01")),
                               (D("2026-11-01"), D("2026-11-22")))


def test_ranges_aligned_to_months_need_no_days() -> None:
    assert split_months(D("2026-01-01"), D("2026-01-31")) == MonthSplit(None, (D("2026-01-01"), D("2026-01-01")), None)
    assert split_months(D("2026-02-01"), D("2026-02-28")).months == (D("2026-02-01"), D("2026-02-01"))  # no leap year
    assert split_months(D("2028-02-01"), D("2028-02-28")) == MonthSplit((D("2028-02-01"), D("2028-02-28")), None, None)
    assert split_months(D("2026-12-01"), D("2027-01-31")) == MonthSplit(None, (D("2026-12-01"), D("2027-01-01")), None)


def test_ranges_inside_a_month_or_across_one_boundary_are_days_only() -> None:
    assert split_months(D("2026-01-05"), D("2026-01-20")) == MonthSplit((D("2026-01-05"), D("2026-01-20")), None, None)
    assert split_months(D("2026-01-15"), D("2026-02-10")) == MonthSplit((D("2026-01-15"), D("2026-02-10")), None, None)
    assert split_months(D("2026-03-01"), D("2026-03-01")) == MonthSplit((D("2026-03-01"), D("2026-03-01")), None, None)


def test_an_open_side_reaches_into_months_without_end() -> None:
    assert split_months(None, D("2026-03-15")) == MonthSplit(None, (None, D("2026-02-01")), (D("2026-03-01"), D("2026-03-15")))
    assert split_months(D("2026-03-15"), None) == MonthSplit((D("2026-03-15"), D("2026-03-31")), (D("2026-04-01"), None), None)
    assert split_months(D("2026-03-01"), None) == MonthSplit(None, (D("2026-03-01"), None), None)
    assert split_months(None, D("2026-03-31")) == MonthSplit(None, (None, D("2026-03-01")), None)


def test_every_range_is_covered_exactly_once() -> None:
    history = (D("2025-12-01"), D("2027-03-31"))
    ends = [D("2025-12-01"), D("2025-12-31"), D("2026-01-01"), D("2026-01-17"), D("2026-01-31"), D("2026-02-01"),
            D("2026-02-28"), D("2026-03-01"), D("2026-12-31"), D("2027-01-01"), D("2027-03-31")]
    for first in [None, *ends]:
        for last in [None, *ends]:
            if first and last and first > last:
                continue
            expected, day = [], first or history[0]
            while day <= (last or history[1]):
                expected.append(day)
                day += timedelta(days=1)
            assert covered(split_months(first, last), history) == expected, (first, last)
