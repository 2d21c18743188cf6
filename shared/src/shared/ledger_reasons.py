"""How a points ledger entry's `reason` is written, and how what it says is read back.

Points writes a reason for staff and the audit trail, in English and with ids ("purchase
S001/T1001 (below the minimum sale amount)", "gift rice-cooker at S001"). A few facts live only
there: the gift of a redemption, the sale a return is of, whether a sale was imported without
points, below the minimum or capped. Points reads its own reversals back (expiry, for entries booked
before they had a column) and the member app words entries from them, so the wording and its
readers are kept together here: changing one without the other fails the tests of both.
"""

import re
from dataclasses import dataclass
from datetime import date

IMPORTED_WITHOUT_POINTS = " (imported without points)"
BELOW_MINIMUM = " (below the minimum sale amount)"
_CAPPED = " (capped at {limit} points a sale)"
_CAPPED_MARK = " (capped at "

_RETURN = "return {refund} of sale {sale}"
_RETURN_OF = re.compile(r"return \S+ of sale (\S+)")
_GIFT = "gift {gift_id} at {store_id}"
_GIFT_AT = re.compile(r"gift (\S+) at (\S+)$")
_CANCELLED = "cancelled gift {gift_id}: {why}"
_CANCELLED_GIFT = re.compile(r"cancelled gift ([^:\s]+):")

# The ledger's column is 200 characters; a longer reason is cut, its start (what is read back) kept.
REASON_MAX = 200


def purchase(sale_ref: str, *, earns_points: bool, below_minimum: bool, capped_at: int | None) -> str:
    reason = f"purchase {sale_ref}"
    if not earns_points:
        reason += IMPORTED_WITHOUT_POINTS
    if below_minimum:
        reason += BELOW_MINIMUM
    if capped_at is not None:
        reason += _CAPPED.format(limit=capped_at)
    return reason


@dataclass(frozen=True)
class PurchaseNotes:
    imported_without_points: bool
    below_minimum: bool
    capped: bool


def purchase_notes(reason: str) -> PurchaseNotes:
    return PurchaseNotes(IMPORTED_WITHOUT_POINTS in reason, BELOW_MINIMUM in reason, _CAPPED_MARK in reason)


def sale_return(refund_ref: str, sale_ref: str, *, goods_earned: int | None = None, expired: int | None = None) -> str:
    """A return's reversal; with `goods_earned`, why less came back than the goods earned."""
    reason = _RETURN.format(refund=refund_ref, sale=sale_ref)
    if goods_earned is not None:
        reason += f" (the goods earned {goods_earned}; {expired} of the sale's points had already expired)"
    return reason[:REASON_MAX]


def returned_sale(reason: str) -> str | None:
    """The sale (`<store>/<txn>`) a reversal's reason names, if it is one."""
    found = _RETURN_OF.match(reason)
    return found.group(1) if found else None


def gift_redeemed(gift_id: str, store_id: str) -> str:
    return _GIFT.format(gift_id=gift_id, store_id=store_id)


def redeemed_gift(reason: str) -> tuple[str, str] | None:
    """`(gift id, store id)` of a redemption's reason."""
    found = _GIFT_AT.match(reason)
    return (found.group(1), found.group(2)) if found else None


def gift_cancelled(gift_id: str, why: str) -> str:
    return _CANCELLED.format(gift_id=gift_id, why=why)[:REASON_MAX]


def cancelled_gift(reason: str) -> str | None:
    """The gift id of a cancelled redemption's reason."""
    found = _CANCELLED_GIFT.match(reason)
    return found.group(1) if found else None


def points_expired(valid_until: date) -> str:
    return f"points valid until {valid_until.isoformat()} expired"
