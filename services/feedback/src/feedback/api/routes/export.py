"""A member's data export (数据导出): what feedback keeps about them, for the member themself and
for admins (as members' own export; the gateway puts the pieces together)."""

from typing import Annotated

from fastapi import APIRouter
from sqlalchemy import or_
from sqlmodel import col, select

from feedback.adapters.tables import CommentEntryRow, ComplaintRow, SurveyInvitationRow, SurveyResponseRow
from feedback.api.access import ensure_customer
from feedback.api.deps import FeedbackSettingsDep
from feedback.api.export_schemas import FeedbackExport, SurveyAnswer, SurveyExport
from feedback.api.presenters import detail, invitation_status
from feedback.api.schemas import CommentPublic
from shared.authorize import Allowed
from shared.deps import NowDep, ReadUowDep
from shared.policy import Grant

router = APIRouter(tags=["privacy"])


@router.get("/v1/members/{member_id}/export", summary="Everything feedback keeps about the member")
async def export(
    member_id: str, uow: ReadUowDep, grant: Annotated[Grant, Allowed("feedback.privacy.export")],
    settings: FeedbackSettingsDep, now: NowDep,
) -> FeedbackExport:
    """Their complaints with all their text and history, every survey sent to them with their
    answer, and the comment book entries about them. Oldest first; what an erasure emptied is null."""
    await ensure_customer(uow.session, grant, member_id)
    session = uow.session
    rows = (await session.exec(select(ComplaintRow).where(ComplaintRow.member_id == member_id)
                               .order_by(col(ComplaintRow.filed_at), col(ComplaintRow.id)))).all()
    complaints = [await detail(session, settings, grant, row, now) for row in rows]
    answered = (await session.exec(
        select(SurveyInvitationRow, SurveyResponseRow)
        .outerjoin(SurveyResponseRow, col(SurveyResponseRow.invitation_id) == SurveyInvitationRow.id)
        .where(SurveyInvitationRow.member_id == member_id)
        .order_by(col(SurveyInvitationRow.created_at), col(SurveyInvitationRow.id))
    )).all()
    surveys = [
        SurveyExport(**invitation_status(invitation).model_dump(), template_id=invitation.template_id,
                     answer=SurveyAnswer.model_validate(response, from_attributes=True) if response else None)
        for invitation, response in answered
    ]
    theirs = select(ComplaintRow.id).where(ComplaintRow.member_id == member_id)
    entries = (await session.exec(
        select(CommentEntryRow)
        .where(or_(col(CommentEntryRow.member_id) == member_id, col(CommentEntryRow.complaint_id).in_(theirs)))
        .order_by(col(CommentEntryRow.recorded_at), col(CommentEntryRow.id))
    )).all()
    return FeedbackExport(
        member_id=member_id, exported_at=now, complaints=complaints, surveys=surveys,
        comment_book=[CommentPublic.model_validate(e, from_attributes=True) for e in entries],
    )
