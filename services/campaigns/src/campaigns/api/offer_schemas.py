"""Request and response bodies of the promotion list and the personal offer lists."""

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from campaigns.domain.promotions import Promotion


class PromotionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    spec: Promotion
    created_by: str
    created_at: datetime
    withdrawn_at: datetime | None


class OfferRoundPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    key: str
    campaign_id: str
    as_of: datetime
    ends_at: datetime
    status: str
    members: int
    personal: int
    general: int
    held_out: int
    built_at: datetime | None


class OfferPublic(BaseModel):
    rank: int
    promotion_id: str
    title: str
    sku: str | None
    category: str | None
    # The member's own price of a SKU (their last price less the promotion); none for a category.
    own_price: Decimal | None
    personal: bool
    coupon_code: str | None
    valid_until: datetime | None
    coupon_state: str | None = Field(description=(
        "the state of the offer's coupon as the wallet shows it: issued (still to use), reserved (held by a sale at "
        "a till), redeemed (used), reversed, or expired; null when the offer has no coupon"))


class OfferListPublic(BaseModel):
    member_id: str
    round_id: str | None
    as_of: datetime | None
    # False: the member switched personalised offers off and has the general promotion list.
    personal: bool
    offers: list[OfferPublic]
