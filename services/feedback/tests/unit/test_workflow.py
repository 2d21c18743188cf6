"""The complaint workflow and its deadlines, as pure functions of status and time."""

from datetime import UTC, datetime, timedelta

import pytest

from feedback.domain.workflow import (
    OPEN,
    TRANSITIONS,
    Action,
    DeadlinePolicy,
    InvalidTransition,
    Status,
    next_due,
    next_status,
    overdue_steps,
)

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
POLICY = DeadlinePolicy(ack_hours={"high": 4, "medium": 24, "low": 48}, resolve_hours={"high": 24, "medium": 72, "low": 168})

ALLOWED = {
    (Status.FILED, Action.ACKNOWLEDGE): Status.ACKNOWLEDGED,
    (Status.ACKNOWLEDGED, Action.START): Status.IN_PROGRESS,
    (Status.ACKNOWLEDGED, Action.RESOLVE): Status.RESOLVED,
    (Status.IN_PROGRESS, Action.RESOLVE): Status.RESOLVED,
    (Status.RESOLVED, Action.CLOSE): Status.CLOSED,
    (Status.RESOLVED, Action.REOPEN): Status.IN_PROGRESS,
    (Status.CLOSED, Action.REOPEN): Status.IN_PROGRESS,
}


@pytest.mark.parametrize(("current", "action"), list(ALLOWED))
def test_allowed_transition_leads_to_its_target(current: Status, action: Action) -> None:
    assert next_status(current, action) == ALLOWED[(current, action)]


REFUSED = [(s, a) for s in Status for a in Action if (s, a) not in ALLOWED]


@pytest.mark.parametrize(("current", "action"), REFUSED)
def test_every_other_transition_is_refused_with_a_reason(current: Status, action: Action) -> None:
    with pytest.raises(InvalidTransition) as exc:
        next_status(current, action)
    message = str(exc.value)
    assert message.startswith(f"cannot {action.value} a complaint that is {current.value}: ")
    assert len(message.split(": ", 1)[1]) > 5


def _refused_by_the_workflow(current: Status, action: Action) -> bool:
    try:
        next_status(current, action)
    except InvalidTransition:
        return True
    return False


def test_the_table_covers_exactly_the_allowed_transitions() -> None:
    table = {(s, a): target for a, (sources, target) in TRANSITIONS.items() for s in sources}
    assert table == ALLOWED
    # Asked of next_status itself: REFUSED is built as "not ALLOWED", so counting it proves nothing.
    refused = {(s, a) for s in Status for a in Action if _refused_by_the_workflow(s, a)}
    assert refused == set(REFUSED)


@pytest.mark.parametrize(
    ("current", "action", "hint"),
    [(Status.FILED, Action.RESOLVE, "acknowledge it first"), (Status.CLOSED, Action.START, "reopen it first"),
     (Status.IN_PROGRESS, Action.REOPEN, "still open"), (Status.IN_PROGRESS, Action.CLOSE, "only a resolved"),
     (Status.RESOLVED, Action.RESOLVE, "already resolved")],
)
def test_refusals_say_what_to_do(current: Status, action: Action, hint: str) -> None:
    with pytest.raises(InvalidTransition, match=hint):
        next_status(current, action)


@pytest.mark.parametrize(("severity", "ack_h", "resolve_h"), [("high", 4, 24), ("medium", 24, 72), ("low", 48, 168)])
def test_deadlines_follow_the_severity(severity: str, ack_h: int, resolve_h: int) -> None:
    assert POLICY.ack_due(severity, T0) == T0 + timedelta(hours=ack_h)
    assert POLICY.resolve_due(severity, T0) == T0 + timedelta(hours=resolve_h)


def test_next_due_is_the_acknowledgement_then_the_resolution_then_nothing() -> None:
    ack, res = POLICY.ack_due("high", T0), POLICY.resolve_due("high", T0)
    assert next_due(Status.FILED, ack, res) == ack
    assert next_due(Status.ACKNOWLEDGED, ack, res) == res
    assert next_due(Status.IN_PROGRESS, ack, res) == res
    assert next_due(Status.RESOLVED, ack, res) is None
    assert next_due(Status.CLOSED, ack, res) is None


def test_nothing_is_overdue_up_to_and_at_the_deadline() -> None:
    ack, res = POLICY.ack_due("high", T0), POLICY.resolve_due("high", T0)
    assert overdue_steps(Status.FILED, ack, res, T0) == []
    assert overdue_steps(Status.FILED, ack, res, ack) == []


def test_unacknowledged_complaint_is_overdue_for_acknowledgement_then_also_for_resolution() -> None:
    ack, res = POLICY.ack_due("high", T0), POLICY.resolve_due("high", T0)
    assert overdue_steps(Status.FILED, ack, res, ack + timedelta(seconds=1)) == [("acknowledge", ack)]
    assert overdue_steps(Status.FILED, ack, res, res + timedelta(seconds=1)) == [("acknowledge", ack), ("resolve", res)]


@pytest.mark.parametrize("status", [Status.ACKNOWLEDGED, Status.IN_PROGRESS])
def test_acknowledged_complaint_is_only_overdue_for_resolution(status: Status) -> None:
    ack, res = POLICY.ack_due("medium", T0), POLICY.resolve_due("medium", T0)
    assert overdue_steps(status, ack, res, ack + timedelta(hours=1)) == []
    assert overdue_steps(status, ack, res, res + timedelta(minutes=1)) == [("resolve", res)]


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
def test_resolved_and_closed_complaints_are_never_overdue(status: Status) -> None:
    ack, res = POLICY.ack_due("low", T0), POLICY.resolve_due("low", T0)
    assert status not in OPEN
    assert overdue_steps(status, ack, res, res + timedelta(days=30)) == []


def test_a_reopened_complaint_gets_a_fresh_resolution_deadline_from_the_reopening() -> None:
    reopened_at = T0 + timedelta(days=5)
    assert POLICY.resolve_due("high", reopened_at) == reopened_at + timedelta(hours=24)
