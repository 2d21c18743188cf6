"""Rows of the campaigns database, each feature in its own block; `TABLES` lists what the
migrations own (besides the messaging tables every service has)."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from shared.columns import MoneyColumn, UtcDateTime
from shared.member_directory import TABLE as MEMBER_DIRECTORY
from shared.member_directory import MemberDirectoryRow  # noqa: F401  (registers the table)

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
    # The counters this coupon's use was added to (given back on release or a returning refund):
    # the store and the member's period at the time, which may differ from the sale's own later.
    counted_store_id: str | None = Field(default=None, max_length=32)
    counted_period: int | None = None
    counted_member_id: str | None = Field(default=None, max_length=36)
    refund_id: str | None = Field(default=None, max_length=64)
    reversed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class CouponCounterRow(SQLModel, table=True):
    """One budget or cap being counted (key: what and whose, see service_layer/coupons.py)."""

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


class MemberCardRow(SQLModel, table=True):
    """A till's card number -> the member, from members' registrations; removed on erasure."""

    __tablename__ = "member_card"

    card_no: str = Field(primary_key=True, max_length=32)
    member_id: str = Field(max_length=36, index=True)


COUPON_TABLES = frozenset({
    "coupon_template", "coupon", "coupon_counter", "coupon_rejection", "member_card", MEMBER_DIRECTORY,
})

# --- end of coupons

TABLES: frozenset[str] = frozenset() | COUPON_TABLES
