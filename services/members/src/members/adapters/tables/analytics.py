"""Rows of the value-analytics area: each member's value snapshot, the runs, and their complaints.

`MemberValueRow.churn_risk` is the risk staff and campaigns act on (the rhythm risk, raised by a
recent complaint); other areas read it by `member_id`. A member without a row has not been through
an analytics run yet: treat the risk as "unknown".
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, Float, Index
from sqlmodel import Field, SQLModel

from members.adapters.tables.core import money, tz


class MemberValueRow(SQLModel, table=True):
    """The latest value snapshot of one member. Every `value-analytics` run refreshes `as_of` and
    `days_since_last_purchase` and rewrites the rest only where it changed."""

    __tablename__ = "member_value"
    __table_args__ = (
        Index("ix_member_value_class_spend", "value_class", "window_spend"),
        Index("ix_member_value_churn", "churn_risk", "window_spend"),
    )

    member_id: str = Field(primary_key=True, max_length=36)
    as_of: datetime = Field(sa_column=tz())
    window_days: int
    recency: int = 0  # RFM scores 1-5; 0 when the member bought nothing in the window
    frequency: int = 0
    monetary: int = 0
    value_class: str = Field(default="none", max_length=16)  # key / secondary / ordinary / none
    # The risk read from the buying rhythm alone, and the one in force (raised by a recent complaint).
    rhythm_churn_risk: str = Field(default="unknown", max_length=16)
    churn_risk: str = Field(default="unknown", max_length=16)
    window_spend: Decimal = Field(default=Decimal("0.00"), sa_column=money())
    window_purchase_days: int = 0
    last_purchase_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    # The chain-local day of the last purchase as a day number (`date.toordinal()`), so a run can
    # refresh every member's `days_since_last_purchase` with one portable UPDATE.
    last_purchase_day: int | None = None
    days_since_last_purchase: int | None = None
    # Days, not money: a float is exact enough and keeps the column portable.
    typical_interval_days: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    rhythm_source: str = Field(default="none", max_length=16)  # own / population / none
    # What was last published as crm.members.member_attributes.v1: a digest of the segment
    # attributes and a per-member counter that the derived event ids are made from.
    attributes_digest: str = Field(default="", max_length=64)
    attributes_version: int = 0
    published_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))


class ValueAnalyticsRunRow(SQLModel, table=True):
    """One run of the job with its summary (80/20 boundaries, top-20% share, counts)."""

    __tablename__ = "value_analytics_run"

    id: int | None = Field(default=None, primary_key=True)
    as_of: datetime = Field(sa_column=tz(index=True))
    window_days: int
    members_total: int
    published: int
    summary: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # What the run read and left, with its clock and settings (`service_layer.analytics_inputs`):
    # a rerun finding the same key reuses this run's results. None on SQLite.
    inputs_key: str | None = Field(default=None, max_length=64)


class MemberComplaintRow(SQLModel, table=True):
    """One complaint of a member as feedback announced it; the complaint id makes it count once
    however often (and in whatever order) its events arrive."""

    __tablename__ = "member_complaint"
    __table_args__ = (Index("ix_member_complaint_member_filed", "member_id", "filed_at"),)

    complaint_id: str = Field(primary_key=True, max_length=64)
    member_id: str = Field(max_length=36)
    store_id: str = Field(max_length=32)
    category: str = Field(max_length=32)
    severity: str = Field(max_length=16)
    channel: str | None = Field(default=None, max_length=16)
    # Empty while only the resolution is known (it overtook the filing on the way here).
    filed_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    resolved_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))


TABLES = frozenset({"member_value", "value_analytics_run", "member_complaint"})
