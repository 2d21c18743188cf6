"""Rows of members' sign-in at the gateway: the one current SMS code per phone, the refresh tokens
issued, and the members erased, whose tokens the gateway refuses and to whom it issues none."""

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from shared.columns import UtcDateTime


class MemberSignInCodeRow(SQLModel, table=True):
    """A phone's current code (gateway.domain.member_codes): keyed by the phone's digest, so the
    number itself is never stored; a new code for the phone replaces the row."""

    __tablename__ = "member_sign_in_code"

    phone_digest: str = Field(primary_key=True, max_length=64)
    code_digest: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    tries_left: int
    used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class MemberRefreshTokenRow(SQLModel, table=True):
    """A refresh token (gateway.domain.member_refresh), kept as its digest; used ones stay until
    they expire, so that presenting one again is recognised as reuse."""

    __tablename__ = "member_refresh_token"
    __table_args__ = (Index("ix_member_refresh_token_family", "family_id"),
                      Index("ix_member_refresh_token_member", "member_id"))

    token_digest: str = Field(primary_key=True, max_length=64)
    family_id: str = Field(max_length=36)
    member_id: str = Field(max_length=36)
    issued_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # Revoked because a retry took the answer it came in for lost: presented again, it is reuse.
    superseded_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class RevokedMemberRow(SQLModel, table=True):
    """A member erased (members' `member_erased`): their tokens are refused from then on."""

    __tablename__ = "revoked_member"

    member_id: str = Field(primary_key=True, max_length=36)
    erased_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


MEMBER_SIGN_IN_TABLES = frozenset({"member_sign_in_code", "member_refresh_token", "revoked_member"})
