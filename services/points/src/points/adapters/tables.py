"""Rows of the points database."""

from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.columns import UtcDateTime


class AccountRow(SQLModel, table=True):
    __tablename__ = "points_account"

    member_id: str = Field(primary_key=True, max_length=36)
    channel: str = Field(default="retail", max_length=16)
    balance: int = 0
    opened_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class LedgerRow(SQLModel, table=True):
    __tablename__ = "points_ledger"
    __table_args__ = (
        # The second line of defence against double crediting, after dedupe by event id: one
        # entry of a kind per source (e.g. one earn per POS sale), whatever event carried it.
        UniqueConstraint("member_id", "entry_type", "source_ref", name="uq_ledger_source"),
        Index("ix_ledger_member_time", "member_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(max_length=36)
    entry_type: str = Field(max_length=16)
    points: int
    balance_after: int
    reason: str = Field(max_length=200)
    source_ref: str = Field(max_length=200)
    source_event_id: str | None = Field(default=None, max_length=200)
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    booked_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


TABLES = frozenset({"points_account", "points_ledger"})
