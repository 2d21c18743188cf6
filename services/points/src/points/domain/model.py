"""The points account aggregate: an append-only ledger whose balance is the sum of its entries.

Pure Python, no I/O: the service layer loads an account, calls these methods, and persists the
new entries and the events they raise in one transaction.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from shared.money import whole_yuan


class EntryType(StrEnum):
    EARN = "earn"
    REVERSE = "reverse"
    REDEEM = "redeem"
    CANCEL_REDEEM = "cancel_redeem"
    ADJUST = "adjust"
    BONUS = "bonus"
    EXPIRE = "expire"


@dataclass(frozen=True)
class LedgerEntry:
    entry_type: EntryType
    points: int
    balance_after: int
    reason: str
    source_ref: str
    source_event_id: str | None
    occurred_at: datetime


class AlreadyBooked(Exception):
    """The ledger already holds an entry of this type for this source."""


@dataclass
class PointsAccount:
    member_id: str
    channel: str = "retail"
    balance: int = 0
    booked_sources: set[tuple[EntryType, str]] = field(default_factory=set)
    new_entries: list[LedgerEntry] = field(default_factory=list)

    def earn(self, points: int, *, reason: str, source_ref: str, source_event_id: str | None, at: datetime) -> LedgerEntry:
        if points < 0:
            raise ValueError("earned points cannot be negative")
        return self._book(EntryType.EARN, points, reason, source_ref, source_event_id, at)

    def _book(
        self, kind: EntryType, points: int, reason: str, source_ref: str, source_event_id: str | None, at: datetime
    ) -> LedgerEntry:
        if (kind, source_ref) in self.booked_sources:
            raise AlreadyBooked(f"{kind} for {source_ref} is already in the ledger")
        self.balance += points
        entry = LedgerEntry(kind, points, self.balance, reason, source_ref, source_event_id, at)
        self.booked_sources.add((kind, source_ref))
        self.new_entries.append(entry)
        return entry


def points_for_sale(total: Decimal) -> int:
    """Default earning rule: one point per whole yuan of the sale (floor per sale, not per line)."""
    return whole_yuan(total)
