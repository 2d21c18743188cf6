"""The complaint workflow: which action is allowed in which status, and when each step is due.

filed → acknowledged → in_progress → resolved → closed, and reopen from resolved or closed back to
in_progress. Pure functions of the status and a given time: routes, the escalation job and tests
all pass the clock in.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from shared.errors import Conflict


class Status(StrEnum):
    FILED = "filed"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    START = "start"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


OPEN = frozenset({Status.FILED, Status.ACKNOWLEDGED, Status.IN_PROGRESS})

TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    Action.ACKNOWLEDGE: (frozenset({Status.FILED}), Status.ACKNOWLEDGED),
    Action.START: (frozenset({Status.ACKNOWLEDGED}), Status.IN_PROGRESS),
    # A desk can settle a simple complaint on the spot, without a separate "start".
    Action.RESOLVE: (frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS}), Status.RESOLVED),
    Action.CLOSE: (frozenset({Status.RESOLVED}), Status.CLOSED),
    Action.REOPEN: (frozenset({Status.RESOLVED, Status.CLOSED}), Status.IN_PROGRESS),
}


class InvalidTransition(Conflict):
    """An action the complaint's status does not allow; the message says why."""


def next_status(current: Status, action: Action) -> Status:
    allowed_from, target = TRANSITIONS[action]
    if current in allowed_from:
        return target
    raise InvalidTransition(f"cannot {action.value} a complaint that is {current.value}: {_why(current, action)}")


def _why(current: Status, action: Action) -> str:
    if current == Status.CLOSED:
        return "it is closed; reopen it first"
    if action == Action.REOPEN:
        return "it is still open"
    if action == Action.CLOSE:
        return "only a resolved complaint can be closed"
    if current == Status.FILED:
        return "acknowledge it first"
    if current == Status.RESOLVED:
        return "it is already resolved; reopen it first"
    if action == Action.ACKNOWLEDGE:
        return "it was already acknowledged"
    return "it is already in progress"


@dataclass(frozen=True)
class DeadlinePolicy:
    """Hours allowed per severity: to acknowledge (from filing) and to resolve (from filing, or
    from reopening, since a reopened complaint needs a fresh chance to be put right)."""

    ack_hours: Mapping[str, float]
    resolve_hours: Mapping[str, float]

    def ack_due(self, severity: str, filed_at: datetime) -> datetime:
        return filed_at + timedelta(hours=self.ack_hours[severity])

    def resolve_due(self, severity: str, since: datetime) -> datetime:
        return since + timedelta(hours=self.resolve_hours[severity])


def next_due(status: Status, ack_due_at: datetime, resolve_due_at: datetime) -> datetime | None:
    """When the complaint's current step is due; None once it is resolved or closed."""
    if status == Status.FILED:
        return min(ack_due_at, resolve_due_at)
    if status in OPEN:
        return resolve_due_at
    return None


Step = Literal["acknowledge", "resolve"]


def overdue_steps(status: Status, ack_due_at: datetime, resolve_due_at: datetime, now: datetime) -> list[tuple[Step, datetime]]:
    """The steps (acknowledge, resolve) that are past due at `now`, with their due times."""
    steps: list[tuple[Step, datetime]] = []
    if status == Status.FILED and now > ack_due_at:
        steps.append(("acknowledge", ack_due_at))
    if status in OPEN and now > resolve_due_at:
        steps.append(("resolve", resolve_due_at))
    return steps
