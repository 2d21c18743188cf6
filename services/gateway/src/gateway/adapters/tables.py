"""Rows of the gateway database: the stores it accepts POS traffic for, the POS transactions
it has acknowledged (the idempotency record of every sale and return), and the client credentials
of tills and services with the audit trail of their changes."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.adapters.member_tables import MEMBER_SIGN_IN_TABLES
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


class IdentityClientRow(SQLModel, table=True):
    """A till or a service that may exchange its secret for tokens; revoked rows stay, so an id
    is never handed out twice and the audit trail keeps pointing at something."""

    __tablename__ = "identity_client"

    client_id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=16)
    store_id: str | None = Field(default=None, max_length=32, index=True)
    service: str | None = Field(default=None, max_length=32)
    label: str = Field(default="", max_length=100)
    # SHA-256 of the current secret (gateway.domain.identity); the secret itself is never stored.
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    rotated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class IdentityAuditRow(SQLModel, table=True):
    """Who changed which client credential, when, and how."""

    __tablename__ = "identity_audit"
    __table_args__ = (Index("ix_identity_audit_client_at", "client_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    actor: str = Field(max_length=200)
    actor_role: str = Field(max_length=32)
    action: str = Field(max_length=16)
    client_id: str = Field(max_length=40)
    detail: str = Field(default="", max_length=200)


TABLES = frozenset({"store", "pos_sale", "pos_refund", "identity_client", "identity_audit"}) | MEMBER_SIGN_IN_TABLES
