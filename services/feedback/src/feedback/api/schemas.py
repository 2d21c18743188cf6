"""Bodies of the feedback API."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from feedback.domain.assignment import assignee_form
from shared.bodies import Body
from shared.events.contracts import ComplaintCategory, ComplaintChannel, Severity
from shared.feedback_input import ComplaintDescription, Dimension, RatingComment, ReopenReason, SurveyComment
from shared.identifiers import RecordId, StoreId, TxnId
from shared.integers import NpsScore, Points, Rating
from shared.money import PositiveMoney
from shared.strict import StrictBool
from shared.text import NonBlankText

# Clean text that says something, stored stripped (the shared rule): a complaint, a note or a
# comment of spaces, full-width spaces (U+3000) or zero-width characters alone is a 422 naming the field.
Text = NonBlankText


class SaleRef(Body):
    store_id: StoreId | None = Field(default=None, description="Defaults to the store the complaint concerns")
    pos_txn_id: TxnId


class ComplaintCreate(Body):
    member_id: RecordId | None = Field(
        default=None, description="Absent for an anonymous complaint; a member filing in the app is always themself")
    store_id: StoreId | None = Field(
        default=None, description="Defaults to the filing staff member's store, else to the store of the sale")
    channel: ComplaintChannel | None = Field(default=None, description="Defaults to app for members, service_desk for staff")
    category: ComplaintCategory
    severity: Severity
    description: ComplaintDescription
    sale: SaleRef | None = None


class HistoryEntry(BaseModel):
    action: str
    from_status: str | None
    to_status: str | None
    actor: str
    detail: str | None
    note: str | None = Field(
        default=None, description="A resolution's note, kept for each round (`resolution_note` is the latest); null once the member is erased")
    at: datetime


class EscalationPublic(BaseModel):
    step: str
    round: int
    due_at: datetime
    escalated_at: datetime
    escalated_to: str


class ComplaintSummary(BaseModel):
    id: str
    member_id: str | None
    store_id: str
    channel: str
    category: str
    severity: str
    status: str
    assignee: str
    handled_by: str | None = Field(description="Staff id of who took the complaint to work on it, if anyone has")
    escalated_to: str | None
    filed_at: datetime
    next_due_at: datetime | None
    overdue: bool
    resolved_at: datetime | None
    compensation_points: int
    coupon_value: Decimal | None
    rating: int | None


class InvitationStatus(BaseModel):
    """That a survey was sent, and what became of it: what staff may see."""

    id: str
    source: str
    store_id: str
    member_id: str | None
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None


class ComplaintPublic(ComplaintSummary):
    description: str | None
    sale_store_id: str | None
    sale_pos_txn_id: str | None
    filed_by: str
    ack_due_at: datetime
    resolve_due_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    resolution_note: str | None
    compensated_at: datetime | None
    rating_comment: str | None
    rated_at: datetime | None
    history: list[HistoryEntry]
    escalations: list[EscalationPublic]
    survey: InvitationStatus | None = Field(default=None, description="The satisfaction survey sent after resolution")
    survey_link: str | None = Field(
        default=None, description="Link of that survey while it can be answered; shown to the member themself only")
    member_erased: bool = Field(description="The complaint's member was erased: it is worked to its end if still open, and never reopened")


class CompensationIn(Body):
    points: Points = 0
    # A coupon is worth something: 0.00 would be recorded as no coupon and still promised to campaigns.
    coupon_value: PositiveMoney | None = Field(default=None, description="Left out for no coupon")


class ResolveIn(Body):
    note: Annotated[Text, StringConstraints(max_length=1000)]
    compensation: CompensationIn = Field(default_factory=CompensationIn)


class ReopenIn(Body):
    reason: ReopenReason


class AssignIn(Body):
    # Checked where it enters: a form no queue matches is a 422 naming the field and the forms.
    assignee: Annotated[str, StringConstraints(min_length=1, max_length=80), AfterValidator(assignee_form)] = Field(
        description="desk:<store_id> or store_manager:<store_id> of the complaint's store, or the staff id of an account manager")


class RatingIn(Body):
    score: Rating
    comment: RatingComment | None = None


class TemplateCreate(Body):
    name: Annotated[Text, StringConstraints(max_length=100)]
    dimensions: list[Dimension] = Field(min_length=1)
    # Only JSON true / false: "no" or 0 read as false would silently drop the NPS question from
    # every survey sent, or (is_default) change which template every new survey uses.
    ask_nps: StrictBool = True
    ask_comment: StrictBool = True
    is_default: StrictBool = False


class TemplatePublic(BaseModel):
    id: str
    name: str
    dimensions: list[str]
    ask_nps: bool
    ask_comment: bool
    is_default: bool
    created_at: datetime


class InvitationPublic(InvitationStatus):
    """The member's own view: with the link that answers it."""

    link: str


class SurveyForm(BaseModel):
    template: TemplatePublic
    store_id: str
    expires_at: datetime


class AnswerIn(Body):
    ratings: dict[Dimension, Rating] = Field(default_factory=dict)
    nps: NpsScore | None = None
    comment: SurveyComment | None = None


class CommentCreate(Body):
    store_id: StoreId | None = Field(default=None, description="Defaults to the recording staff member's store")
    kind: Literal["suggestion", "praise"]
    text: Annotated[Text, StringConstraints(max_length=1000)]
    member_id: RecordId | None = None
    complaint_id: RecordId | None = None


class CommentLinkIn(Body):
    complaint_id: RecordId


class CommentPublic(BaseModel):
    id: str
    store_id: str
    kind: str
    text: str | None
    member_id: str | None
    complaint_id: str | None
    recorded_by: str
    recorded_at: datetime
    linked_by: str | None
    linked_at: datetime | None
