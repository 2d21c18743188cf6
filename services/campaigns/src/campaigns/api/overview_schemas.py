"""What campaigns holds of one member, in one answer (the customer-360 view's part)."""

from pydantic import BaseModel, Field

from campaigns.api.coupon_schemas import WalletCoupon
from campaigns.api.message_schemas import MessagePublic


class MemberOverview(BaseModel):
    coupons: list[WalletCoupon] = Field(description="The member's wallet, as /v1/members/{id}/coupons")
    messages: list[MessagePublic] = Field(description="The latest messages, newest first, as /v1/members/{id}/messages")
