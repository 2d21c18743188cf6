"""How urgent a complaint's deadline looks on the console's queue, and who is on it."""

from datetime import UTC, datetime, timedelta

import pytest

from gateway.api.console.render import environment
from gateway.domain.complaint_urgency import TimeLeft, Urgency, time_left, urgency

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_past_the_deadline_is_overdue_within_a_day_is_soon_and_beyond_is_later() -> None:
    assert urgency(NOW, NOW) is Urgency.OVERDUE
    assert urgency(NOW - timedelta(minutes=1), NOW) is Urgency.OVERDUE
    assert urgency(NOW + timedelta(hours=24), NOW) is Urgency.SOON
    assert urgency(NOW + timedelta(hours=24, seconds=1), NOW) is Urgency.LATER
    assert urgency(None, NOW) is Urgency.NONE


def test_time_left_is_read_in_minutes_within_the_hour_hours_within_two_days_and_days_beyond() -> None:
    assert time_left(NOW + timedelta(minutes=59, seconds=59), NOW) == TimeLeft(59, "minutes", overdue=False)
    assert time_left(NOW + timedelta(hours=5, minutes=40), NOW) == TimeLeft(5, "hours", overdue=False)
    assert time_left(NOW + timedelta(hours=47, minutes=59), NOW) == TimeLeft(47, "hours", overdue=False)
    assert time_left(NOW + timedelta(days=6, hours=23), NOW) == TimeLeft(6, "days", overdue=False)
    assert time_left(NOW - timedelta(hours=3, minutes=10), NOW) == TimeLeft(3, "hours", overdue=True)
    assert time_left(NOW, NOW) == TimeLeft(0, "minutes", overdue=True)
    assert time_left(None, NOW) is None


@pytest.mark.parametrize(("status", "shown"), [("in_progress", "服务台 S001 · 李娜 正在处理"), ("resolved", "服务台 S001 · 由 李娜 处理"),
                                              ("closed", "服务台 S001 · 由 李娜 处理")])
def test_who_is_on_a_complaint_until_it_is_resolved_and_who_handled_it_after(status: str, shown: str) -> None:
    words = '{% from "staff/_complaint_people.html" import assignee_of %}{{ assignee_of(c, names) }}'
    c = {"assignee": "desk:S001", "handled_by": "stf_li", "escalated_to": None, "status": status}
    assert environment("zh-CN").from_string(words).render(c=c, names={"stf_li": "李娜"}).strip() == shown
