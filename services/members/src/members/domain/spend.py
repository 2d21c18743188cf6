"""Lifetime spend and purchase statistics of a member.

Spend is what the customer paid: a sale counts its total less its discounts (coupons and
promotions), not the shelf value of the goods. Spend is net of returns: a return lowers lifetime
spend by its share of what was paid, but the sale still counts as a purchase (the customer came and
bought), so `purchase_count` and the purchase dates stay.
"""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol


class HasSpend(Protocol):
    lifetime_spend: Decimal
    purchase_count: int
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None


def record_purchase(member: HasSpend, total: Decimal, occurred_at: datetime) -> None:
    """Add one sale; late or out-of-order sales never move `last_purchase_at` backwards."""
    member.lifetime_spend = (member.lifetime_spend or Decimal("0.00")) + total
    member.purchase_count += 1
    if member.first_purchase_at is None or occurred_at < member.first_purchase_at:
        member.first_purchase_at = occurred_at
    if member.last_purchase_at is None or occurred_at > member.last_purchase_at:
        member.last_purchase_at = occurred_at


def paid_part(total: Decimal, discount: Decimal, gross: Decimal) -> Decimal:
    """What the customer paid for `gross` of a sale's `total` (both before discounts): the discount
    is spread over the whole sale, since a sale does not say which lines a coupon applied to.
    All of a sale's total gives back exactly what was paid."""
    if not discount or total <= 0:
        return gross
    return (gross * (total - discount) / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def paid_returned(total: Decimal, discount: Decimal, returned_before: Decimal, amount: Decimal) -> Decimal:
    """A return's share of what was paid, worked out on the cumulative amount returned so that
    partial returns add up to the paid total to the cent when everything has come back."""
    return paid_part(total, discount, returned_before + amount) - paid_part(total, discount, returned_before)


def record_return(member: HasSpend, amount: Decimal) -> None:
    """`amount` is what the return gives back of what was paid (`paid_returned`)."""
    member.lifetime_spend = member.lifetime_spend - amount


class ReturnTooLarge(ValueError):
    """More would be returned than is left of the sale."""


def returnable(total: Decimal, already_returned: Decimal, amount: Decimal) -> Decimal:
    """What is left of a sale after this return; refuses to return more than was sold."""
    left = total - already_returned - amount
    if left < 0:
        raise ReturnTooLarge(f"return of {amount} exceeds the {total - already_returned} left of the sale")
    return left
