"""Bodies of the gateway API: POS entry, stores, the customer-360 view.

What a till sends and the 360 view are shapes the service layer works with too, so they live in
domain/ and are named here for the routes."""

from datetime import datetime

from pydantic import BaseModel, Field

from gateway.domain.customer360 import Customer360, Unavailable
from gateway.domain.sales import PosMember, PosPurchaseIn, PosRefundIn
from shared.text import Text

__all__ = [
    "Customer360", "PosAccepted", "PosMember", "PosPurchaseIn", "PosRefundIn", "StoreIn", "StorePublic", "Unavailable",
]


class PosAccepted(BaseModel):
    event_id: str
    duplicate: bool = Field(description="True when this exact transaction was already accepted (a retry)")


class StoreIn(BaseModel):
    name: Text = Field(min_length=1, max_length=100)
    city: Text = Field(default="", max_length=50)
    active: bool = True


class StorePublic(StoreIn):
    store_id: str
    created_at: datetime
