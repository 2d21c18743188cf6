"""What the points service publishes: redemptions, entitlements and expiry warnings."""

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator

from shared.events.contracts.common import Channel, Contract, Id, StoreId
from shared.integers import POINTS_MAX


class RewardRedeemedV1(Contract):
    member_id: str
    redemption_id: str = Id
    gift_id: str
    store_id: StoreId
    channel: Channel
    points: int = Field(gt=0, le=POINTS_MAX)
    staff_id: str
    redeemed_at: AwareDatetime
    # Added within v1: absent in earlier events, which were all gifts.
    kind: Literal["gift", "coupon"] = Field(
        default="gift", description="gift: picked up at the desk; coupon: campaigns issues one coupon of coupon_template_id"
    )
    coupon_template_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _coupon_names_its_template(self) -> "RewardRedeemedV1":
        if (self.kind == "coupon") != (self.coupon_template_id is not None):
            raise ValueError("coupon_template_id: set for a coupon, and only for a coupon")
        return self


class RewardRedemptionCancelledV1(Contract):
    member_id: str
    redemption_id: str = Id
    gift_id: str
    store_id: StoreId
    points_returned: int = Field(gt=0, le=POINTS_MAX)
    staff_id: str
    cancelled_at: AwareDatetime


class PointsExpiringV1(Contract):
    """Warning ahead of expiry, so the member can redeem first (sent once per member and date)."""

    member_id: str
    points: int = Field(gt=0, le=POINTS_MAX)
    expires_on: date
    balance: int


class EntitlementGrantedV1(Contract):
    member_id: str
    kind: str = Field(min_length=1, max_length=64, description="e.g. leftover_collection_visit")
    granted_total: int = Field(ge=0, description="the member's total of this entitlement after the grant")
    source_ref: str
    granted_at: AwareDatetime
