"""How urgent a complaint's deadline looks on the console's queue."""

from datetime import UTC, datetime, timedelta

from gateway.domain.complaint_urgency import Urgency, urgency

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_past_the_deadline_is_overdue_within_a_day_is_soon_and_beyond_is_later() -> None:
    assert urgency(NOW, NOW) is Urgency.OVERDUE
    assert urgency(NOW - timedelta(minutes=1), NOW) is Urgency.OVERDUE
    assert urgency(NOW + timedelta(hours=24), NOW) is Urgency.SOON
    assert urgency(NOW + timedelta(hours=24, seconds=1), NOW) is Urgency.LATER
    assert urgency(None, NOW) is Urgency.NONE
