"""Rows to response bodies."""

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from feedback.adapters.tables import ComplaintHistoryRow, ComplaintRow, EscalationRow, SurveyInvitationRow
from feedback.api.schemas import ComplaintPublic, ComplaintSummary, EscalationPublic, HistoryEntry
from feedback.config import Settings
from feedback.service_layer.invitations import link_for


def summary(row: ComplaintRow, now: datetime) -> ComplaintSummary:
    return ComplaintSummary(
        **row.model_dump(include=set(ComplaintSummary.model_fields) - {"overdue"}),
        overdue=row.next_due_at is not None and row.next_due_at < now,
    )


async def detail(session: AsyncSession, settings: Settings, row: ComplaintRow, now: datetime) -> ComplaintPublic:
    history = (await session.exec(
        select(ComplaintHistoryRow).where(ComplaintHistoryRow.complaint_id == row.id).order_by(ComplaintHistoryRow.id)  # type: ignore[arg-type]
    )).all()
    escalations = (await session.exec(
        select(EscalationRow).where(EscalationRow.complaint_id == row.id).order_by(EscalationRow.id)  # type: ignore[arg-type]
    )).all()
    invitation = (await session.exec(
        select(SurveyInvitationRow).where(SurveyInvitationRow.source_ref == f"complaint:{row.id}")
    )).first()
    base = summary(row, now).model_dump()
    extra = row.model_dump(include=set(ComplaintPublic.model_fields) - set(base) - {"history", "escalations", "survey_link"})
    return ComplaintPublic(
        **base, **extra,
        history=[HistoryEntry.model_validate(h, from_attributes=True) for h in history],
        escalations=[EscalationPublic.model_validate(e, from_attributes=True) for e in escalations],
        survey_link=link_for(settings, invitation) if invitation and invitation.answered_at is None else None,
    )
