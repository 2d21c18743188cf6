"""Service entitlements (free home visits) and bulk bonus jobs."""

from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.columns import UtcDateTime


class EntitlementRow(SQLModel, table=True):
    __tablename__ = "entitlement"

    member_id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(primary_key=True, max_length=64)
    granted: int = 0
    used: int = 0
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class EntitlementGrantRow(SQLModel, table=True):
    """Why the total was raised: one row per member, kind and source (a milestone)."""

    __tablename__ = "entitlement_grant"
    __table_args__ = (UniqueConstraint("member_id", "kind", "source_ref", name="uq_entitlement_grant"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(max_length=36)
    kind: str = Field(max_length=64)
    source_ref: str = Field(max_length=200)
    granted_total: int
    granted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class EntitlementUseRow(SQLModel, table=True):
    __tablename__ = "entitlement_use"
    # A key is its member's, as a redemption's: unique per member, not chain-wide.
    __table_args__ = (UniqueConstraint("member_id", "idempotency_key", name="uq_entitlement_use_member_key"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=64)
    used_on: date
    store_id: str = Field(max_length=32)
    staff_id: str = Field(max_length=64)
    idempotency_key: str | None = Field(default=None, max_length=200)
    booked_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class BulkBonusJobRow(SQLModel, table=True):
    __tablename__ = "bulk_bonus_job"

    job_id: str = Field(primary_key=True, max_length=36)
    idempotency_key: str = Field(max_length=200, unique=True)
    request_hash: str = Field(max_length=64)
    points: int
    reason: str = Field(max_length=200)
    status: str = Field(max_length=16)  # pending, running, done
    total: int
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    member_ids: list[str] = Field(sa_column=Column(JSON, nullable=False))


class BulkBonusItemRow(SQLModel, table=True):
    """The result for one member of a bulk bonus; written in the transaction that books it."""

    __tablename__ = "bulk_bonus_item"

    job_id: str = Field(primary_key=True, max_length=36)
    member_id: str = Field(primary_key=True, max_length=36)
    outcome: str = Field(max_length=16)  # booked, skipped
    detail: str = Field(max_length=200)
    processed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
