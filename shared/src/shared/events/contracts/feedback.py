"""What the feedback service publishes about complaints and the survey invitations it asks to be
sent. Never the free text or personal data."""

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from shared.events.contracts.common import Contract, Id, StoreId
from shared.identifiers import TXN_ID_PATTERN
from shared.integers import POINTS_MAX
from shared.money import Money

ComplaintCategory = Literal[
    "product_quality", "service_attitude", "checkout_queues", "finding_goods",
    "store_environment", "price", "returns_after_sales", "delivery",
]
Severity = Literal["low", "medium", "high"]
ComplaintChannel = Literal["service_desk", "app", "phone", "web", "comment_book"]


class ComplaintFiledV1(Contract):
    complaint_id: str = Id
    member_id: str | None = None
    store_id: StoreId
    category: ComplaintCategory
    severity: Severity
    channel: ComplaintChannel
    # A TxnId; published without its minLength (the pattern needs a character all the same).
    pos_txn_id: Annotated[str, StringConstraints(max_length=64, pattern=TXN_ID_PATTERN)] | None = None
    filed_at: AwareDatetime


class ComplaintEscalatedV1(Contract):
    complaint_id: str = Id
    member_id: str | None = None
    store_id: StoreId
    category: ComplaintCategory
    severity: Severity
    overdue_step: Literal["acknowledge", "resolve"]
    due_at: AwareDatetime
    escalated_at: AwareDatetime


class ComplaintResolvedV1(Contract):
    """`compensation_points` are booked by points (once, keyed by complaint id);
    `coupon_value` is issued by campaigns."""

    complaint_id: str = Id
    member_id: str | None = None
    store_id: StoreId
    category: ComplaintCategory
    severity: Severity
    resolved_at: AwareDatetime
    compensation_points: int = Field(default=0, ge=0, le=POINTS_MAX)
    coupon_value: Money | None = None
    # Added within v1, optional: events published before it still validate, and read as before.
    resolved_by: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="Staff id (the token subject) of who resolved the complaint, never a name; points books the "
                    "compensation with it as the ledger entry's staff_id",
    )



class ComplaintReopenedV1(Contract):
    """A resolved or closed complaint is being worked again (its `reopen_count`-th reopening): it
    counts as open until the next `complaint_resolved`, whose event id carries the same round."""

    complaint_id: str = Id
    member_id: str | None = None
    store_id: StoreId
    reopen_count: int = Field(ge=1, le=1_000_000)
    reopened_at: AwareDatetime


class FeedbackNotificationRequestedV1(Contract):
    """Ask the sender to message a member their survey invitation. Like members' requests, no
    contact details: the sender looks them up itself. `params` hold the link (on the public
    address; answering it takes the member's own token too), the store's id and name, and the last
    day to answer. The notification id is derived from the invitation, so it is the occasion: one
    message per invitation whatever the redelivery."""

    notification_id: str = Id
    member_id: str = Id
    invitation_id: str = Id
    # What was asked about: a sampled sale, or a resolved complaint.
    source: Literal["sale", "complaint"]
    store_id: StoreId
    template: Literal["survey_invitation"] = "survey_invitation"
    channel: Literal["sms"] = "sms"
    params: dict[str, str] = Field(default_factory=dict)
    # A survey is a service message: it offers nothing, so it follows the member's consent to
    # service messages, not marketing consent.
    requires_consent: Literal["service_tips_sms"] | None = "service_tips_sms"
    expires_at: AwareDatetime
    requested_at: AwareDatetime
