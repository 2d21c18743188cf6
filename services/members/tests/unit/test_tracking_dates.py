"""Which days a tracking form may carry (`members.domain.tracking`): none after today, none more
than the allowed number of days back; and the day of the next contact it plans."""

from datetime import date

import pytest

from members.domain.tracking import follow_up_problem, tracked_on_problem

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


def test_a_follow_up_on_the_day_of_the_contact_is_no_next_contact() -> None:
    assert follow_up_problem(TODAY, TODAY, TODAY) == (
        "is 2026-12-02, before 2026-12-03: plan it after the contact and not in the past"
    )


def test_a_follow_up_on_a_day_gone_by_is_missed_already() -> None:
    assert follow_up_problem(date(2026, 11, 30), date(2026, 11, 28), TODAY) == (
        "is 2026-11-30, before 2026-12-02: plan it after the contact and not in the past"
    )


def test_a_follow_up_more_than_a_year_ahead_is_a_slip_of_the_year() -> None:
    assert follow_up_problem(date(2027, 12, 4), TODAY, TODAY) == (
        "is 2027-12-04, more than 366 days ahead (the latest taken is 2027-12-03)"
    )
