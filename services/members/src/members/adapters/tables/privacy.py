"""Rows of the privacy area: who read which member's personal data, and erasures carried out."""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from members.adapters.tables.core import tz


class AccessLogRow(SQLModel, table=True):
    """One read of a member's personal data in clear. It holds ids and field names only, never
    the data itself, so it survives the member's erasure as the record of who saw what."""

    __tablename__ = "privacy_access_log"
    __table_args__ = (
        Index("ix_access_log_member_at", "member_id", "at"),
        Index("ix_access_log_actor_at", "actor", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(max_length=64)
    role: str = Field(max_length=24)
    member_id: str = Field(max_length=36)
    fields: str = Field(max_length=100, description="Comma-separated, e.g. phone,address,email")
    purpose: str = Field(max_length=64, description="What the data was read for: the route or job")
    at: datetime = Field(sa_column=tz(index=True))


class ErasureRow(SQLModel, table=True):
    """An erasure carried out; the primary key makes a member erasable once."""

    __tablename__ = "privacy_erasure"

    member_id: str = Field(primary_key=True, max_length=36)
    requested_by: str = Field(max_length=64)
    role: str = Field(max_length=24)
    erased_at: datetime = Field(sa_column=tz())


TABLES = frozenset({"privacy_access_log", "privacy_erasure"})
