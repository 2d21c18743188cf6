"""Rows of the feedback database: complaints and their history, escalations, the member
projection, surveys and the comment book."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.columns import MoneyColumn, UtcDateTime


def tz(nullable: bool = False, index: bool = False) -> Column:
    return Column(UtcDateTime(), nullable=nullable, index=index)


class ComplaintRow(SQLModel, table=True):
    __tablename__ = "complaint"
    __table_args__ = (
        # A front end that retries a filing with the same Idempotency-Key gets the first complaint
        # (another filing under that key is refused: `request_hash`).
        UniqueConstraint("filed_by", "idempotency_key", name="uq_complaint_idempotency"),
        Index("ix_complaint_queue", "assignee", "next_due_at"),
        Index("ix_complaint_store_queue", "store_id", "next_due_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    member_id: str | None = Field(default=None, max_length=36, index=True)
    store_id: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    category: str = Field(max_length=32)
    severity: str = Field(max_length=8)
    # Emptied when the member is erased.
    description: str | None = Field(default=None, max_length=2000)
    sale_store_id: str | None = Field(default=None, max_length=32)
    sale_pos_txn_id: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=16, index=True)
    assignee: str = Field(max_length=80)
    # Routing follows member events only while nobody has assigned the complaint by hand.
    auto_assigned: bool = True
    # The staff id of who took it to work on (from a shared store queue, mostly); the queue stays
    # the assignee, so colleagues still see it. Cleared when it is handed to another assignee.
    handled_by: str | None = Field(default=None, max_length=64)
    escalated_to: str | None = Field(default=None, max_length=80, index=True)
    filed_by: str = Field(max_length=64)
    # Every filing carries one; None for complaints filed before a key was required.
    idempotency_key: str | None = Field(default=None, max_length=100)
    # SHA-256 of the filing made under `idempotency_key` (service_layer/complaints.py), to tell a
    # retry from another complaint sent under the same key. None for complaints filed before it was
    # kept, and once the member is erased (it is derived from the description).
    request_hash: str | None = Field(default=None, max_length=64)
    filed_at: datetime = Field(sa_column=tz())
    ack_due_at: datetime = Field(sa_column=tz())
    resolve_due_at: datetime = Field(sa_column=tz())
    next_due_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    acknowledged_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    resolved_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    reopen_count: int = 0
    resolution_note: str | None = Field(default=None, max_length=1000)
    compensation_points: int = 0
    coupon_value: Decimal | None = Field(default=None, sa_column=Column(MoneyColumn(), nullable=True))
    compensated_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=500)
    rated_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    updated_at: datetime = Field(sa_column=tz())
    erased_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))


class ComplaintHistoryRow(SQLModel, table=True):
    """Every transition, assignment, escalation and rating, with who did it and when."""

    __tablename__ = "complaint_history"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: str = Field(sa_column=Column(String(36), ForeignKey("complaint.id"), nullable=False, index=True))
    action: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    actor: str = Field(max_length=80)
    detail: str | None = Field(default=None, max_length=200)
    # What staff wrote on the step: a resolution's note, kept for each round (the complaint's
    # `resolution_note` is the latest round's only). Emptied when the member is erased.
    note: str | None = Field(default=None, max_length=1000)
    at: datetime = Field(sa_column=tz())


class EscalationRow(SQLModel, table=True):
    __tablename__ = "complaint_escalation"
    # Once per complaint, overdue step and resolution round (a reopened complaint gets a new round).
    __table_args__ = (UniqueConstraint("complaint_id", "step", "round", name="uq_escalation_once"),)

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: str = Field(sa_column=Column(String(36), ForeignKey("complaint.id"), nullable=False))
    step: str = Field(max_length=16)
    round: int
    due_at: datetime = Field(sa_column=tz())
    escalated_at: datetime = Field(sa_column=tz())
    escalated_to: str = Field(max_length=80)


class MemberProfileRow(SQLModel, table=True):
    """What feedback knows about a member, from members' events: enough to route complaints."""

    __tablename__ = "member_profile"

    member_id: str = Field(primary_key=True, max_length=36)
    tier: str = Field(default="member", max_length=16)
    # Indexed: a reassignment to a staff id asks whether any member has them as manager.
    manager_id: str | None = Field(default=None, max_length=64, index=True)
    home_store_id: str | None = Field(default=None, max_length=32)
    # When `home_store_id` was true (`shared.member_directory.move_home_stores`).
    home_store_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))
    updated_at: datetime = Field(sa_column=tz())
    erased_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))


class SurveyTemplateRow(SQLModel, table=True):
    """Templates are never edited once created, so answers always match the questions asked."""

    __tablename__ = "survey_template"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=100)
    dimensions: str = Field(max_length=200)  # comma-separated, from domain.surveys.DIMENSIONS
    ask_nps: bool = True
    ask_comment: bool = True
    is_default: bool = False
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=tz())


class SurveyInvitationRow(SQLModel, table=True):
    __tablename__ = "survey_invitation"
    __table_args__ = (Index("ix_invitation_store_month", "store_id", "month"),)

    id: str = Field(primary_key=True, max_length=36)
    template_id: str = Field(sa_column=Column(String(36), ForeignKey("survey_template.id"), nullable=False))
    source: str = Field(max_length=16)  # sale | complaint | staff
    # One invitation per sale or complaint, however often the event or request comes again.
    source_ref: str = Field(max_length=200, unique=True)
    member_id: str | None = Field(default=None, max_length=36, index=True)
    store_id: str = Field(max_length=32)
    month: str = Field(max_length=7)
    nonce: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=tz())
    expires_at: datetime = Field(sa_column=tz())
    answered_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))


class SurveyResponseRow(SQLModel, table=True):
    __tablename__ = "survey_response"

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: str = Field(
        sa_column=Column(String(36), ForeignKey("survey_invitation.id"), nullable=False, unique=True)
    )
    product_quality: int | None = None
    service: int | None = None
    price: int | None = None
    store_environment: int | None = None
    after_sales: int | None = None
    nps: int | None = None
    # Emptied when the member is erased.
    comment: str | None = Field(default=None, max_length=1000)
    answered_at: datetime = Field(sa_column=tz())


class CommentEntryRow(SQLModel, table=True):
    """A suggestion or praise from the store's comment book (意见簿)."""

    __tablename__ = "comment_book_entry"

    id: str = Field(primary_key=True, max_length=36)
    store_id: str = Field(max_length=32, index=True)
    kind: str = Field(max_length=16)
    text: str | None = Field(default=None, max_length=1000)
    member_id: str | None = Field(default=None, max_length=36, index=True)
    complaint_id: str | None = Field(default=None, sa_column=Column(String(36), ForeignKey("complaint.id"), nullable=True))
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_column=tz())
    linked_by: str | None = Field(default=None, max_length=64)
    linked_at: datetime | None = Field(default=None, sa_column=tz(nullable=True))


TABLES: frozenset[str] = frozenset({
    "complaint", "complaint_history", "complaint_escalation", "member_profile", "survey_template",
    "survey_invitation", "survey_response", "comment_book_entry",
})
