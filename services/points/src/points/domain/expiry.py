"""Points expiry: which points expire when, oldest first.

Every credit (earn, bonus, positive adjustment) is a lot that expires at the end of the year
`years_after` years after the year it was earned, in the chain's time zone. Every debit
(redemption, reversal, negative adjustment, expiry) consumes the lots with the earliest expiry
first, a redemption those still valid on its day; a debit larger than all open lots (a return after spending) leaves a deficit that the next
credits pay off first. What remains of a lot on its expiry date expires.

A return takes back its own sale's points first (the reversal's `reverses`), then the oldest: taking
the oldest first, buying goods and returning them the next day swapped points about to expire for
the new sale's, valid a year longer, and the expiry job expired nothing at the new year.

A cancelled redemption gives back the very points it took, with the expiry dates they had: were it
a new lot, reserving a gift and cancelling it would make points about to expire (or expired and
not yet taken by the job) valid for another year. Points of a sale returned meanwhile are the
return's: the redemption gives back, for them, the points the return took in their stead.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from points.domain.model import EntryType, LedgerEntry

CREDITS = frozenset({EntryType.EARN, EntryType.BONUS, EntryType.ADJUST, EntryType.CANCEL_REDEEM})


@dataclass(frozen=True)
class ExpiryPolicy:
    years_after: int = 1
    warning_days: int = 30

    def expires_on(self, earned_at: datetime, tz: tzinfo) -> date:
        """The last day the points are valid."""
        return date(earned_at.astimezone(tz).year + self.years_after, 12, 31)

    def last_expiring_earned_year(self, today: date) -> int:
        """Points earned in this year or before expire by `today + warning_days`."""
        horizon = today + timedelta(days=self.warning_days)
        year = horizon.year - self.years_after
        return year if horizon.month == 12 and horizon.day == 31 else year - 1


@dataclass
class Lot:
    expires_on: date
    remaining: int
    # The credit the points came from (its `source_ref`, e.g. `sale:S001/T1`): what lets a return
    # tell how much of its own sale's points the expiry job took (`expired_from`).
    origin: str = field(default="", compare=False)


def open_lots(entries: Iterable[LedgerEntry], policy: ExpiryPolicy, tz: tzinfo) -> list[Lot]:
    """The points still held, by expiry date, after replaying the ledger in booking order."""
    return _replay(entries, policy, tz)[0]


def expired_from(entries: Iterable[LedgerEntry], origin: str, policy: ExpiryPolicy, tz: tzinfo) -> int:
    """How many of the points credited by `origin` (a sale's `sale:<store>/<txn>`) `expire`
    entries have taken, replaying the ledger exactly as `open_lots` does.

    Points are not kept per sale, only as lots by expiry date, so "what of this sale's points
    expired" is answered by the order in which debits consume lots: the earliest expiry date first
    and, within one date, the earliest booked credit first. Points of the sale a redemption or an
    earlier return took before the job ran were spent, not expired: they do not count here.
    """
    return _replay(entries, policy, tz)[1].get(origin, 0)


def _replay(entries: Iterable[LedgerEntry], policy: ExpiryPolicy, tz: tzinfo) -> tuple[list[Lot], dict[str, int]]:
    """The open lots, and the points `expire` entries took from each credit's lots."""
    lots: list[Lot] = []
    deficit = 0
    taken_by: dict[str, list[Lot]] = {}  # a redemption's source -> the points it took, by expiry date
    # A sale's source -> the points its returns took in stead of the sale's own, which a redemption
    # held (or had spent) when the return came. A cancelled redemption gives back the sale's own
    # points: they are the return's, and the points taken in their stead come back instead. Were
    # the sale's given back, a gift reserved and cancelled around a return would swap points valid
    # for another year for the returned sale's, about to expire.
    stood_in: dict[str, list[Lot]] = {}
    expired: dict[str, int] = {}

    def credit(amount: int, expires_on: date, origin: str) -> None:
        nonlocal deficit
        paid = min(deficit, amount)
        deficit -= paid
        if amount - paid:
            lots.append(Lot(expires_on, amount - paid, origin))
            lots.sort(key=lambda lot: lot.expires_on)  # stable: within a date, the earliest booked first

    for entry in entries:
        if entry.entry_type is EntryType.CANCEL_REDEEM and entry.source_ref in taken_by:
            returned = 0
            for lot in taken_by.pop(entry.source_ref):
                for back in _in_stead_of(lot, stood_in):
                    credit(back.remaining, back.expires_on, back.origin)
                returned += lot.remaining
            if entry.points > returned:  # what the redemption took beyond the lots (none, normally)
                credit(entry.points - returned, policy.expires_on(entry.occurred_at, tz), entry.source_ref)
        elif entry.points > 0 and entry.entry_type in CREDITS:
            credit(entry.points, policy.expires_on(entry.occurred_at, tz), entry.source_ref)
        elif entry.points < 0:
            owed, consumed = -entry.points, []
            for lot in _in_order_of_use(lots, entry, tz):
                taken = min(lot.remaining, owed)
                if taken:
                    consumed.append(Lot(lot.expires_on, taken, lot.origin))
                    if entry.entry_type is EntryType.EXPIRE:
                        expired[lot.origin] = expired.get(lot.origin, 0) + taken
                lot.remaining -= taken
                owed -= taken
                if not owed:
                    break
            lots = [lot for lot in lots if lot.remaining]
            deficit += owed
            if entry.entry_type is EntryType.REDEEM:
                taken_by[entry.source_ref] = consumed
            elif entry.entry_type is EntryType.REVERSE and entry.reverses:
                stood_in.setdefault(entry.reverses, []).extend(lot for lot in consumed if lot.origin != entry.reverses)
    return lots, expired


def _in_stead_of(held: Lot, stood_in: dict[str, list[Lot]]) -> list[Lot]:
    """What a cancelled redemption gives back for a lot it took: the lot itself, but for the part of
    it that a return of its sale has since taken from other points in its stead, those points."""
    back, left = [], held.remaining
    substitutes = stood_in.get(held.origin, [])
    while left and substitutes:
        first = substitutes[0]
        swapped = min(left, first.remaining)
        back.append(Lot(first.expires_on, swapped, first.origin))
        first.remaining -= swapped
        left -= swapped
        if not first.remaining:
            substitutes.pop(0)
    if left:
        back.append(Lot(held.expires_on, left, held.origin))
    return back


def _in_order_of_use(lots: list[Lot], debit: LedgerEntry, tz: tzinfo) -> list[Lot]:
    """The lots a debit takes from, in order: the earliest expiry first; but a redemption spends
    only points still valid on its day (past ones cannot buy a gift), so it takes those first and
    leaves the overdue ones for the expiry job. Were it to take them, points the job should expire
    would stay in the balance as valid ones. A return takes its own sale's lots first, then, as an
    expiry, the oldest, overdue or not."""
    if debit.entry_type is EntryType.REVERSE and debit.reverses:
        return [lot for lot in lots if lot.origin == debit.reverses] + [lot for lot in lots if lot.origin != debit.reverses]
    if debit.entry_type is not EntryType.REDEEM:
        return lots
    day = debit.occurred_at.astimezone(tz).date()
    return [lot for lot in lots if lot.expires_on >= day] + [lot for lot in lots if lot.expires_on < day]


def overdue(lots: Iterable[Lot], today: date) -> int:
    """Points past their last valid day that the expiry job has not taken yet: held, not spendable."""
    return sum(due(lots, today).values())


def due(lots: Iterable[Lot], today: date) -> dict[date, int]:
    """Points whose last valid day is before `today`, per expiry date."""
    out: dict[date, int] = {}
    for lot in lots:
        if lot.expires_on < today:
            out[lot.expires_on] = out.get(lot.expires_on, 0) + lot.remaining
    return out


def upcoming(lots: Iterable[Lot], today: date, policy: ExpiryPolicy) -> dict[date, int]:
    """Points expiring within the warning window (today included), per expiry date."""
    horizon = today + timedelta(days=policy.warning_days)
    out: dict[date, int] = {}
    for lot in lots:
        if today <= lot.expires_on <= horizon:
            out[lot.expires_on] = out.get(lot.expires_on, 0) + lot.remaining
    return out
