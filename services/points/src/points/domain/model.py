"""The points account aggregate: an append-only ledger whose balance is the sum of its entries.

Pure Python, no I/O: the service layer loads an account, calls these methods, and persists the
new entries (and the events they cause) in one transaction, so the stored balance always equals the
sum of the stored ledger.

Invariants:
- an entry of a kind is booked at most once per source (a sale, a return, a redemption, a job run);
- only a return may take the balance below zero: points already spent cannot be taken back, so the
  account goes negative and redemptions are refused until it is back at zero;
- every manual entry carries a reason.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from points.domain.exceptions import AlreadyBooked, NotEnoughPoints, RedemptionRefused


class EntryType(StrEnum):
    EARN = "earn"
    REVERSE = "reverse"
    REDEEM = "redeem"
    CANCEL_REDEEM = "cancel_redeem"
    ADJUST = "adjust"
    BONUS = "bonus"
    EXPIRE = "expire"


@dataclass(frozen=True)
class Source:
    """What caused an entry: `ref` is the business key (unique per kind), plus who or what did it."""

    ref: str
    event_id: str | None = None
    staff_id: str | None = None
    job_id: str | None = None


@dataclass(frozen=True)
class LedgerEntry:
    entry_type: EntryType
    points: int
    balance_after: int
    reason: str
    source_ref: str
    source_event_id: str | None
    occurred_at: datetime
    staff_id: str | None = None
    job_id: str | None = None
    # A reversal's: the credit it takes back (`sale:<store>/<txn>`), whose points it takes first
    # (`domain.expiry`).
    reverses: str | None = None


@dataclass
class PointsAccount:
    member_id: str
    channel: str = "retail"
    balance: int = 0
    booked_sources: set[tuple[EntryType, str]] = field(default_factory=set)
    new_entries: list[LedgerEntry] = field(default_factory=list)

    @property
    def redemptions_blocked(self) -> bool:
        return self.balance < 0

    def earn(self, points: int, *, reason: str, source: Source, at: datetime) -> LedgerEntry:
        if points < 0:
            raise ValueError("earned points cannot be negative")
        return self._book(EntryType.EARN, points, reason, source, at)

    def reverse(self, points: int, *, reason: str, source: Source, at: datetime, reverses: str | None = None) -> LedgerEntry:
        """Takes back points a returned sale earned, even below zero (they may be spent already).
        `reverses`: the sale's credit (`sale:<store>/<txn>`)."""
        if points < 0:
            raise ValueError("reversed points are given as a positive number")
        return self._book(EntryType.REVERSE, -points, reason, source, at, reverses)

    def check_can_redeem(self, points: int, overdue: int = 0) -> None:
        """`overdue`: points of the balance past their last valid day that the expiry job has not
        taken yet (`domain.expiry.overdue`); they cannot be spent."""
        if self.balance < 0:
            raise RedemptionRefused(
                f"balance is negative ({self.balance}) after a return; redemptions are blocked until it is back at zero"
            )
        if overdue > 0 and self.balance - overdue < points:
            raise RedemptionRefused(
                f"{overdue} of the balance {self.balance} are past their expiry date; the {self.balance - overdue} "
                f"still valid are below the price of {points} points"
            )
        if self.balance < points:
            raise RedemptionRefused(f"balance {self.balance} is below the price of {points} points")

    def redeem(self, points: int, *, reason: str, source: Source, at: datetime, overdue: int = 0) -> LedgerEntry:
        if points <= 0:
            raise ValueError("a redemption costs a positive number of points")
        self.check_can_redeem(points, overdue)
        return self._book(EntryType.REDEEM, -points, reason, source, at)

    def cancel_redeem(self, points: int, *, reason: str, source: Source, at: datetime) -> LedgerEntry:
        if points <= 0:
            raise ValueError("a cancelled redemption returns a positive number of points")
        return self._book(EntryType.CANCEL_REDEEM, points, reason, source, at)

    def adjust(self, points: int, *, reason: str, source: Source, at: datetime) -> LedgerEntry:
        if points == 0:
            raise ValueError("an adjustment of zero points changes nothing")
        if points < 0 and self.balance + points < 0:
            raise NotEnoughPoints(f"adjustment of {points} would take the balance {self.balance} below zero")
        return self._book(EntryType.ADJUST, points, reason, source, at)

    def bonus(self, points: int, *, reason: str, source: Source, at: datetime) -> LedgerEntry:
        if points <= 0:
            raise ValueError("a bonus is a positive number of points")
        return self._book(EntryType.BONUS, points, reason, source, at)

    def expire(self, points: int, *, reason: str, source: Source, at: datetime) -> LedgerEntry:
        if points <= 0 or points > self.balance:
            raise ValueError(f"cannot expire {points} points of a balance of {self.balance}")
        return self._book(EntryType.EXPIRE, -points, reason, source, at)

    def has_booked(self, kind: EntryType, source_ref: str) -> bool:
        return (kind, source_ref) in self.booked_sources

    def _book(
        self, kind: EntryType, points: int, reason: str, source: Source, at: datetime, reverses: str | None = None
    ) -> LedgerEntry:
        if not reason.strip():
            raise ValueError("every ledger entry needs a reason")
        if (kind, source.ref) in self.booked_sources:
            raise AlreadyBooked(f"{kind} for {source.ref} is already in the ledger")
        self.balance += points
        entry = LedgerEntry(
            kind, points, self.balance, reason, source.ref, source.event_id, at, source.staff_id, source.job_id, reverses
        )
        self.booked_sources.add((kind, source.ref))
        self.new_entries.append(entry)
        return entry
