"""Rows of the staff area: the staff directory, community coverage, spend milestones reached,
VIP welcomes sent, tier reviews held, and account managers' tracking records."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.columns import MoneyColumn, UtcDateTime


class StaffRow(SQLModel, table=True):
    """One member of staff; `id` is the subject of their bearer token, so a manager's token and
    their customers' `MemberRow.manager_id` name the same person."""

    __tablename__ = "staff"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=50)
    work_phone: str = Field(max_length=20)
    store_id: str = Field(max_length=32, index=True)
    role: str = Field(max_length=24)
    active: bool = True
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class CoverageRow(SQLModel, table=True):
    """An account manager covers a community; a community may have several managers."""

    __tablename__ = "manager_coverage"
    __table_args__ = (UniqueConstraint("manager_id", "community_id", name="uq_coverage_manager_community"),)

    id: int | None = Field(default=None, primary_key=True)
    manager_id: str = Field(max_length=64)
    community_id: str = Field(max_length=36, index=True)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class MilestoneRow(SQLModel, table=True):
    """A spend milestone a member has reached; the unique key makes the announcement happen once."""

    __tablename__ = "spend_milestone"
    __table_args__ = (UniqueConstraint("member_id", "milestone", name="uq_milestone_member"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(max_length=36, index=True)
    milestone: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    lifetime_spend: Decimal = Field(sa_column=Column(MoneyColumn(), nullable=False))
    reached_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class VipWelcomeRow(SQLModel, table=True):
    """The welcome SMS asked for a VIP's promotion (one per promotion): a VIP who loses their
    manager and gets another later is not welcomed again."""

    __tablename__ = "vip_welcome"
    __table_args__ = (UniqueConstraint("member_id", "promoted_at", name="uq_vip_welcome_promotion"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: str = Field(max_length=36)
    promoted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    manager_id: str = Field(max_length=64)
    requested_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class TierReviewRow(SQLModel, table=True):
    """A tier review that has been held; a review date is held once, however often the job runs."""

    __tablename__ = "tier_review"

    review_date: date = Field(primary_key=True)
    held_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    demoted: int = 0


class TrackingRecordRow(SQLModel, table=True):
    """One line of an account manager's daily tracking feedback form (跟踪反馈表)."""

    __tablename__ = "tracking_record"
    __table_args__ = (
        Index("ix_tracking_store_day", "store_id", "tracked_on"),
        Index("ix_tracking_manager_day", "manager_id", "tracked_on"),
        # A form sent twice (a double click, a retry after a timeout) is one line of the report.
        UniqueConstraint("manager_id", "idempotency_key", name="uq_tracking_record_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tracked_on: date
    manager_id: str = Field(max_length=64)
    store_id: str = Field(max_length=32)
    member_id: str = Field(max_length=36, index=True)
    community_id: str | None = Field(default=None, max_length=36)
    contact: str = Field(max_length=50)
    method: str = Field(max_length=16)
    rating: int
    notes: str = Field(default="", max_length=500)
    # The day the manager plans to contact the customer again (the customer is due from then); the
    # plan of the manager's latest contact with the customer is the one in force.
    next_follow_up_on: date | None = None
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # Every line carries one; None for lines recorded before a key was required.
    idempotency_key: str | None = Field(default=None, max_length=100)


TABLES = frozenset({"staff", "manager_coverage", "spend_milestone", "vip_welcome", "tier_review", "tracking_record"})
