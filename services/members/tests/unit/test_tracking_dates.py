"""Which days a tracking form may carry (`members.domain.tracking`): none after today, none more
than the allowed number of days back; and the day of the next contact it plans."""

from datetime import date, timedelta

import pytest

from members.domain.tracking import follow_up_problem, tracked_on_problem
from shared.follow_ups import earliest_follow_up, latest_follow_up

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize("day", [TODAY, date(2026, 12, 1), date(2026, 11, 1)])
def test_today_and_up_to_the_allowed_days_back_are_taken(day: date) -> None:
    assert tracked_on_problem(day, TODAY, 31) is None


def test_a_day_after_today_is_in_the_future() -> None:
    assert tracked_on_problem(date(2026, 12, 3), TODAY, 31) == "is 2026-12-03, in the future (today is 2026-12-02)"


@pytest.mark.parametrize("day", [date(2026, 10, 31), date(1990, 12, 2)])
def test_a_day_further_back_is_a_slip_not_a_late_form(day: date) -> None:
    assert tracked_on_problem(day, TODAY, 31) == (
        f"is {day.isoformat()}, more than 31 days ago: a contact is recorded at most that late "
        "(the earliest taken is 2026-11-01)"
    )


def test_with_no_days_allowed_only_today_is_taken() -> None:
    assert tracked_on_problem(TODAY, TODAY, 0) is None
    assert tracked_on_problem(date(2026, 12, 1), TODAY, 0) is not None


@pytest.mark.parametrize(("tracked_on", "next_on"), [
    (TODAY, date(2026, 12, 3)),
    (date(2026, 11, 28), TODAY),  # a late form plans a call for today
    (TODAY, date(2027, 12, 3)),  # a year ahead, a leap year or not
])
def test_a_follow_up_after_the_contact_from_today_to_a_year_ahead_is_taken(tracked_on: date, next_on: date) -> None:
    assert follow_up_problem(next_on, tracked_on, TODAY) is None


@pytest.mark.parametrize("next_on", [TODAY, date(2026, 12, 1)])
def test_a_follow_up_on_the_day_of_the_contact_or_before_it_is_no_next_contact(next_on: date) -> None:
    # Said as the rule is, after the contact's day: today is no day in the past, and the reason to
    # refuse it is the contact made on it.
    assert follow_up_problem(next_on, TODAY, TODAY) == (
        f"is {next_on.isoformat()}: must be after the day of this contact (2026-12-02)"
    )


def test_a_late_form_s_follow_up_before_its_contact_is_told_by_the_contact_s_day() -> None:
    assert follow_up_problem(date(2026, 11, 27), date(2026, 11, 28), TODAY) == (
        "is 2026-11-27: must be after the day of this contact (2026-11-28)"
    )


def test_a_follow_up_on_a_day_gone_by_is_missed_already() -> None:
    # After the contact of a form filled in late, but the day has passed: planned, it would be overdue.
    assert follow_up_problem(date(2026, 11, 30), date(2026, 11, 28), TODAY) == (
        "is 2026-11-30: must not be before today (2026-12-02)"
    )


@pytest.mark.parametrize(("tracked_on", "earliest"), [(TODAY, date(2026, 12, 3)), (date(2026, 12, 1), TODAY),
                                                      (date(2026, 11, 28), TODAY)])
def test_the_first_day_taken_is_the_one_the_console_s_picker_starts_at(tracked_on: date, earliest: date) -> None:
    # The console offers the days from `earliest_follow_up` to `latest_follow_up`: members takes
    # exactly those, the day before and the day after refused.
    assert earliest_follow_up(tracked_on, TODAY) == earliest
    assert follow_up_problem(earliest, tracked_on, TODAY) is None
    assert follow_up_problem(earliest - timedelta(days=1), tracked_on, TODAY) is not None
    assert follow_up_problem(latest_follow_up(TODAY), tracked_on, TODAY) is None
    assert follow_up_problem(latest_follow_up(TODAY) + timedelta(days=1), tracked_on, TODAY) is not None


def test_a_follow_up_more_than_a_year_ahead_is_a_slip_of_the_year() -> None:
    assert follow_up_problem(date(2027, 12, 4), TODAY, TODAY) == (
        "is 2027-12-04, more than 366 days ahead (the latest taken is 2027-12-03)"
    )
