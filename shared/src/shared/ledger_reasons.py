"""How a points ledger entry's `reason` is written, and how what it says is read back.

Points writes a reason for staff and the audit trail, in English and with ids ("purchase
S001/T1001 (below the minimum sale amount)", "gift rice-cooker at S001"). A few facts live only
there: the gift of a redemption, the sale a return is of, whether a sale was imported without
points, below the minimum or capped. Points reads its own reversals back (expiry, for entries booked
before they had a column), and the console's customer page and the member app word entries from
them (`read`), so the wording and its reader are kept together here.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

IMPORTED_WITHOUT_POINTS = "imported without points"
BELOW_MINIMUM = "below the minimum sale amount"
COMPENSATION = "complaint compensation"
_CAPPED = re.compile(r"capped at (\d+) points a sale")
_GOODS = re.compile(r"the goods earned (\d+); (\d+) of the sale's points had already expired")

_PURCHASE = re.compile(r"purchase (\S+)((?: \([^()]*\))*)")
_RETURN = re.compile(r"return (\S+) of sale (\S+)")
_GIFT = re.compile(r"gift (\S+) at (\S+)")
_CANCELLED = re.compile(r"cancelled gift ([^:\s]+): (.*)", re.DOTALL)
_EXPIRED = re.compile(r"points valid until (\S+) expired")
_NOTE = re.compile(r" \(([^()]*)\)")

# The ledger's column is 200 characters; a longer reason is cut, its start (what is read back) kept.
REASON_MAX = 200


def purchase(sale_ref: str, *, earns_points: bool, below_minimum: bool, capped_at: int | None) -> str:
    notes = [IMPORTED_WITHOUT_POINTS] if not earns_points else []
    notes += [BELOW_MINIMUM] if below_minimum else []
    notes += [f"capped at {capped_at} points a sale"] if capped_at is not None else []
    return f"purchase {sale_ref}" + "".join(f" ({note})" for note in notes)


def sale_return(refund_ref: str, sale_ref: str, *, goods_earned: int | None = None, expired: int | None = None) -> str:
    """A return's reversal; with `goods_earned`, why less came back than the goods earned."""
    reason = f"return {refund_ref} of sale {sale_ref}"
    if goods_earned is not None:
        reason += f" (the goods earned {goods_earned}; {expired} of the sale's points had already expired)"
    return reason[:REASON_MAX]


def gift_redeemed(gift_id: str, store_id: str) -> str:
    return f"gift {gift_id} at {store_id}"


def gift_cancelled(gift_id: str, why: str) -> str:
    return f"cancelled gift {gift_id}: {why}"[:REASON_MAX]


def points_expired(valid_until: date) -> str:
    return f"points valid until {valid_until.isoformat()} expired"


Kind = Literal["purchase", "return", "gift", "cancelled_gift", "expired", "compensation"]


@dataclass(frozen=True)
class Reason:
    """What a reason written here says: `ref` is the sale of a purchase, the refund of a return;
    `sale` the sale a return is of; `gift` and `store` a redemption's; `why` a cancellation's;
    `valid_until` an expiry's; then the notes of an earning or a return."""

    kind: Kind
    ref: str = ""
    sale: str = ""
    gift: str = ""
    store: str = ""
    why: str = ""
    valid_until: str = ""
    imported_without_points: bool = False
    below_minimum: bool = False
    capped_at: int | None = None
    goods_earned: int | None = None
    expired_points: int | None = None


def read(reason: str) -> Reason | None:
    """The reason read back, or None for one not written here (a reason staff typed, an erased one).
    A return cut at the column's length still names its sale, without its note."""
    text = reason.strip()
    if text == COMPENSATION:
        return Reason("compensation")
    if found := _PURCHASE.fullmatch(text):
        return _purchase(found[1], _NOTE.findall(found[2]))
    if found := _RETURN.match(text):
        goods = _GOODS.fullmatch(note[1]) if (note := _NOTE.fullmatch(text[found.end():])) else None
        return Reason("return", ref=found[1], sale=found[2], goods_earned=int(goods[1]) if goods else None,
                      expired_points=int(goods[2]) if goods else None)
    if found := _GIFT.fullmatch(text):
        return Reason("gift", gift=found[1], store=found[2])
    if found := _CANCELLED.fullmatch(text):
        return Reason("cancelled_gift", gift=found[1], why=found[2])
    if found := _EXPIRED.fullmatch(text):
        return Reason("expired", valid_until=found[1])
    return None


def _purchase(ref: str, notes: list[str]) -> Reason | None:
    capped = next((int(m[1]) for note in notes if (m := _CAPPED.fullmatch(note))), None)
    if any(note not in (IMPORTED_WITHOUT_POINTS, BELOW_MINIMUM) and not _CAPPED.fullmatch(note) for note in notes):
        return None  # a note not written here: not a purchase's reason as points writes it
    return Reason("purchase", ref=ref, imported_without_points=IMPORTED_WITHOUT_POINTS in notes,
                  below_minimum=BELOW_MINIMUM in notes, capped_at=capped)
