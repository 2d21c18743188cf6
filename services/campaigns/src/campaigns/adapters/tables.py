"""Rows of the campaigns database, each feature in its own block; `TABLES` lists what the
migrations own (besides the messaging tables every service has)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from shared.columns import Fraction, MoneyColumn, Qty, UtcDateTime
from shared.member_directory import TABLE as MEMBER_DIRECTORY
from shared.member_directory import MemberDirectoryRow  # noqa: F401  (registers the table)
from shared.store_directory import TABLE as STORE_DIRECTORY
from shared.store_directory import StoreDirectoryRow  # noqa: F401  (registers the table)

# --- audience: campaigns' read model of customers (from members' events) and saved segments


class CustomerRow(SQLModel, table=True):
    """One customer as members' events describe them. Each group of facts carries the time it was
    true at, and an event changes a group only if it is newer, so events may arrive in any order.
    No personal data: ids, classes, scores, the birth month and consents only."""

    __tablename__ = "customer"
    __table_args__ = (
        Index("ix_customer_community", "community_id"),
        Index("ix_customer_home_store", "home_store_id"),
    )

    member_id: str = Field(primary_key=True, max_length=36)
    registered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # From the registration, attributes and staff's profile changes, whichever is newer (`profile_at`)
    channel: str | None = Field(default=None, max_length=16)
    home_store_id: str | None = Field(default=None, max_length=32)
    community_id: str | None = Field(default=None, max_length=36)
    profile_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # Tier, from attributes and tier changes, whichever is newer
    tier: str | None = Field(default=None, max_length=16)
    tier_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # Value analytics (member_attributes), as of `attributes_as_of`
    attributes_as_of: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    value_class: str | None = Field(default=None, max_length=16)
    recency: int | None = None
    frequency: int | None = None
    monetary: int | None = None
    churn_risk: str | None = Field(default=None, max_length=16)
    days_since_last_purchase: int | None = None
    birth_month: int | None = None
    # From the purchases below: the latest not returned in full, and the spend net of discounts
    # and returns. `last_purchase_at` also learns from attributes (the start of the local day
    # that many calendar days before as_of) for customers whose older purchases campaigns never saw.
    last_purchase_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    lifetime_spend: Decimal = Field(default=Decimal("0.00"), sa_column=Column(MoneyColumn(), nullable=False))
    # Marketing consent per channel; None: never answered (counts as no)
    consent_sms: bool | None = None
    consent_sms_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    consent_email: bool | None = None
    consent_email_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # Service tips by SMS: not marketing (no segment asks for it), but the sender checks it for the
    # service messages whose request requires it.
    consent_service_tips_sms: bool | None = None
    consent_service_tips_sms_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # Personalised offers; None: never answered, which counts as yes (a member is personalised
    # until they opt out). Only personalised campaigns ask for it.
    personalised: bool | None = None
    personalised_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # Set once; nothing clears it, so a late event cannot bring an erased customer back.
    erased_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class CustomerPurchaseRow(SQLModel, table=True):
    """An attributed sale: what campaign results count (spend and visits per member in a window)."""

    __tablename__ = "customer_purchase"
    __table_args__ = (Index("ix_customer_purchase_member_time", "member_id", "occurred_at"),)

    sale_event_id: str = Field(primary_key=True, max_length=200)
    member_id: str = Field(max_length=36)
    store_id: str = Field(max_length=32)
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    total: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    discount: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    # Refunded so far, from the returns below (they may arrive before the sale).
    returned: Decimal = Field(default=Decimal("0.00"), sa_column=Column(MoneyColumn(), nullable=False))


class CustomerPurchaseCategoryRow(SQLModel, table=True):
    """What a sale bought per category, net of returns: "bought fresh food in the last 30 days"."""

    __tablename__ = "customer_purchase_category"
    __table_args__ = (Index("ix_customer_purchase_category_member", "member_id", "category", "occurred_at"),)

    sale_event_id: str = Field(primary_key=True, max_length=200)
    category: str = Field(primary_key=True, max_length=64)
    member_id: str = Field(max_length=36)
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    amount: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    returned: Decimal = Field(default=Decimal("0.00"), sa_column=Column(MoneyColumn(), nullable=False))


class CustomerReturnRow(SQLModel, table=True):
    """An attributed return, kept so a sale arriving after its return is still reduced by it."""

    __tablename__ = "customer_return"
    __table_args__ = (Index("ix_customer_return_sale", "sale_event_id"),)

    refund_event_id: str = Field(primary_key=True, max_length=200)
    sale_event_id: str = Field(max_length=200)
    member_id: str = Field(max_length=36)
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    amount: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    # Category -> amount refunded, as decimal strings (dropped at erasure with the categories).
    by_category: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SegmentRow(SQLModel, table=True):
    __tablename__ = "segment"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    rule: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="active", max_length=16)  # active, archived
    version: int = 1
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_by: str = Field(max_length=64)
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


AUDIENCE_TABLES = frozenset(
    {"customer", "customer_purchase", "customer_purchase_category", "customer_return", "segment"}
)

# --- end of audience

# --- coupons: templates, coupons, their counters, refused redemptions, members' cards


class CouponTemplateRow(SQLModel, table=True):
    __tablename__ = "coupon_template"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    # The whole TemplateSpec as JSON (amounts as strings, so exact): rules are read whole, never
    # queried field by field; the generic code is its own column to be looked up and kept unique.
    spec: str = Field(sa_column=Column(Text, nullable=False))
    generic_code: str | None = Field(default=None, max_length=32, unique=True)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CouponRow(SQLModel, table=True):
    """A member's coupon (`code` set, unique), or one use of a generic code at one sale (`code`
    empty: the code is the template's, `use_key` keeps one use per template and sale)."""

    __tablename__ = "coupon"
    __table_args__ = (
        Index("ix_coupon_txn", "store_id", "pos_txn_id"),
        Index("ix_coupon_reservations", "state", "reserved_until"),
        Index("ix_coupon_issue", "template_id", "campaign_key", "member_id"),
    )

    id: str = Field(primary_key=True, max_length=36)
    code: str | None = Field(default=None, max_length=32, unique=True)
    use_key: str | None = Field(default=None, max_length=200, unique=True)
    template_id: str = Field(max_length=36, foreign_key="coupon_template.id")
    # A plain string: campaigns are their own table, which coupons do not depend on.
    campaign_id: str | None = Field(default=None, max_length=64)
    # Where budgets and caps are counted: the campaign, or the template issued outside any.
    campaign_key: str = Field(max_length=120)
    member_id: str | None = Field(default=None, max_length=36, index=True)
    state: str = Field(max_length=16)
    issued_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    valid_from: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    valid_until: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # The till's sale holding or having used the coupon.
    store_id: str | None = Field(default=None, max_length=32)
    pos_txn_id: str | None = Field(default=None, max_length=64)
    reserved_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    redeemed_sale_event_id: str | None = Field(default=None, max_length=200)
    redeemed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    discount: Decimal | None = Field(default=None, sa_column=Column(MoneyColumn(), nullable=True))
    # The redeeming sale's total and what its returns have brought back so far: the coupon is
    # reversed by the return that completes it (service_layer/coupons/redemption.on_purchase_refunded).
    sale_total: Decimal | None = Field(default=None, sa_column=Column(MoneyColumn(), nullable=True))
    sale_returned: Decimal | None = Field(default=None, sa_column=Column(MoneyColumn(), nullable=True))
    # The counters this coupon's use was added to (given back on release or a returning refund):
    # the store and the member's period at the time, which may differ from the sale's own later.
    counted_store_id: str | None = Field(default=None, max_length=32)
    counted_period: int | None = None
    counted_member_id: str | None = Field(default=None, max_length=36)
    refund_id: str | None = Field(default=None, max_length=64)
    reversed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class CouponCounterRow(SQLModel, table=True):
    """One budget or cap being counted (key: what and whose, see service_layer/coupons/__init__.py)."""

    __tablename__ = "coupon_counter"

    key: str = Field(primary_key=True, max_length=250)
    used_count: int = 0
    used_amount: Decimal = Field(default=Decimal("0.00"), sa_column=Column(MoneyColumn(), nullable=False))


class CouponRejectionRow(SQLModel, table=True):
    """A code a sale carried that could not be redeemed: kept, so nothing a till sent is lost."""

    __tablename__ = "coupon_rejection"

    id: str = Field(primary_key=True, max_length=36)
    sale_event_id: str = Field(max_length=200, index=True)
    store_id: str = Field(max_length=32)
    pos_txn_id: str = Field(max_length=64)
    code: str = Field(max_length=32)
    reason: str = Field(max_length=32)
    discount_claimed: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CouponSaleReturnRow(SQLModel, table=True):
    """A return that counted towards its sale's coupons, by the till's own key (store, refund id):
    the same return published again under another event id must not count twice, or half a sale
    returned twice would reverse its coupons as if all of it had come back."""

    __tablename__ = "coupon_sale_return"

    store_id: str = Field(primary_key=True, max_length=32)
    refund_id: str = Field(primary_key=True, max_length=64)
    # The sale's: of `sale_store_id` when the goods came back at another store of the chain, else
    # of this return's own store. Indexed: a sale finds its earlier returns by it, whichever store.
    pos_txn_id: str = Field(max_length=64, index=True)
    sale_store_id: str | None = Field(default=None, max_length=32)
    amount: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class MemberCardRow(SQLModel, table=True):
    """A till's card number -> the member, from members' registrations; removed on erasure."""

    __tablename__ = "member_card"

    card_no: str = Field(primary_key=True, max_length=32)
    member_id: str = Field(max_length=36, index=True)
    # Replaced at the desk (lost or damaged): it leads to nobody at the till any more, but is kept
    # so the cashier hears that the customer has a new card rather than "not registered".
    retired: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


COUPON_TABLES = frozenset({
    "coupon_template", "coupon", "coupon_counter", "coupon_rejection", "coupon_sale_return", "member_card", MEMBER_DIRECTORY,
})

# --- end of coupons

# --- campaigns: what each campaign gives to whom, and everyone it reached or held out


class CampaignRow(SQLModel, table=True):
    __tablename__ = "campaign"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=2000)
    kind: str = Field(max_length=16)  # one_off, triggered
    trigger: str | None = Field(default=None, max_length=32)
    segment_id: str | None = Field(default=None, max_length=36)
    # The segment's rule as it stood at launch: the audience is frozen with the rule that chose it.
    segment_rule: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    coupon_template_id: str | None = Field(default=None, max_length=36)
    message: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    control_share: Decimal = Field(sa_column=Column(Fraction(), nullable=False))
    marketing: bool = True
    channel: str = Field(default="sms", max_length=8)
    # Chosen from behaviour or an occasion: reaches only members who did not opt out of personalised offers.
    personalised: bool = True
    starts_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    ends_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    state: str = Field(default="draft", max_length=16, index=True)
    treatment_size: int = 0
    control_size: int = 0
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    launched_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    started_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # The campaign's own limits (domain.campaigns.Budget) as given, and the template it issues its
    # coupons from because of them: the chosen one with its caps narrowed to the budget.
    budget: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    budget_template_id: str | None = Field(default=None, max_length=36)


class CampaignMemberRow(SQLModel, table=True):
    """One member reached by (or held out of) a campaign on one occasion: the key makes every
    occasion count once, whatever the redelivery ("once" for one-off campaigns)."""

    __tablename__ = "campaign_member"

    campaign_id: str = Field(primary_key=True, max_length=36)
    member_id: str = Field(primary_key=True, max_length=36)
    occasion: str = Field(primary_key=True, max_length=100)
    control: bool
    reached_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


CAMPAIGN_TABLES = frozenset({"campaign", "campaign_member"})

# --- end of campaigns

# --- messages: what the sender was asked to send, and what the local transport "sent"


class MessageRow(SQLModel, table=True):
    """One message to one member for one (source, occasion): the unique key makes a redelivered or
    republished request the same message. `source` is the campaign id, or `members:<template>` for
    members' own requests. `params` hold business data only (never the member's contact details)."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("member_id", "source", "occasion", name="uq_message_once"),
        Index("ix_message_due", "status", "not_before"),
        Index("ix_message_member", "member_id", "created_at"),
        Index("ix_message_campaign", "campaign_id", "status"),
    )

    id: str = Field(primary_key=True, max_length=36)
    member_id: str = Field(max_length=36)
    source: str = Field(max_length=80)
    occasion: str = Field(max_length=100)
    campaign_id: str | None = Field(default=None, max_length=36)
    notification_id: str = Field(max_length=64)
    channel: str = Field(max_length=8)  # sms, email, inbox
    template: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    language: str = Field(max_length=8)
    marketing: bool
    requires_consent: str | None = Field(default=None, max_length=32)
    status: str = Field(max_length=16)
    # Why it was deferred, cancelled or failed, or the last transport error before a retry.
    reason: str | None = Field(default=None, max_length=500)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = 0
    not_before: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    failed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    read_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # The transport's id of the hand-over (a provider's message id; the local outbox row's id).
    transport_ref: str | None = Field(default=None, max_length=100)


class LocalOutboxRow(SQLModel, table=True):
    """What the local transport "sent": the rendered text, for operators (GET /v1/outbox) and the
    demo. One row per message, so a second hand-over of the same message is not a second row."""

    __tablename__ = "local_outbox"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=36, unique=True)
    member_id: str = Field(max_length=36, index=True)
    channel: str = Field(max_length=8)
    text: str = Field(sa_column=Column(Text, nullable=False))
    # The number it went to, masked (138****5678), when known at hand-over: a one-time message (its
    # member_id is empty) or a greeting one.
    recipient: str | None = Field(default=None, max_length=16)
    sent_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))


class OneTimeMessageRow(SQLModel, table=True):
    """A one-time message sent to a phone number for a platform service (the gateway's sign-in
    codes): what, when, to which masked number, and what became of it. Neither the number in clear
    nor the parameters (the code) are kept: the number lives only for the hand-over."""

    __tablename__ = "one_time_message"
    __table_args__ = (Index("ix_one_time_message_created", "created_at"),)

    id: str = Field(primary_key=True, max_length=36)
    requested_by: str = Field(max_length=64)  # the calling service's name
    channel: str = Field(max_length=8)
    template: str = Field(max_length=64)
    language: str = Field(max_length=8)
    recipient: str = Field(max_length=16)  # masked
    status: str = Field(max_length=16)  # sent, delivered or failed
    reason: str | None = Field(default=None, max_length=500)
    transport_ref: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


MESSAGE_TABLES = frozenset({"message", "local_outbox", "one_time_message", STORE_DIRECTORY})

# --- end of messages

# --- offers: each member's item history, the promotion list, and the fortnight's personal lists


class CustomerItemRow(SQLModel, table=True):
    """One item line of an attributed sale (`qty` and `amount` positive) or of a return (negative),
    keyed by its event and SKU so a redelivery adds nothing. A sale's net is the sum of its rows
    (returns may come first); the offer lists predict from it (service_layer/item_history.py)."""

    __tablename__ = "customer_item"
    __table_args__ = (
        Index("ix_customer_item_member_time", "member_id", "occurred_at"),
        Index("ix_customer_item_time", "occurred_at"),
        # Returns are few: the offer lists find a member's by this, not among all their lines.
        Index("ix_customer_item_returns", "member_id", postgresql_where=text("qty < 0"), sqlite_where=text("qty < 0")),
    )

    event_id: str = Field(primary_key=True, max_length=200)
    sku: str = Field(primary_key=True, max_length=64)
    sale_event_id: str = Field(max_length=200)
    member_id: str = Field(max_length=36)
    category: str = Field(default="", max_length=64)
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    amount: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))


class PromotionRow(SQLModel, table=True):
    """One item of the promotion list marketing maintains (domain/promotions.py): the whole
    Promotion as JSON (amounts as strings), with the window and the item as columns to query."""

    __tablename__ = "promotion"
    __table_args__ = (Index("ix_promotion_window", "valid_until", "valid_from"),)

    id: str = Field(primary_key=True, max_length=36)
    item: str = Field(max_length=80)  # sku:<sku> or category:<name>
    spec: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    valid_from: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    valid_until: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class OfferRoundRow(SQLModel, table=True):
    """One build of everyone's lists: the fortnight's (key `period:<n>`, by the job) or one marketing
    asked for. Its campaign holds the control group and counts the offers' coupons; `templates`
    maps each promotion on it to its coupon template."""

    __tablename__ = "offer_round"

    id: str = Field(primary_key=True, max_length=36)
    key: str = Field(max_length=64, unique=True)
    campaign_id: str = Field(max_length=36)
    as_of: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    templates: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="building", max_length=16)  # building, built
    members: int = 0
    personal: int = 0
    general: int = 0
    held_out: int = 0
    built_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class OfferRow(SQLModel, table=True):
    """One offer on one member's list of one round, at its rank."""

    __tablename__ = "offer"
    __table_args__ = (Index("ix_offer_member", "member_id", "round_id"),)

    round_id: str = Field(primary_key=True, max_length=36)
    member_id: str = Field(primary_key=True, max_length=36)
    rank: int = Field(primary_key=True)
    promotion_id: str = Field(max_length=36)
    personal: bool
    score: float | None = None
    own_price: Decimal | None = Field(default=None, sa_column=Column(MoneyColumn(), nullable=True))
    coupon_id: str | None = Field(default=None, max_length=36)


OFFER_TABLES = frozenset({"customer_item", "promotion", "offer_round", "offer"})

# --- end of offers

# --- creates: the Idempotency-Key of each campaign, coupon template and promotion marketing made


class CreateRequestRow(SQLModel, table=True):
    """One create request under its Idempotency-Key (service_layer/create_once.py): a retry finds
    what the first made here instead of making it again. Keys are per caller, as complaints'
    are: another person's request under the same key is a request of its own."""

    __tablename__ = "create_request"

    created_by: str = Field(primary_key=True, max_length=64)
    idempotency_key: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=32)  # campaign, coupon_template, promotion, segment
    # SHA-256 of the body as the route parsed it, to tell a retry from another request under the key
    request_hash: str = Field(max_length=64)
    # The id of what the request made, chosen before it is made: the key is taken first, so that a
    # concurrent retry waits on it rather than on what the request goes on to write
    resource_id: str = Field(max_length=36)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


CREATE_TABLES = frozenset({"create_request"})

# --- end of creates

TABLES: frozenset[str] = AUDIENCE_TABLES | COUPON_TABLES | CAMPAIGN_TABLES | MESSAGE_TABLES | OFFER_TABLES | CREATE_TABLES
