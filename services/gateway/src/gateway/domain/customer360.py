"""The customer-360 view the gateway composes from the services' answers."""

from decimal import Decimal
from typing import Any

from pydantic import BaseModel


class Unavailable(BaseModel):
    section: str
    reason: str


class Customer360(BaseModel):
    member_id: str
    member: dict[str, Any] | None
    lifetime_spend: Decimal | None
    purchase_count: int | None
    recent_purchases: list[dict[str, Any]] | None
    points: dict[str, Any] | None
    complaints: list[dict[str, Any]] | None = None
    # The member's coupons (their wallet) with their state; None when campaigns did not answer.
    coupons: list[dict[str, Any]] | None = None
    # The latest messages sent or meant for the member, with their status (sent, delivered,
    # deferred, cancelled with the reason...); None when campaigns did not answer.
    messages: list[dict[str, Any]] | None = None
    unavailable: list[Unavailable]
