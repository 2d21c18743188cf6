"""Splitting a range of business days into whole calendar months and the days at either end.

The information base keeps a day row per member and store and a month row per household and
store; a range is answered from the month rows for the months it covers entirely and from the day
rows for the days before and after them, which gives the same figures as the day rows alone.
Months are those of the business day (the chain's local date), the calendar the day rows are kept in.
"""

from dataclasses import dataclass
from datetime import date, timedelta

Days = tuple[date | None, date | None]  # inclusive, None for an open side


@dataclass(frozen=True)
class MonthSplit:
    """`months`: the first days of the first and last whole month (inclusive, None where the
    range is open); `head` and `tail`: the days before and after them, None if there are none.
    A range covering no whole month is all `head`. Together they cover the range exactly once."""

    head: Days | None
    months: Days | None
    tail: Days | None


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def split_months(first: date | None, last: date | None) -> MonthSplit:
    """`first`..`last` inclusive, either side open. An open side reaches into whole months
    without end, so it has no days of its own."""
    # Whole months run from `lo` (`first` if that is a 1st, else the next month) up to the day
    # before `end` (the day after `last` if that is a 1st, else the 1st of `last`'s month).
    lo = None if first is None else (first if first.day == 1 else next_month(first))
    end = None if last is None else (next_month(last) if next_month(last) - timedelta(days=1) == last else month_start(last))
    if lo is not None and end is not None and lo >= end:
        return MonthSplit((first, last), None, None)
    head = (first, lo - timedelta(days=1)) if first is not None and lo is not None and first < lo else None
    tail = (end, last) if last is not None and end is not None and end <= last else None
    return MonthSplit(head, (lo, None if end is None else month_start(end - timedelta(days=1))), tail)
