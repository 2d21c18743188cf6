"""How urgent an open complaint looks on the console's queue: past its deadline, due within the
next hours, or later; and how long is left until the deadline."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

# Due within this long: shown as soon, so that it is handled before it is overdue.
SOON = timedelta(hours=24)


class Urgency(StrEnum):
    OVERDUE = "overdue"
    SOON = "soon"
    LATER = "later"
    NONE = "none"  # no deadline running (waiting on the customer, or resolved)


def urgency(next_due_at: datetime | None, now: datetime) -> Urgency:
    if next_due_at is None:
        return Urgency.NONE
    if next_due_at <= now:
        return Urgency.OVERDUE
    return Urgency.SOON if next_due_at - now <= SOON else Urgency.LATER


@dataclass(frozen=True)
class TimeLeft:
    """How long until the deadline (or since it passed), rounded down to the unit a handler reads
    at a glance: minutes within the hour, hours within two days, days beyond."""

    amount: int
    unit: Literal["minutes", "hours", "days"]
    overdue: bool


def time_left(next_due_at: datetime | None, now: datetime) -> TimeLeft | None:
    if next_due_at is None:
        return None
    overdue = next_due_at <= now
    span = now - next_due_at if overdue else next_due_at - now
    if span < timedelta(hours=1):
        return TimeLeft(span // timedelta(minutes=1), "minutes", overdue)
    if span < timedelta(hours=48):
        return TimeLeft(span // timedelta(hours=1), "hours", overdue)
    return TimeLeft(span // timedelta(days=1), "days", overdue)
