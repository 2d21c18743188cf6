"""Lifetime spend and purchase statistics of a member."""

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
