"""Request and response bodies of the members API (SQLModel-style Create / Public families).

What a registration or an edit says is a shape the service layer works with too, so it lives in
domain/profile.py and is named here for the routes."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from members.domain.profile import MemberCreate, MemberUpdate
from shared.bodies import Body
from shared.cards import CardNumber
from shared.consents import Consents

__all__ = [
    "CardReplacement",
    "ConsentState",
    "Consents",
    "ConsentsInForce",
    "MemberCreate",
    "MemberFound",
    "MemberPage",
    "MemberPublic",
    "MemberUpdate",
    "PurchaseLinePublic",
    "PurchasePublic",
    "PurchaseWithReturns",
    "ReturnReceipt",
]


class CardReplacement(Body):
    replaces: CardNumber = Field(description="The member's card now: the one lost or damaged. A replacement sent again finds "
                                             "it replaced already and answers the member as it left them")
    reason: Literal["lost", "damaged"]
    card_no: CardNumber | None = Field(default=None, description="The new card handed over at the desk; left out, a number is issued")


class ConsentState(BaseModel):
    granted: bool
    at: datetime
    channel: str


class ConsentsInForce(BaseModel):
    """The latest answer per purpose; a purpose never answered is null: no consent, except for
    personalised offers, where null means personalised (the member never opted out)."""

    marketing_sms: ConsentState | None = None
    marketing_email: ConsentState | None = None
    service_tips_sms: ConsentState | None = None
    personalised_offers: ConsentState | None = None


class MemberPublic(BaseModel):
    id: str
    card_no: str
    name: str
    phone: str | None
    # True when phone, address and e-mail are masked for the caller's role.
    phone_masked: bool
    email: str | None
    gender: str
    community: str
    community_id: str | None
    address: str
    channel: str
    birthday: date | None
    home_store_id: str | None
    tier: str
    manager_id: str | None
    consents: ConsentsInForce
    erased: bool
    erased_at: datetime | None
    lifetime_spend: Decimal
    purchase_count: int
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None
    created_at: datetime


class PurchaseLinePublic(BaseModel):
    sku: str
    name: str
    category: str
    qty: Decimal
    unit_price: Decimal
    amount: Decimal


class PurchasePublic(BaseModel):
    store_id: str
    pos_txn_id: str
    occurred_at: datetime
    total: Decimal = Field(description="Before discounts: the sum of the lines")
    discount: Decimal = Field(description="Taken off the total by coupons and promotions; paid = total - discount")
    payment: str
    lines: list[PurchaseLinePublic]


class ReturnReceipt(BaseModel):
    """A return of the purchase it sits under, as the customer's e-receipt shows it."""

    store_id: str
    refund_id: str
    occurred_at: datetime
    amount: Decimal = Field(description="The returned lines' amounts, before the sale's discount")
    refunded: Decimal = Field(description="What the customer got back: the return's share of what was paid")
    lines: list[PurchaseLinePublic]


class PurchaseWithReturns(PurchasePublic):
    returns: list[ReturnReceipt] = Field(description="Returns of this purchase, oldest first")


class MemberOverview(BaseModel):
    """The profile and the latest purchases in one read, for the customer-360 view."""

    member: MemberPublic
    recent_purchases: list[PurchaseWithReturns] = Field(description="Newest first")


class MemberFound(MemberPublic):
    """A member a search found."""

    replaced_card: str | None = Field(default=None, description=(
        "The card searched for (`card_no`) when it is one replaced at the desk (lost or damaged) and "
        "this member is whom it was taken from: their card now is `card_no`, to hand over at the desk"))


class MemberPage(BaseModel):
    items: list[MemberFound]
    total: int
    limit: int
    offset: int
