"""Lifetime spend and purchase statistics of a member.

Spend is net of returns: a return lowers lifetime spend by its amount, but the sale still counts as
a purchase (the customer came and bought), so `purchase_count` and the purchase dates stay.
"""

from datetime import datetime
from decimal import Decimal
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


def record_return(member: HasSpend, amount: Decimal) -> None:
    member.lifetime_spend = member.lifetime_spend - amount


class ReturnTooLarge(ValueError):
    """More would be returned than is left of the sale."""


def returnable(total: Decimal, already_returned: Decimal, amount: Decimal) -> Decimal:
    """What is left of a sale after this return; refuses to return more than was sold."""
    left = total - already_returned - amount
    if left < 0:
        raise ReturnTooLarge(f"return of {amount} exceeds the {total - already_returned} left of the sale")
    return left
