"""The points liability: the points members hold, by the month they expire, as finance books them.

What a member holds is their account's open lots (`domain.expiry.open_lots`): every credit (earn,
bonus, positive adjustment, a cancelled redemption's points given back) less what redemptions,
reversals, negative adjustments and expiries took from it, replayed exactly as the expiry job
replays it. Each lot lands on one line, by its last valid day and its member:

- redeemable: valid today or later, its member not erased: the liability;
- past its date: its last day has passed, but the expiry job (every few hours) has not booked the
  `expire` entry yet. Still in the balance, but no gift can be bought with it
  (`PointsAccount.check_can_redeem`), so it is shown apart, not in the liability;
- erased: its member is erased; nobody can redeem it any more (no token, no card), and it stays
  in the ledger until it expires. One line, whatever the month, for finance to decide on.

An account whose balance is below zero (a return took back points already spent) holds no lot:
its next credits pay the deficit first. The deficits are counted beside the lines, never netted
against them, so that the lines, plus the deficits, add up to the ledger's sum.

A store's share is the lots its tills' sales earned (a sale's credit is `sale:<store>/<txn>`).
Bonuses, adjustments and compensation were earned at no store: they are in the chain's figure
only, and so are the deficits, which belong to an account, not to a store.

The daily snapshot (`LiabilityBook`) takes the chain's figure and every store's share in one pass
over the accounts, and keeps each as the JSON the report answers (`Liability.as_json`).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from points.domain.expiry import Lot


class Line(StrEnum):
    REDEEMABLE = "redeemable"
    PAST_DATE = "past_date"
    ERASED = "erased"


@dataclass(frozen=True)
class Figure:
    points: int = 0
    accounts: int = 0


@dataclass(frozen=True)
class LiabilityLine:
    line: Line
    expires_month: str | None  # "YYYY-MM"; None on the erased members' line, which holds every month
    points: int
    accounts: int


@dataclass(frozen=True)
class Liability:
    lines: list[LiabilityLine]
    totals: dict[Line, Figure]  # each kind of line: its points, and the accounts holding any of them
    held: Figure  # every line: all the points, and the accounts holding any
    # The ledger's sum (every account's balance) and the accounts below zero: the chain's report
    # only (None for a store's share, whose accounts' balances are not the store's).
    ledger_balance: int | None
    in_deficit: Figure | None

    @property
    def outstanding(self) -> Figure:
        """The liability: the points members may still redeem."""
        return self.totals[Line.REDEEMABLE]

    def as_json(self) -> dict[str, Any]:
        """The figures as the report's JSON gives them, and as a snapshot keeps them."""
        return {
            "lines": [{"line": ln.line.value, "expires_month": ln.expires_month, "points": ln.points, "accounts": ln.accounts}
                      for ln in self.lines],
            "totals": {**{kind.value: _figure(f) for kind, f in self.totals.items()}, "all": _figure(self.held)},
            "ledger": None if self.in_deficit is None else {
                "balance": self.ledger_balance, "in_deficit": _figure(self.in_deficit),
            },
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "Liability":
        """A kept snapshot's figures (`as_json`) back."""
        ledger = body["ledger"]
        return cls(
            lines=[LiabilityLine(Line(ln["line"]), ln["expires_month"], ln["points"], ln["accounts"]) for ln in body["lines"]],
            totals={kind: Figure(**body["totals"][kind.value]) for kind in Line},
            held=Figure(**body["totals"]["all"]),
            ledger_balance=None if ledger is None else ledger["balance"],
            in_deficit=None if ledger is None else Figure(**ledger["in_deficit"]),
        )

    @classmethod
    def nothing(cls, *, chain: bool) -> "Liability":
        """No points held: a store none of whose sales' points are left."""
        return cls(lines=[], totals={kind: Figure() for kind in Line}, held=Figure(),
                   ledger_balance=0 if chain else None, in_deficit=Figure() if chain else None)


def _figure(figure: Figure) -> dict[str, int]:
    return {"points": figure.points, "accounts": figure.accounts}


def store_of(origin: str) -> str | None:
    """The store whose sale credited a lot (`sale:S001/T-9` -> S001); None for a credit of no store."""
    if not origin.startswith("sale:"):
        return None
    store, slash, _ = origin.removeprefix("sale:").partition("/")
    return store if slash and store else None


@dataclass
class LiabilityTally:
    """Takes the accounts one by one (`add`) and sums them into a `Liability`."""

    today: date  # the chain's business day now: a lot valid until yesterday is past its date
    store_id: str | None = None  # a store's share, else the chain's
    _lines: dict[tuple[Line, str | None], list[int]] = field(default_factory=dict)  # -> [points, accounts]
    _holding: dict[Line, int] = field(default_factory=dict)  # accounts holding any points of a kind
    _held: int = 0
    _balance: int = 0
    _deficit: list[int] = field(default_factory=lambda: [0, 0])

    def add(self, lots: Iterable[Lot], *, balance: int, erased: bool) -> None:
        """One account: its open lots, its balance (the sum of its entries), whether it is erased."""
        mine: dict[tuple[Line, str | None], int] = {}
        for lot in lots:
            if lot.remaining <= 0 or (self.store_id is not None and store_of(lot.origin) != self.store_id):
                continue
            key = self._key(lot, erased)
            mine[key] = mine.get(key, 0) + lot.remaining
        for key, points in mine.items():
            figures = self._lines.setdefault(key, [0, 0])
            figures[0] += points
            figures[1] += 1
        for kind in {line for line, _ in mine}:
            self._holding[kind] = self._holding.get(kind, 0) + 1
        self._held += bool(mine)
        self._balance += balance
        if balance < 0:
            self._deficit[0] += balance
            self._deficit[1] += 1

    def _key(self, lot: Lot, erased: bool) -> tuple[Line, str | None]:
        if erased:
            return Line.ERASED, None
        month = f"{lot.expires_on.year:04d}-{lot.expires_on.month:02d}"
        return (Line.PAST_DATE if lot.expires_on < self.today else Line.REDEEMABLE), month

    def result(self) -> Liability:
        # By month, the erased members' line last; months past their date come first by their month.
        order = sorted(self._lines, key=lambda key: (key[0] is Line.ERASED, key[1] or ""))
        lines = [LiabilityLine(line, month, *self._lines[(line, month)]) for line, month in order]
        totals = {
            kind: Figure(sum(ln.points for ln in lines if ln.line is kind), self._holding.get(kind, 0)) for kind in Line
        }
        chain = self.store_id is None
        return Liability(
            lines=lines, totals=totals, held=Figure(sum(ln.points for ln in lines), self._held),
            ledger_balance=self._balance if chain else None,
            in_deficit=Figure(*self._deficit) if chain else None,
        )


@dataclass
class LiabilityBook:
    """The chain's figure and every store's share from one pass over the accounts (`add` as
    `LiabilityTally.add`): the daily snapshot reads the ledger once, not once per store."""

    today: date
    chain: LiabilityTally = field(init=False)
    stores: dict[str, LiabilityTally] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.chain = LiabilityTally(self.today)

    def add(self, lots: Iterable[Lot], *, balance: int, erased: bool) -> None:
        lots = list(lots)
        self.chain.add(lots, balance=balance, erased=erased)
        by_store: dict[str, list[Lot]] = {}
        for lot in lots:
            if lot.remaining > 0 and (store := store_of(lot.origin)) is not None:
                by_store.setdefault(store, []).append(lot)
        for store, own in by_store.items():
            if (tally := self.stores.get(store)) is None:
                tally = self.stores[store] = LiabilityTally(self.today, store)
            # A store's share has no balance of its own (`Liability.ledger_balance` is None).
            tally.add(own, balance=0, erased=erased)

    def results(self) -> dict[str | None, Liability]:
        """None: the chain's; else each store's that any lot still held came from."""
        return {None: self.chain.result(), **{store: tally.result() for store, tally in sorted(self.stores.items())}}
