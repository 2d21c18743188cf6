"""Accounts, the ledger, what each sale earned, returns waiting for their sale, earning rules."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from shared.columns import MoneyColumn, UtcDateTime


def _points(default: int | None = None) -> Any:
    """A column of points that add up (a balance, an entry, a sale's or an expiry date's sum):
    BIGINT, since they may pass int4 on PostgreSQL (migration 0009)."""
    column = Column(BigInteger(), nullable=False)
    return Field(sa_column=column) if default is None else Field(default=default, sa_column=column)


class AccountRow(SQLModel, table=True):
    __tablename__ = "points_account"

    member_id: str = Field(primary_key=True, max_length=36)
    channel: str = Field(default="retail", max_length=16)
    # The points card number, so a till can preview a basket by the card it just swiped.
    card_no: str | None = Field(default=None, max_length=32, index=True)
    balance: int = _points(0)
    opened_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class LedgerRow(SQLModel, table=True):
    __tablename__ = "points_ledger"
    __table_args__ = (
        # The second line of defence against double booking, after dedupe by event id: one
        # entry of a kind per source (e.g. one earn per POS sale), whatever event carried it.
        UniqueConstraint("member_id", "entry_type", "source_ref", name="uq_ledger_source"),
        Index("ix_ledger_member_time", "member_id", "id"),
        # A store manager's manual bookings of the day are summed against their daily cap. Partial:
        # only entries a person caused are indexed, so booking sales (most rows) pays nothing for it.
        Index(
            "ix_ledger_staff_booked", "staff_id", "booked_at",
            postgresql_where=text("staff_id IS NOT NULL"), sqlite_where=text("staff_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(max_length=36)
    entry_type: str = Field(max_length=16)
    points: int = _points()
    balance_after: int = _points()
    reason: str = Field(max_length=200)
    source_ref: str = Field(max_length=200)
    source_event_id: str | None = Field(default=None, max_length=200)
    staff_id: str | None = Field(default=None, max_length=64)
    job_id: str | None = Field(default=None, max_length=64)
    # A reversal's: the sale's credit it takes back (`sale:<store>/<txn>`), for the expiry replay
    # (`domain.expiry`); NULL on every other entry and on reversals booked before migration 0013.
    reverses: str | None = Field(default=None, max_length=200)
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    booked_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class SaleEarningRow(SQLModel, table=True):
    """What one sale earned and how much of it has been returned: the base of every reversal."""

    __tablename__ = "sale_earning"

    sale_ref: str = Field(primary_key=True, max_length=100)  # store_id/pos_txn_id
    member_id: str = Field(max_length=36, index=True)
    sale_event_id: str = Field(max_length=200, unique=True)
    rule_version: int
    eligible_amount: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    points: int = _points()
    returned_eligible: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    reversed_points: int = _points(0)
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class PendingReturnRow(SQLModel, table=True):
    """A return whose sale has not been credited yet; applied when the sale's earn is booked."""

    __tablename__ = "pending_return"

    refund_ref: str = Field(primary_key=True, max_length=100)  # store_id/refund_id
    sale_event_id: str = Field(max_length=200, index=True)
    member_id: str = Field(max_length=36)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class EarningRuleRow(SQLModel, table=True):
    """One immutable version of the earning rules; who wrote it, when and why is its audit trail."""

    __tablename__ = "earning_rule"

    # An admin's retry (a form sent twice, a lost answer) under the same Idempotency-Key is answered
    # this version instead of adding an identical one: keys are per admin.
    __table_args__ = (UniqueConstraint("created_by", "idempotency_key", name="uq_earning_rule_key"),)

    version: int = Field(primary_key=True)
    effective_from: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    reason: str = Field(max_length=200)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_digest: str | None = Field(default=None, max_length=64)  # of the request the key was sent with


class ExpiryWarningRow(SQLModel, table=True):
    """One warning per member and expiry date, so a second job run does not warn again."""

    __tablename__ = "expiry_warning"

    member_id: str = Field(primary_key=True, max_length=36)
    expires_on: date = Field(primary_key=True)
    points: int = _points()
    warned_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class LiabilitySnapshotRow(SQLModel, table=True):
    """The points liability as the daily job found it (`service_layer.liability.take_snapshot`):
    the chain's figure (`store_id` empty) and each store's share, as the report's JSON gives them."""

    __tablename__ = "liability_snapshot"

    business_day: date = Field(primary_key=True)
    store_id: str = Field(primary_key=True, max_length=32)  # "": the chain's figure
    taken_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    figures: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
