"""What the members service publishes: registrations, attributed sales and returns, tiers,
milestones, account managers, consents, personalisation, value attributes, upcoming birthdays and erasure.

Members is the only service holding names, phones and addresses; none of these payloads carry them.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from shared.cards import CardNumber
from shared.events.contracts.common import Channel, Contract, Id, StoreId, TxnId
from shared.money import Money, MoneyTotal, Quantity
from shared.text import Text

Tier = Literal["member", "vip"]
ValueClass = Literal["key", "secondary", "ordinary", "none"]
ChurnRisk = Literal["low", "medium", "high", "lost", "unknown"]
ConsentPurpose = Literal["marketing_sms", "marketing_email", "service_tips_sms"]
ConsentChannel = Literal["service_desk", "app", "web", "phone", "paper_form", "import"]
# v2 adds the customer's reply to an SMS (T, TD, R, 退订), which the sender forwards to members.
ConsentChannelV2 = Literal["service_desk", "app", "web", "phone", "paper_form", "import", "sms_reply"]


class MemberRegisteredV1(Contract):
    member_id: str
    card_no: str
    channel: Channel
    home_store_id: str | None = None
    registered_at: AwareDatetime
    community_id: str | None = None


class AttributedLine(Contract):
    sku: str
    category: str = ""
    qty: Quantity
    amount: Money


class PurchaseAttributedV1(Contract):
    """A POS sale matched to a member: what points and analytics act on."""

    member_id: str
    sale_event_id: str
    store_id: str
    pos_txn_id: str
    occurred_at: AwareDatetime
    total: Money
    # Empty for an imported sale the old system kept only the total of.
    lines: list[AttributedLine]
    # Taken off `total` by coupons and promotions; the customer paid total - discount.
    discount: Money = Decimal("0.00")
    # True when the sale arrived before the card or phone was registered and was matched later.
    late_match: bool = False
    business_date: date | None = None
    # A sale of the chain's past loaded by `crm import-sales`: it counts in every record as a live
    # sale does, but nothing about it reaches the customer (no survey invitation, message, coupon
    # or bonus). The tier and milestone events it causes say so too (`imported` on each).
    imported: bool = False
    # False for an imported sale the import said earns nothing (`--points none`); points then
    # books it at zero, so a later return of it takes nothing back either.
    earns_points: bool = True


class SoldQuantity(Contract):
    sku: str = Field(min_length=1, max_length=64)
    qty: Quantity
    # The categories its lines named and what they came to (`shared.events.contracts.pos.sold_skus`),
    # so that a return of an imported sale is held to them as a till's sale is; absent from the
    # announcements of before they were carried, whose sales are held to sku and quantity only.
    categories: list[Annotated[Text, Field(max_length=64)]] | None = None
    amount: Money | None = None


class ImportedSaleRef(Contract):
    """One sale of a `sales_imported`: its transaction, and what a return of it may take back."""

    store_id: StoreId
    pos_txn_id: TxnId
    occurred_at: AwareDatetime
    total: Money
    # Each sku once, its lines' quantities summed; empty for a sale the old system kept only the
    # total of, whose returns are then held to its amount alone.
    sold: list[SoldQuantity] = Field(default_factory=list)


class SalesImportedV1(Contract):
    """Sales `crm import-sales` recorded, for the gateway, which keeps every POS transaction id:
    a till's sale may not take one of theirs (it would be a different sale under the same id),
    and a return at the till is held to the imported sale as to a live one. No customer: members
    alone knows whose each sale is, and links the return to it."""

    sales: list[ImportedSaleRef] = Field(min_length=1)


class ReturnAttributedV1(Contract):
    """A POS return of a member's sale. Keyed by member id, so it always follows the sale's
    `purchase_attributed` on the same partition; `sale_total` lets points reverse proportionally."""

    member_id: str
    refund_event_id: str
    sale_event_id: str
    store_id: str
    refund_id: str
    pos_txn_id: str
    occurred_at: AwareDatetime
    amount: Money
    sale_total: Money
    lines: list[AttributedLine]
    late_match: bool = False
    # Added inside v1 (optional): the store of the sale (`sale_event_id`, `pos_txn_id`) when the
    # goods came back at another store (`store_id`, whose return `refund_id` is); absent, the return's own.
    sale_store_id: str | None = None


class TierChangedV1(Contract):
    member_id: str
    old_tier: Tier
    new_tier: Tier
    lifetime_spend: MoneyTotal
    reason: Literal["spend_threshold", "review", "manual"]
    changed_at: AwareDatetime
    # A promotion reached through sales loaded by `crm import-sales`: the tier is real, but it is
    # history the old system already celebrated, so nothing about it reaches the customer.
    imported: bool = False


class SpendMilestoneReachedV1(Contract):
    """Lifetime spend crossed a configured milestone (30,000 and 50,000 by default). Published once
    per member and milestone; the event id is derived from both so redelivery cannot repeat it."""

    member_id: str
    milestone: Money
    lifetime_spend: MoneyTotal
    reached_at: AwareDatetime
    # Reached through sales loaded by `crm import-sales`: recorded, but earns no bonus (the old
    # system already rewarded it) and reaches the customer in no other way either.
    imported: bool = False


class AccountManagerAssignedV1(Contract):
    member_id: str
    manager_id: str | None = Field(description="None when no manager covers the member's community yet")
    previous_manager_id: str | None = None
    store_id: str | None = None
    community_id: str | None = None
    reason: Literal["new_vip", "reassigned", "no_manager_for_community", "manager_left"]
    assigned_at: AwareDatetime


class NotificationRequestedV1(Contract):
    """Ask the notification sender to message a member. The sender looks the member's contact
    details up in members itself (an audited read); `params` hold ids and business data only, never
    a name or phone, the customer's or staff's: `vip_welcome` gives `manager_id` and `store_id`, and
    the sender looks the manager's name and work phone up in members' staff directory. Requests
    published before carry `manager_name` and `manager_phone` instead; the sender uses them as they
    are."""

    notification_id: str = Id
    member_id: str
    template: Literal["vip_welcome", "service_tip", "points_expiry"]
    channel: Literal["sms"] = "sms"
    params: dict[str, str] = Field(default_factory=dict)
    requires_consent: ConsentPurpose | None = None
    requested_at: AwareDatetime


class ConsentChangedV1(Contract):
    member_id: str
    purpose: ConsentPurpose
    granted: bool
    channel: ConsentChannel
    changed_at: AwareDatetime


class ConsentChangedV2(Contract):
    """The same change as v1, for answers v1 cannot name: its channel list is closed inside its
    version, so members announces a withdrawal by SMS reply (`sms_reply`) as v2 and every other
    change as v1, one event per change."""

    member_id: str
    purpose: ConsentPurpose
    granted: bool
    channel: ConsentChannelV2
    changed_at: AwareDatetime


class PersonalisationChangedV1(Contract):
    """The member opted out of personalised offers (`personalised: false`) or back in. Never
    answered means personalised: offers chosen from behaviour or an occasion may reach them.
    Offers made alike to everyone in a group (a store-wide or community offer) still do."""

    member_id: str
    personalised: bool
    channel: ConsentChannel
    changed_at: AwareDatetime


class MemberAttributesV1(Contract):
    """Segmentation attributes of one member, computed by the analytics job. No personal data."""

    member_id: str
    as_of: AwareDatetime
    window_days: int
    tier: Tier
    channel: Channel
    home_store_id: str | None = None
    community_id: str | None = None
    recency: int = Field(ge=0, le=5, description="RFM scores 1-5; 0 when no purchase in the window")
    frequency: int = Field(ge=0, le=5)
    monetary: int = Field(ge=0, le=5)
    value_class: ValueClass
    churn_risk: ChurnRisk
    days_since_last_purchase: int | None = None
    typical_interval_days: float | None = None
    window_spend: MoneyTotal
    # Month of the birthday only (no day, no year): enough for birthday campaigns, not an identifier.
    birth_month: int | None = Field(default=None, ge=1, le=12)


class BirthdayUpcomingV1(Contract):
    """The member's birthday is `days_until` days ahead (in the chain's calendar days). Published
    once per member and birthday year, under an event id derived from both. It carries no date
    (birthdays stay in members, like names and phones): consumers act on it when it arrives and
    record the occasion (`birthday:<year>`), not a birthday of the member."""

    member_id: str
    days_until: int = Field(ge=0, le=366)
    occasion_year: int = Field(ge=1900, le=9999, description="The year of the birthday announced")


class MemberProfileChangedV1(Contract):
    """Staff changed what other services keep of a member: the home store (whose staff may serve
    them, the policy's STORE scope), the channel (the prices of gifts, campaigns' segments), the
    community (segments) or the card (points' card look-up, campaigns' coupons at the till). The
    values after the change; ids only, no personal data."""

    member_id: str
    changed_at: AwareDatetime
    home_store_id: StoreId | None = None
    channel: Channel
    community_id: str | None = None
    # The card the member's sales and coupons are matched by, after a replacement (a card lost or
    # damaged); absent from the events of before it was carried, where it had not changed.
    card_no: CardNumber | None = None


class MemberErasedV1(Contract):
    """The member's personal data is gone from members; every service purges what it holds."""

    member_id: str
    erased_at: AwareDatetime


class SaleKey(Contract):
    """A POS transaction, as the till numbered it in its store."""

    store_id: StoreId
    pos_txn_id: TxnId


class MemberSalesErasedV1(Contract):
    """The sales of a member erased just now, for the gateway: it keeps the card number or phone
    digest each was made with (with the transaction's idempotency record) and forgets them as
    members did on its purchases. Sent in the erasure's transaction, as many events as it takes
    (a long-standing customer's sales would pass the broker's message size in one). Ids only:
    that these sales are the member's was on the bus already (`purchase_attributed`)."""

    member_id: str
    erased_at: AwareDatetime
    sales: list[SaleKey] = Field(min_length=1)
