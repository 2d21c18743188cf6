"""Rows of the gateway database: the stores it accepts POS traffic for, and the POS transactions
it has acknowledged (the idempotency record of every sale and return)."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.columns import MoneyColumn, UtcDateTime


class StoreRow(SQLModel, table=True):
    __tablename__ = "store"

    store_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    city: str = Field(default="", max_length=50)
    active: bool = True
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class PosSaleRow(SQLModel, table=True):
    __tablename__ = "pos_sale"
    __table_args__ = (UniqueConstraint("store_id", "pos_txn_id", name="uq_pos_sale_store_txn"),)

    id: int | None = Field(default=None, primary_key=True)
    store_id: str = Field(max_length=32)
    pos_txn_id: str = Field(max_length=64)
    event_id: str = Field(max_length=200)
    digest: str = Field(max_length=64)
    card_no: str | None = Field(default=None, max_length=32)
    phone_hmac: str | None = Field(default=None, max_length=64)
    total: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    refunded_total: Decimal = Field(default=Decimal("0.00"), sa_column=Column(MoneyColumn(), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    accepted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class PosRefundRow(SQLModel, table=True):
    __tablename__ = "pos_refund"
    __table_args__ = (UniqueConstraint("store_id", "refund_id", name="uq_pos_refund_store_refund"),)

    id: int | None = Field(default=None, primary_key=True)
    store_id: str = Field(max_length=32)
    refund_id: str = Field(max_length=64)
    pos_txn_id: str = Field(max_length=64)
    event_id: str = Field(max_length=200)
    digest: str = Field(max_length=64)
    amount: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    accepted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


TABLES = frozenset({"store", "pos_sale", "pos_refund"})
