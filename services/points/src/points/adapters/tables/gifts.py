"""Gift catalogue, stock per store, and the gift register (赠品发放登记)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.columns import UtcDateTime


class GiftRow(SQLModel, table=True):
    __tablename__ = "gift"

    gift_id: str = Field(primary_key=True, max_length=64)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(max_length=100)
    # "gift" (stock per store, handed over at the desk) or "coupon" (a campaigns coupon template).
    kind: str = Field(default="gift", max_length=16, sa_column_kwargs={"server_default": "gift"})
    coupon_template_id: str | None = Field(default=None, max_length=64)
    active_from: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    active_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class GiftPriceRow(SQLModel, table=True):
    __tablename__ = "gift_price"

    gift_id: str = Field(primary_key=True, max_length=64, foreign_key="gift.gift_id")
    channel: str = Field(primary_key=True, max_length=16)
    points: int


class GiftStockRow(SQLModel, table=True):
    __tablename__ = "gift_stock"
    # The database refuses a negative stock even if a code path forgot the guarded update.
    __table_args__ = (CheckConstraint("quantity >= 0", name="ck_gift_stock_not_negative"),)

    gift_id: str = Field(primary_key=True, max_length=64, foreign_key="gift.gift_id")
    store_id: str = Field(primary_key=True, max_length=32)
    quantity: int = 0
    # Open reservations beyond the last count: units promised that are not on the shelf. A
    # cancellation of one of those frees no unit (it takes one off here instead), so a count below
    # the reservations never lets the unit be promised again. Reset by the next count.
    shortfall: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class RedemptionRow(SQLModel, table=True):
    """One line of the gift register: reserved at redemption, then handed over or cancelled; a
    coupon's line is completed at once."""

    __tablename__ = "gift_redemption"
    # A key is its member's (an app chooses its own keys): unique per member, not chain-wide.
    __table_args__ = (
        Index("ix_redemption_store_time", "store_id", "redeemed_at"),
        UniqueConstraint("member_id", "idempotency_key", name="uq_redemption_member_key"),
    )

    redemption_id: str = Field(primary_key=True, max_length=36)
    idempotency_key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    member_id: str = Field(max_length=36, index=True)
    gift_id: str = Field(max_length=64)
    # Copied from the catalogue at redemption: the entry keeps what was bought if the item changes.
    kind: str = Field(default="gift", max_length=16, sa_column_kwargs={"server_default": "gift"})
    coupon_template_id: str | None = Field(default=None, max_length=64)
    store_id: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    points: int
    status: str = Field(max_length=16)
    staff_id: str = Field(max_length=64)
    redeemed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    handed_over_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    handed_over_by: str | None = Field(default=None, max_length=64)
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    cancelled_by: str | None = Field(default=None, max_length=64)
    cancel_reason: str | None = Field(default=None, max_length=200)


class GiftChangeRow(SQLModel, table=True):
    """Who changed a gift (its prices, names, dates) or a store's stock count of it, when, and from
    what to what: the catalogue's audit trail. A price is what a member pays in points, a count
    what the register is checked against; both were overwritten in place with no trace of who."""

    __tablename__ = "gift_change"
    __table_args__ = (Index("ix_gift_change_gift", "gift_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    gift_id: str = Field(max_length=64)
    store_id: str | None = Field(default=None, max_length=32)  # a stock count's store; None for the gift itself
    change: str = Field(max_length=16)  # "gift" or "stock"
    staff_id: str = Field(max_length=64)
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # None: new
    after: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
