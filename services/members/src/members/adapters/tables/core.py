"""Core rows of the members database: members, communities and households, sales and returns."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.columns import MoneyColumn, Qty, UtcDateTime


def tz(nullable: bool = False, index: bool = False) -> Column:
    return Column(UtcDateTime(), nullable=nullable, index=index)


def money(nullable: bool = False) -> Column:
    return Column(MoneyColumn(), nullable=nullable)


class MemberRow(SQLModel, table=True):
    """One customer. After erasure the row stays (id, spend totals, community) so that analytics
    totals remain correct, but every personal field is emptied and `erased_at` is set."""

    __tablename__ = "member"

    id: str = Field(primary_key=True, max_length=36)
    card_no: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=50)
    # Nullable only so that erasure can remove them; the API requires a phone at registration.
    phone: str | None = Field(default=None, max_length=11, unique=True)
    phone_hmac: str | None = Field(default=None, max_length=64, index=True)
    email: str | None = Field(default=None, max_length=254)
    gender: str = Field(default="unspecified", max_length=16)
    birthday: date | None = None
    # The community as the customer said it, and the community entity it resolved to.
    community: str = Field(max_length=100)
    community_id: str | None = Field(default=None, max_length=36, index=True)
    household_id: str | None = Field(default=None, max_length=36, index=True)
    address: str = Field(max_length=200)
    channel: str = Field(max_length=16)
    home_store_id: str | None = Field(default=None, max_length=32, index=True)
    lifetime_spend: Decimal = Field(default=Decimal("0.00"), sa_column=money())
    purchase_count: int = 0
    first_purchase_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    last_purchase_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    tier: str = Field(default="member", max_length=16, index=True)
    tier_since: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    # The tier was reached through sales loaded by `crm import-sales`: the old system welcomed
    # this VIP, so a manager assigned now or later does not welcome them again.
    tier_imported: bool = False
    manager_id: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime = Field(sa_column=tz())
    erased_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))


class ConsentRow(SQLModel, table=True):
    """Append-only consent history; the latest row per member and purpose is in force."""

    __tablename__ = "member_consent"
    __table_args__ = (Index("ix_consent_member_purpose", "member_id", "purpose", "changed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(max_length=36)
    purpose: str = Field(max_length=32)
    granted: bool
    channel: str = Field(max_length=16)
    recorded_by: str = Field(max_length=64)
    changed_at: datetime = Field(sa_column=tz())


class CommunityRow(SQLModel, table=True):
    """A residential community (小区); customers name it in many ways, see `CommunityAliasRow`."""

    __tablename__ = "community"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=100)
    created_at: datetime = Field(sa_column=tz())


class CommunityAliasRow(SQLModel, table=True):
    __tablename__ = "community_alias"

    alias_key: str = Field(primary_key=True, max_length=100)
    alias: str = Field(max_length=100)
    community_id: str = Field(max_length=36, index=True)


class HouseholdRow(SQLModel, table=True):
    """One address inside a community; several members (family) may share it."""

    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("community_id", "address_key", name="uq_household_address"),)

    id: str = Field(primary_key=True, max_length=36)
    community_id: str = Field(max_length=36)
    address_key: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=tz())


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
    occurred_at: datetime = Field(sa_column=tz())
    total: Decimal = Field(sa_column=money())  # before discounts: the sum of the lines
    # Taken off `total` by coupons and promotions: the customer paid total - discount.
    discount: Decimal = Field(default=Decimal("0.00"), sa_column=money())
    returned: Decimal = Field(default=Decimal("0.00"), sa_column=money())  # of `total`, line amounts
    # What of the paid amount the returns so far gave back (domain.spend.paid_part).
    returned_paid: Decimal = Field(default=Decimal("0.00"), sa_column=money())
    payment: str = Field(default="", max_length=32)
    received_at: datetime = Field(sa_column=tz())
    attributed_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))


class PurchaseLineRow(SQLModel, table=True):
    __tablename__ = "purchase_line"

    id: int | None = Field(default=None, primary_key=True)
    purchase_id: int = Field(sa_column=Column(ForeignKey("purchase.id", ondelete="CASCADE"), nullable=False, index=True))
    line_no: int
    sku: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=64)
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    unit_price: Decimal = Field(sa_column=money())
    amount: Decimal = Field(sa_column=money())


class ReturnRow(SQLModel, table=True):
    """A POS return. It may arrive before its sale (they travel on different partitions when the
    return names no customer); `purchase_id` is empty until the sale is known, `applied_at` is set
    once it has counted against the member's spend."""

    __tablename__ = "purchase_return"
    __table_args__ = (UniqueConstraint("store_id", "refund_id", name="uq_return_store_refund"),)

    id: int | None = Field(default=None, primary_key=True)
    refund_event_id: str = Field(max_length=200)
    store_id: str = Field(max_length=32)
    refund_id: str = Field(max_length=64)
    pos_txn_id: str = Field(max_length=64, index=True)
    purchase_id: int | None = Field(default=None, index=True)
    member_id: str | None = Field(default=None, max_length=36, index=True)
    occurred_at: datetime = Field(sa_column=tz())
    amount: Decimal = Field(sa_column=money())  # the returned lines' amounts, before the sale's discount
    # What the customer gets back and spend loses: the return's share of what was paid for the
    # sale. Known once the sale is (set when the return is linked to it).
    paid: Decimal = Field(default=Decimal("0.00"), sa_column=money())
    received_at: datetime = Field(sa_column=tz())
    applied_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    # The store of the sale when the goods came back at another store of the chain; empty, the
    # sale is this return's own store's (`store_id`), as for every return before the field existed.
    sale_store_id: str | None = Field(default=None, max_length=32)


class ReturnLineRow(SQLModel, table=True):
    __tablename__ = "purchase_return_line"

    id: int | None = Field(default=None, primary_key=True)
    return_id: int = Field(sa_column=Column(ForeignKey("purchase_return.id", ondelete="CASCADE"), nullable=False, index=True))
    line_no: int
    sku: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=64)
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    unit_price: Decimal = Field(sa_column=money())
    amount: Decimal = Field(sa_column=money())


class RegistrationRequestRow(SQLModel, table=True):
    """A registration sent with an Idempotency-Key: a retry of the same request (e.g. after the
    gateway gave up waiting) returns the member it created, the key reused for another request
    is a conflict. Written in the registration's own transaction."""

    __tablename__ = "registration_request"

    idempotency_key: str = Field(primary_key=True, max_length=200)
    digest: str = Field(max_length=64)
    member_id: str = Field(max_length=36)
    created_at: datetime = Field(sa_column=tz())


class BirthdayNoticeRow(SQLModel, table=True):
    """A birthday announced (`birthday_upcoming`): the key makes it once per member and birthday
    year however often the job runs, on however many replicas; outbox rows are purged after a
    while, so they cannot be what remembers it."""

    __tablename__ = "birthday_notice"

    member_id: str = Field(primary_key=True, max_length=36)
    occasion_year: int = Field(primary_key=True)
    published_at: datetime = Field(sa_column=tz())


class RetiredCardRow(SQLModel, table=True):
    """A card number that matches nobody any more and is never issued again: a card reported lost
    or damaged (its member has another), or the card of a member whose data was erased. Issued
    again, a sale on the old card (someone still carrying it) would become the new holder's."""

    __tablename__ = "retired_card"

    card_no: str = Field(primary_key=True, max_length=32)
    # The member it was taken from, so that a replacement sent again is told apart from a card
    # that was never theirs; none for an erased member's card, which must not lead back to them.
    member_id: str | None = Field(default=None, max_length=36, index=True)
    reason: str = Field(max_length=16)
    retired_by: str = Field(max_length=64)
    retired_at: datetime = Field(sa_column=tz())


TABLES = frozenset({
    "member", "member_consent", "community", "community_alias", "household",
    "purchase", "purchase_line", "purchase_return", "purchase_return_line", "registration_request",
    "birthday_notice", "retired_card",
})
