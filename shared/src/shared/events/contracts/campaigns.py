"""What the campaigns service publishes about coupons.

Ids, amounts and times only: a coupon's code is a bearer credential (whoever types it at a till
uses it) and never travels on the bus; the member is named by id.
"""

from typing import Literal

from pydantic import AwareDatetime, Field

from shared.events.contracts.common import Contract, Id, StoreId, TxnId
from shared.money import Money


class CouponIssuedV1(Contract):
    coupon_id: str = Id
    template_id: str = Id
    campaign_id: str | None = Field(default=None, max_length=64)
    member_id: str = Id
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    issued_at: AwareDatetime


class CouponRedeemedV1(Contract):
    """A sale used the coupon. `reserved`: false when the till published the sale without
    reserving the coupon first (it was checked when the sale arrived)."""

    coupon_id: str = Id
    template_id: str = Id
    campaign_id: str | None = Field(default=None, max_length=64)
    member_id: str | None = Field(default=None, max_length=64)
    store_id: StoreId
    pos_txn_id: TxnId
    sale_event_id: str = Id
    discount: Money
    reserved: bool = True
    redeemed_at: AwareDatetime


class CouponReleasedV1(Contract):
    """A reservation ended without a sale: it expired, or the till voided the sale."""

    coupon_id: str = Id
    template_id: str = Id
    campaign_id: str | None = Field(default=None, max_length=64)
    store_id: StoreId
    pos_txn_id: TxnId
    reason: Literal["expired", "voided"]
    released_at: AwareDatetime


class CouponReversedV1(Contract):
    """The sale that redeemed the coupon was returned. `returned`: the coupon can be used again
    (the template gives it back on a refund); otherwise it stays used."""

    coupon_id: str = Id
    template_id: str = Id
    campaign_id: str | None = Field(default=None, max_length=64)
    store_id: StoreId
    pos_txn_id: TxnId
    refund_id: TxnId
    discount: Money
    returned: bool
    reversed_at: AwareDatetime
