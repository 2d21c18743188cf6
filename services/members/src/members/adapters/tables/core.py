"""Rows of the members database."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.columns import Money, Qty, UtcDateTime


def _tz(nullable: bool = False, index: bool = False) -> Column:
    return Column(UtcDateTime(), nullable=nullable, index=index)


class MemberRow(SQLModel, table=True):
    __tablename__ = "member"

    id: str = Field(primary_key=True, max_length=36)
    card_no: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=50)
    phone: str = Field(max_length=11, unique=True)
    phone_hmac: str = Field(max_length=64, index=True)
    community: str = Field(max_length=100, index=True)
    address: str = Field(max_length=200)
    channel: str = Field(max_length=16)
    birthday: date | None = None
    home_store_id: str | None = Field(default=None, max_length=32)
    consent_sms: bool = False
    consent_sms_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    lifetime_spend: Decimal = Field(default=Decimal("0.00"), sa_column=Column(Money(), nullable=False))
    purchase_count: int = 0
    first_purchase_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    last_purchase_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    created_at: datetime = Field(sa_column=_tz())


class PurchaseRow(SQLModel, table=True):
    """A POS sale as members saw it; `member_id` stays empty until the card or phone is known."""

    __tablename__ = "purchase"
    __table_args__ = (
        UniqueConstraint("store_id", "pos_txn_id", name="uq_purchase_store_txn"),
        Index("ix_purchase_member_time", "member_id", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sale_event_id: str = Field(max_length=200)
    store_id: str = Field(max_length=32)
    pos_txn_id: str = Field(max_length=64)
    member_id: str | None = Field(default=None, max_length=36)
    card_no: str | None = Field(default=None, max_length=32, index=True)
    phone_hmac: str | None = Field(default=None, max_length=64, index=True)
    occurred_at: datetime = Field(sa_column=_tz())
    total: Decimal = Field(sa_column=Column(Money(), nullable=False))
    payment: str = Field(default="", max_length=32)
    received_at: datetime = Field(sa_column=_tz())
    attributed_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))


class PurchaseLineRow(SQLModel, table=True):
    __tablename__ = "purchase_line"

    id: int | None = Field(default=None, primary_key=True)
    purchase_id: int = Field(sa_column=Column(ForeignKey("purchase.id", ondelete="CASCADE"), nullable=False, index=True))
    line_no: int
    sku: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=64)
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    unit_price: Decimal = Field(sa_column=Column(Money(), nullable=False))
    amount: Decimal = Field(sa_column=Column(Money(), nullable=False))


TABLES = frozenset({"member", "purchase", "purchase_line"})
