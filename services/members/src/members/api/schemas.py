"""Request and response bodies of the members API (SQLModel-style Create / Public families)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_validator

PHONE_PATTERN = r"^1[3-9]\d{9}$"


class Consents(BaseModel):
    sms: bool = Field(default=False, description="Marketing and service tips by SMS")


class MemberCreate(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(pattern=PHONE_PATTERN, description="Mainland China mobile number, 11 digits")
    community: str = Field(min_length=1, max_length=100, description="Residential community (小区)")
    address: str = Field(min_length=1, max_length=200)
    channel: Literal["retail", "partner"] = "retail"
    birthday: date | None = None
    card_no: str | None = Field(default=None, pattern=r"^[0-9A-Za-z]{4,32}$")
    home_store_id: str | None = Field(default=None, max_length=32)
    consents: Consents = Consents()

    @field_validator("name", "community", "address")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("birthday")
    @classmethod
    def _not_in_future(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError("birthday is in the future")
        return value


class MemberPublic(BaseModel):
    id: str
    card_no: str
    name: str
    phone: str
    phone_masked: bool
    community: str
    address: str
    channel: str
    birthday: date | None
    home_store_id: str | None
    consents: Consents
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
    total: Decimal
    payment: str
    lines: list[PurchaseLinePublic]


class MemberPage(BaseModel):
    items: list[MemberPublic]
    total: int
    limit: int
    offset: int
