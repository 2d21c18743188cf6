"""Request and response bodies of the members API (SQLModel-style Create / Public families)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, field_validator

from shared.cards import CardNumber
from shared.phones import Phone
from shared.text import Text


# The profile rules of a registration and of an edit, written once for both models.
def stripped_not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


def not_in_future(value: date | None) -> date | None:
    if value is not None and value > date.today():
        raise ValueError("birthday is in the future")
    return value


class Consents(BaseModel):
    """Consents given at registration, each answered or left unanswered."""

    sms: bool | None = Field(default=None, description="Marketing messages by SMS (营销短信): marketing_sms")
    email: bool | None = Field(default=None, description="Marketing messages by e-mail: marketing_email")
    service_tips_sms: bool | None = Field(default=None, description="Service tips by SMS (服务提示短信)")

    def by_purpose(self) -> dict[str, bool]:
        """Only what the customer actually answered is recorded; silence is not a refusal."""
        answers = {"marketing_sms": self.sms, "marketing_email": self.email, "service_tips_sms": self.service_tips_sms}
        return {purpose: granted for purpose, granted in answers.items() if granted is not None}


class ConsentState(BaseModel):
    granted: bool
    at: datetime
    channel: str


class ConsentsInForce(BaseModel):
    """The latest answer per purpose; a purpose never answered is null (no consent)."""

    marketing_sms: ConsentState | None = None
    marketing_email: ConsentState | None = None
    service_tips_sms: ConsentState | None = None


class MemberCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=50)
    phone: Phone = Field(description="Mainland China mobile number, 11 digits")
    email: EmailStr | None = None
    gender: Literal["female", "male", "unspecified"] = "unspecified"
    community: Text = Field(min_length=1, max_length=100, description="Residential community (小区)")
    address: Text = Field(min_length=1, max_length=200)
    channel: Literal["retail", "partner"] = "retail"
    birthday: date | None = None
    card_no: CardNumber | None = None
    home_store_id: Text | None = Field(default=None, max_length=32)
    consents: Consents = Consents()

    _strip = field_validator("name", "community", "address")(stripped_not_blank)
    _not_in_future = field_validator("birthday")(not_in_future)


class MemberUpdate(BaseModel):
    """A profile edit: only the fields sent change. E-mail and birthday may be cleared with null."""

    name: Text | None = Field(default=None, min_length=1, max_length=50)
    phone: Phone | None = Field(default=None, description="Mainland China mobile number")
    email: EmailStr | None = None
    gender: Literal["female", "male", "unspecified"] | None = None
    birthday: date | None = None
    community: Text | None = Field(default=None, min_length=1, max_length=100)
    address: Text | None = Field(default=None, min_length=1, max_length=200)
    channel: Literal["retail", "partner"] | None = None
    home_store_id: Text | None = Field(default=None, max_length=32)

    @field_validator("name", "phone", "gender", "community", "address", "channel", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value

    _strip = field_validator("name", "community", "address")(stripped_not_blank)
    _not_in_future = field_validator("birthday")(not_in_future)


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


class MemberPage(BaseModel):
    items: list[MemberPublic]
    total: int
    limit: int
    offset: int
