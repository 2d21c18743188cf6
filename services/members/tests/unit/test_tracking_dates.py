"""Which days a tracking form may carry (`members.domain.tracking`): none after today, none more
than the allowed number of days back."""

from datetime import date

import pytest

from members.domain.tracking import tracked_on_problem

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
