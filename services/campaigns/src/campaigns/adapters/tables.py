"""Rows of the campaigns database, a block per feature; the messaging tables (outbox, processed
events) come from shared.migrations."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared.columns import MoneyColumn, UtcDateTime

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
    # Registration (channel and home store also move with attributes)
    registered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    channel: str | None = Field(default=None, max_length=16)
    home_store_id: str | None = Field(default=None, max_length=32)
    community_id: str | None = Field(default=None, max_length=36)
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
    # and returns. `last_purchase_at` also learns from attributes (as_of - days since the last
    # purchase) for customers whose older purchases campaigns never saw.
    last_purchase_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    lifetime_spend: Decimal = Field(default=Decimal("0.00"), sa_column=Column(MoneyColumn(), nullable=False))
    # Marketing consent per channel; None: never answered (counts as no)
    consent_sms: bool | None = None
    consent_sms_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    consent_email: bool | None = None
    consent_email_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
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

TABLES: frozenset[str] = AUDIENCE_TABLES
