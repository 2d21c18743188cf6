"""What the campaigns service publishes: coupons, campaigns, and the messages its campaigns ask for.

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


class CampaignLaunchedV1(Contract):
    """A campaign started reaching members. A one-off campaign's audience is frozen at this moment:
    `treatment` members were reached, `control` held out; a triggered one reaches members as their
    occasions come (both counts 0 here)."""

    campaign_id: str = Id
    kind: Literal["one_off", "triggered"]
    trigger: str | None = Field(default=None, max_length=32)
    treatment: int = Field(ge=0)
    control: int = Field(ge=0)
    launched_at: AwareDatetime


class CampaignEndedV1(Contract):
    campaign_id: str = Id
    reason: Literal["ended", "ends_at_passed"]
    ended_at: AwareDatetime


class CampaignNotificationRequestedV1(Contract):
    """Ask the sender to message a member a campaign reached. Like members' requests, no contact
    details: the sender looks them up itself. `occasion` with the campaign makes it unique (a sender
    that sees it twice sends once)."""

    notification_id: str = Id
    member_id: str = Id
    campaign_id: str = Id
    occasion: str = Field(min_length=1, max_length=100)
    template: str = Field(min_length=1, max_length=64)
    channel: Literal["sms", "email"] = "sms"
    params: dict[str, str] = Field(default_factory=dict)
    coupon_id: str | None = Field(default=None, max_length=64)
    # A marketing message needs the member's marketing consent on the channel at send time too.
    requires_consent: Literal["marketing_sms", "marketing_email"] | None = None
    requested_at: AwareDatetime


class CampaignNotificationRequestedV2(CampaignNotificationRequestedV1):
    """v1, whose `requires_consent` could name marketing only, so a service campaign's message
    required nothing: v2 names `service_tips_sms` for it, the consent members give to service
    tips, which the sender checks at send time as it does marketing's."""

    requires_consent: Literal["marketing_sms", "marketing_email", "service_tips_sms"] | None = None  # type: ignore[assignment]