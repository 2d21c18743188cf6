"""Rows of the gateway database: the stores it accepts POS traffic for, the POS transactions
it has acknowledged (the idempotency record of every sale and return), and the client credentials
of tills and services and the accounts of staff, each with the audit trail of their changes, and
staff members' sessions (refresh token families)."""

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from gateway.adapters.console_tables import CONSOLE_TABLES
from gateway.adapters.member_tables import MEMBER_SIGN_IN_TABLES
from gateway.domain.audit_details import MAX_DETAIL_CHARS
from gateway.domain.pos import canonical_quantity
from shared.columns import MoneyColumn, UtcDateTime
from shared.events.contracts.pos import SoldSku


class StoreRow(SQLModel, table=True):
    __tablename__ = "store"

    store_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    city: str = Field(default="", max_length=50)
    active: bool = True
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class StoreAuditRow(SQLModel, table=True):
    """Who added, renamed, closed or reopened which store, when, and what it was before and after."""

    __tablename__ = "store_audit"
    __table_args__ = (Index("ix_store_audit_store_at", "store_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    actor: str = Field(max_length=200)
    actor_role: str = Field(max_length=32)
    action: str = Field(max_length=16)
    store_id: str = Field(max_length=32)
    detail: str = Field(default="", max_length=MAX_DETAIL_CHARS)


class PosSaleRow(SQLModel, table=True):
    __tablename__ = "pos_sale"
    __table_args__ = (UniqueConstraint("store_id", "pos_txn_id", name="uq_pos_sale_store_txn"),)

    id: int | None = Field(default=None, primary_key=True)
    store_id: str = Field(max_length=32)
    pos_txn_id: str = Field(max_length=64)
    event_id: str = Field(max_length=200)
    digest: str = Field(max_length=64)
    # The customer the till named, for the sale's returns; forgotten when the member is erased
    # (`member_sales_erased`).
    card_no: str | None = Field(default=None, max_length=32)
    phone_hmac: str | None = Field(default=None, max_length=64)
    total: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    refunded_total: Decimal = Field(default=Decimal("0.00"), sa_column=Column(MoneyColumn(), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    accepted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # What the sale sold and its returns took back so far, of each sku (`quantities_text`), so that
    # a return is held to the sale's lines. Text written with the sale's row rather than a row per
    # line: the group commit inserts every sale of a group in one statement, and stays at one.
    # NULL in `sold_by_sku` for a sale accepted before the gateway kept them (migration 0008):
    # its returns are checked by amount only. `returned_by_sku` is NULL until the first return.
    sold_by_sku: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    returned_by_sku: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    # The category and amount of each sku the sale sold (`sold_skus_text`), and what its returns
    # took back of each in money (`amounts_text`), so that a return line is held to the category the
    # sale recorded and to the pro-rata amount of what it takes back (`domain.pos.return_lines_problem`).
    # Written by the same INSERT. NULL in `sold_detail_by_sku` for a sale accepted before the gateway
    # kept them (migration 0011) and for an imported sale announced before `sales_imported` carried
    # them: their returns are checked by sku and quantity only. `returned_amount_by_sku` is NULL until the
    # first return of a sale that has them.
    sold_detail_by_sku: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    returned_amount_by_sku: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))


def quantities_text(by_sku: Mapping[str, Decimal]) -> str:
    """sku -> quantity as kept on `pos_sale`: a JSON object of decimal strings, never floats."""
    return json.dumps({sku: canonical_quantity(qty) for sku, qty in sorted(by_sku.items())},
                      ensure_ascii=False, separators=(",", ":"))


def quantities_of(text: str | None) -> dict[str, Decimal]:
    return {sku: Decimal(qty) for sku, qty in json.loads(text).items()} if text else {}


def sold_skus_text(by_sku: Mapping[str, SoldSku]) -> str:
    """sku -> category and amount as kept on `pos_sale.sold_detail_by_sku`: a JSON object of
    `{"amount": "79.80", "categories": ["grain"]}`, amounts as decimal strings, never floats."""
    return json.dumps({sku: {"amount": str(s.amount), "categories": list(s.categories)} for sku, s in sorted(by_sku.items())},
                      ensure_ascii=False, separators=(",", ":"))


def sold_skus_of(text: str) -> dict[str, SoldSku]:
    return {sku: SoldSku(tuple(s["categories"]), Decimal(s["amount"])) for sku, s in json.loads(text).items()}


def amounts_text(by_sku: Mapping[str, Decimal]) -> str:
    """sku -> money as kept on `pos_sale.returned_amount_by_sku`: decimal strings of cents."""
    return json.dumps({sku: str(amount) for sku, amount in sorted(by_sku.items())}, ensure_ascii=False, separators=(",", ":"))


def amounts_of(text: str | None) -> dict[str, Decimal]:
    return {sku: Decimal(amount) for sku, amount in json.loads(text).items()} if text else {}


class PosRefundRow(SQLModel, table=True):
    __tablename__ = "pos_refund"
    __table_args__ = (UniqueConstraint("store_id", "refund_id", name="uq_pos_refund_store_refund"),)

    id: int | None = Field(default=None, primary_key=True)
    store_id: str = Field(max_length=32)
    refund_id: str = Field(max_length=64)
    pos_txn_id: str = Field(max_length=64)
    # The sale's store when the goods came back at another store of the chain; empty, `store_id`.
    sale_store_id: str | None = Field(default=None, max_length=32)
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


class StaffAccountRow(SQLModel, table=True):
    """A person who logs in with a password. Deactivated rows stay: the audit trail keeps pointing
    at them, and a login name is not handed to someone else by accident."""

    __tablename__ = "staff_account"

    staff_id: str = Field(primary_key=True, max_length=20)
    login: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=24)
    store_id: str | None = Field(default=None, max_length=32, index=True)
    account_manager_id: str | None = Field(default=None, max_length=64)
    # argon2id in PHC form (gateway.adapters.passwords); the password itself is never stored.
    password_hash: str = Field(max_length=200)
    # The TOTP seed is needed in clear to check codes; it is only ever shown at enrolment.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enabled: bool = False
    # The time step of the last code accepted: a code is good once (gateway.domain.second_factor).
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger(), nullable=True))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    changed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    deactivated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # The Idempotency-Key of the creation and a digest of what it asked for (`service_layer.staff`):
    # a retry after a lost answer is recognised, a key sent again with another account refused.
    creation_key: str | None = Field(default=None, max_length=200, unique=True, index=True)
    creation_digest: str | None = Field(default=None, max_length=64)


class StaffAuditRow(SQLModel, table=True):
    """Who changed which staff account, when, and what (never a password or a seed)."""

    __tablename__ = "staff_audit"
    __table_args__ = (Index("ix_staff_audit_staff_at", "staff_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    actor: str = Field(max_length=200)
    actor_role: str = Field(max_length=32)
    action: str = Field(max_length=24)
    staff_id: str = Field(max_length=20)
    detail: str = Field(default="", max_length=MAX_DETAIL_CHARS)


class StaffSessionRow(SQLModel, table=True):
    """One login: the family its refresh tokens belong to; revoking it ends them all."""

    __tablename__ = "staff_session"

    family_id: str = Field(primary_key=True, max_length=32)
    staff_id: str = Field(max_length=20, index=True)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    revoked_because: str | None = Field(default=None, max_length=16)


class StaffRefreshTokenRow(SQLModel, table=True):
    """A refresh token of a family, by the SHA-256 of its value; `rotated_at` marks one swapped for
    its successor, whose reappearance is reuse; `superseded_at` one ended by a sibling's swap, not
    its own, whose reappearance is reuse at once."""

    __tablename__ = "staff_refresh_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    family_id: str = Field(max_length=32, index=True)
    issued_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    rotated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    superseded_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


TABLES = frozenset({
    "store", "store_audit", "pos_sale", "pos_refund", "identity_client", "identity_audit", "staff_account", "staff_audit",
    "staff_session", "staff_refresh_token",
}) | MEMBER_SIGN_IN_TABLES | CONSOLE_TABLES
