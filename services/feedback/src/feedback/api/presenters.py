"""Rows to response bodies."""

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from feedback.adapters.tables import ComplaintHistoryRow, ComplaintRow, EscalationRow, SurveyInvitationRow
from feedback.api.access import sees_survey_link
from feedback.api.schemas import ComplaintPublic, ComplaintSummary, EscalationPublic, HistoryEntry, InvitationStatus
from feedback.config import Settings
from feedback.service_layer.invitations import link_for
from shared.policy import Grant


def summary(row: ComplaintRow, now: datetime) -> ComplaintSummary:
    return ComplaintSummary(
        **row.model_dump(include=set(ComplaintSummary.model_fields) - {"overdue"}),
        overdue=row.next_due_at is not None and row.next_due_at < now,
    )


def invitation_status(row: SurveyInvitationRow) -> InvitationStatus:
    return InvitationStatus.model_validate(row, from_attributes=True)


async def detail(session: AsyncSession, settings: Settings, grant: Grant, row: ComplaintRow, now: datetime) -> ComplaintPublic:
    """The complaint as `grant`'s caller may see it: the survey link only for the member themself."""
    history = (await session.exec(
        select(ComplaintHistoryRow).where(ComplaintHistoryRow.complaint_id == row.id).order_by(col(ComplaintHistoryRow.id))
    )).all()
    escalations = (await session.exec(
        select(EscalationRow).where(EscalationRow.complaint_id == row.id).order_by(col(EscalationRow.id))
    )).all()
    invitation = (await session.exec(
        select(SurveyInvitationRow).where(SurveyInvitationRow.source_ref == f"complaint:{row.id}")
    )).first()
    base = summary(row, now).model_dump()
    extra = row.model_dump(include=set(ComplaintPublic.model_fields) - set(base)
                           - {"history", "escalations", "survey", "survey_link", "member_erased"})
    return ComplaintPublic(
        **base, **extra,
        history=[HistoryEntry.model_validate(h, from_attributes=True) for h in history],
        escalations=[EscalationPublic.model_validate(e, from_attributes=True) for e in escalations],
        survey=invitation_status(invitation) if invitation else None,
        # Only a link that still takes an answer: an answered or expired one would only fail.
        survey_link=link_for(settings, invitation)
        if invitation and invitation.answered_at is None and now < invitation.expires_at
        and sees_survey_link(grant, row.member_id) else None,
        member_erased=row.erased_at is not None,
    )
