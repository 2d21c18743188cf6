"""The events feedback publishes: complaints (ids, store, category and severity, never free text)
and the survey invitations it asks the sender to deliver (ids and the link, never contact details).

Event ids are derived from the complaint and the step, so a retried request or a second job run
cannot announce the same fact twice (the outbox refuses a duplicate event id).
"""

from datetime import datetime
from decimal import Decimal
from typing import Literal, cast

from feedback.adapters.tables import ComplaintRow, SurveyInvitationRow
from feedback.config import Settings
from feedback.domain.surveys import last_day_to_answer
from feedback.domain.workflow import Step
from shared.commands import derived_event_id
from shared.events import contracts as c
from shared.events.contracts import ComplaintCategory, ComplaintChannel, Severity
from shared.events.registry import (
    COMPLAINT_ESCALATED,
    COMPLAINT_FILED,
    COMPLAINT_REOPENED,
    COMPLAINT_RESOLVED,
    FEEDBACK_NOTIFICATION_REQUESTED,
)
from shared.unit_of_work import UnitOfWork


def event_id(complaint_id: str, fact: str) -> str:
    return derived_event_id("feedback", "complaint", complaint_id, fact)


def _key(row: ComplaintRow) -> str:
    # Keyed by member so a customer's events stay in order; anonymous ones by complaint.
    return row.member_id or row.id


# The row keeps category, severity and channel as text; the API admitted only the contract's values
# (api/schemas.py uses the same literals), and the contract validates them again when it is built.
def _category(row: ComplaintRow) -> ComplaintCategory:
    return cast(ComplaintCategory, row.category)


def _severity(row: ComplaintRow) -> Severity:
    return cast(Severity, row.severity)


def emit_filed(uow: UnitOfWork, row: ComplaintRow) -> None:
    data = c.ComplaintFiledV1(
        complaint_id=row.id, member_id=row.member_id, store_id=row.store_id, category=_category(row),
        severity=_severity(row), channel=cast(ComplaintChannel, row.channel), pos_txn_id=row.sale_pos_txn_id,
        filed_at=row.filed_at,
    )
    uow.emit(COMPLAINT_FILED, data, key=_key(row), subject=row.member_id, event_id=event_id(row.id, "filed"))


def emit_resolved(
    uow: UnitOfWork, row: ComplaintRow, *, points: int, coupon_value: Decimal | None, at: datetime, by: str,
) -> None:
    """`by` is the resolver's token subject (a staff id): points books the compensation under it."""
    data = c.ComplaintResolvedV1(
        complaint_id=row.id, member_id=row.member_id, store_id=row.store_id, category=_category(row),
        severity=_severity(row), resolved_at=at, compensation_points=points, coupon_value=coupon_value, resolved_by=by,
    )
    uow.emit(
        COMPLAINT_RESOLVED, data, key=_key(row), subject=row.member_id,
        event_id=event_id(row.id, f"resolved/{row.reopen_count}"),
    )


def emit_reopened(uow: UnitOfWork, row: ComplaintRow, *, at: datetime) -> None:
    """Members' archive counts the complaint open again until the next resolution."""
    data = c.ComplaintReopenedV1(
        complaint_id=row.id, member_id=row.member_id, store_id=row.store_id, reopen_count=row.reopen_count,
        reopened_at=at,
    )
    uow.emit(
        COMPLAINT_REOPENED, data, key=_key(row), subject=row.member_id,
        event_id=event_id(row.id, f"reopened/{row.reopen_count}"),
    )


def emit_escalated(uow: UnitOfWork, row: ComplaintRow, *, step: Step, due_at: datetime, at: datetime) -> None:
    data = c.ComplaintEscalatedV1(
        complaint_id=row.id, member_id=row.member_id, store_id=row.store_id, category=_category(row),
        severity=_severity(row), overdue_step=step, due_at=due_at, escalated_at=at,
    )
    uow.emit(
        COMPLAINT_ESCALATED, data, key=_key(row), subject=row.member_id,
        event_id=event_id(row.id, f"escalated/{step}/{row.reopen_count}"),
    )


def invitation_notification_id(invitation_id: str) -> str:
    return derived_event_id("feedback", "survey_invitation", invitation_id)


def emit_survey_invitation(uow: UnitOfWork, settings: Settings, row: SurveyInvitationRow, link: str) -> None:
    """Asks the sender to send a member's invitation. The id is derived from the invitation, so
    a retried resolve or a redelivered sale cannot ask twice (and the sender's occasion is it)."""
    assert row.member_id is not None, "an anonymous invitation has nobody to send it to"
    notification_id = invitation_notification_id(row.id)
    data = c.FeedbackNotificationRequestedV1(
        notification_id=notification_id, member_id=row.member_id, invitation_id=row.id,
        source=cast(Literal["sale", "complaint"], row.source), store_id=row.store_id,
        # The sender names the store (campaigns keeps the gateway's store names).
        params={"link": link, "store_id": row.store_id, "expires_on": last_day_to_answer(row.expires_at, settings.zone).isoformat()},
        expires_at=row.expires_at, requested_at=row.created_at,
    )
    uow.emit(FEEDBACK_NOTIFICATION_REQUESTED, data, key=row.member_id, subject=row.member_id, event_id=notification_id)
