"""How urgent an open complaint looks on the console's queue: past its deadline, due within the
next hours, or later."""

from datetime import datetime, timedelta
from enum import StrEnum

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
