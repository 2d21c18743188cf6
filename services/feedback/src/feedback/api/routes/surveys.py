"""Satisfaction surveys: templates, invitations (links), answers through a link token, results.

A survey link is its member's own: only they list it, and answering takes both the link token
(which invitation) and the member's own bearer token (who answers), so a forwarded or leaked link
answers nothing. Staff see that an invitation was sent and what became of it, never its link."""

import uuid
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from feedback.adapters.tables import SurveyInvitationRow, SurveyResponseRow, SurveyTemplateRow
from feedback.api.access import customer_named, ensure_customer, ensure_own_invitation
from feedback.api.deps import FeedbackSettingsDep
from feedback.api.presenters import invitation_status
from feedback.api.schemas import (
    AnswerIn,
    InvitationPublic,
    InvitationStatus,
    SurveyForm,
    TemplateCreate,
    TemplatePublic,
)
from feedback.domain.surveys import DIMENSION_LABELS, DIMENSIONS, check_answer
from feedback.service_layer.invitations import ensure_usable, find_invitation, link_for
from feedback.service_layer.survey_results import MonthResult
from feedback.service_layer.survey_results import results as survey_results
from shared.authorize import Allowed
from shared.deps import NowDep, UowDep
from shared.errors import Invalid, NotFound
from shared.identifiers import RecordId, StoreId
from shared.periods import MONTH_PATTERN
from shared.policy import Grant
from shared.reports import Column, ReportFormat, render
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/surveys", tags=["surveys"])

# Who may take each action, and over which customers and stores: shared.policy.POLICY.
Designing = Annotated[Grant, Allowed("feedback.survey.design")]
Reading = Annotated[Grant, Allowed("feedback.survey.read")]
SentReading = Annotated[Grant, Allowed("feedback.survey.sent")]
OwnInvitations = Annotated[Grant, Allowed("feedback.survey.invitations")]
Answering = Annotated[Grant, Allowed("feedback.survey.answer")]
Results = Annotated[Grant, Allowed("feedback.survey.results")]
Month = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")]


def _template(row: SurveyTemplateRow) -> TemplatePublic:
    return TemplatePublic(
        id=row.id, name=row.name, dimensions=row.dimensions.split(","), ask_nps=row.ask_nps,
        ask_comment=row.ask_comment, is_default=row.is_default, created_at=row.created_at,
    )


@router.post("/templates", status_code=status.HTTP_201_CREATED)
async def create_template(body: TemplateCreate, uow: UowDep, grant: Designing, now: NowDep) -> TemplatePublic:
    """Templates cannot be edited afterwards (answers must match the questions asked); make a new
    one and mark it default instead."""
    if body.is_default:
        await uow.session.exec(update(SurveyTemplateRow).values(is_default=False))
    dims = [d for d in DIMENSIONS if d in body.dimensions]
    row = SurveyTemplateRow(
        id=str(uuid.uuid4()), name=body.name, dimensions=",".join(dims), ask_nps=body.ask_nps,
        ask_comment=body.ask_comment, is_default=body.is_default, created_by=grant.principal.subject, created_at=now,
    )
    uow.session.add(row)
    return _template(row)


@router.get("/templates")
async def list_templates(uow: UowDep, _: Reading) -> list[TemplatePublic]:
    rows = (await uow.session.exec(select(SurveyTemplateRow).order_by(col(SurveyTemplateRow.created_at)))).all()
    return [_template(r) for r in rows]


@router.post("/templates/{template_id}/default")
async def make_default(template_id: str, uow: UowDep, _: Designing) -> TemplatePublic:
    row = await uow.session.get(SurveyTemplateRow, template_id)
    if row is None:
        raise NotFound(f"no survey template {template_id}")
    await uow.session.exec(update(SurveyTemplateRow).values(is_default=False))
    row.is_default = True
    uow.session.add(row)
    return _template(row)


def _invitations_of(member_id: str, now: datetime, open_only: bool) -> SelectOfScalar[SurveyInvitationRow]:
    query = select(SurveyInvitationRow).where(SurveyInvitationRow.member_id == member_id)
    if open_only:
        query = query.where(col(SurveyInvitationRow.answered_at).is_(None), col(SurveyInvitationRow.expires_at) > now)
    return query.order_by(col(SurveyInvitationRow.created_at).desc())


@router.get("/invitations")
async def list_invitations(
    uow: UowDep, grant: OwnInvitations, settings: FeedbackSettingsDep, now: NowDep,
    member_id: Annotated[RecordId | None, Query()] = None, open_only: bool = True,
) -> list[InvitationPublic]:
    """The member's own survey invitations with their links (delivering them is the app's job)."""
    member_id = customer_named(grant, member_id)
    if member_id is None:
        raise Invalid("member_id", "required")
    await ensure_customer(uow.session, grant, member_id)
    rows = (await uow.session.exec(_invitations_of(member_id, now, open_only))).all()
    return [InvitationPublic(**invitation_status(r).model_dump(), link=link_for(settings, r)) for r in rows]


@router.get("/sent")
async def list_sent(
    uow: UowDep, grant: SentReading, now: NowDep, member_id: Annotated[RecordId, Query()], open_only: bool = False,
) -> list[InvitationStatus]:
    """The survey invitations sent to one customer and what became of them, for staff: without the
    links, which answer for the customer."""
    await ensure_customer(uow.session, grant, member_id)
    rows = (await uow.session.exec(_invitations_of(member_id, now, open_only))).all()
    return [invitation_status(r) for r in rows]


async def _invitation(
    uow: UnitOfWork, token: str, grant: Grant, now: datetime, zone: ZoneInfo, *, lock: bool = False,
) -> SurveyInvitationRow:
    row = await find_invitation(uow.session, token, lock=lock)
    ensure_own_invitation(grant, row)  # before telling anyone whether it is answered or expired
    ensure_usable(row, now, zone)
    return row


async def _template_of(uow: UnitOfWork, invitation: SurveyInvitationRow) -> SurveyTemplateRow:
    template = await uow.session.get(SurveyTemplateRow, invitation.template_id)
    if template is None:  # the foreign key keeps it; templates are never deleted
        raise RuntimeError(f"survey invitation {invitation.id} names no template {invitation.template_id}")
    return template


@router.get("/answers/{token}")
async def survey_form(
    token: str, uow: UowDep, grant: Answering, settings: FeedbackSettingsDep, now: NowDep,
) -> SurveyForm:
    """The questions behind a survey link, for the member it was sent to."""
    invitation = await _invitation(uow, token, grant, now, settings.zone)
    template = await _template_of(uow, invitation)
    return SurveyForm(template=_template(template), store_id=invitation.store_id, expires_at=invitation.expires_at)


@router.post("/answers/{token}", status_code=status.HTTP_201_CREATED)
async def answer(
    token: str, body: AnswerIn, uow: UowDep, grant: Answering, settings: FeedbackSettingsDep, now: NowDep,
) -> dict[str, datetime]:
    """One answer per invitation, by its member: another caller is 403, an expired link 410, an
    answered one 409."""
    invitation = await _invitation(uow, token, grant, now, settings.zone, lock=True)
    template = await _template_of(uow, invitation)
    check_answer(template.dimensions.split(","), template.ask_nps, template.ask_comment,
                 ratings=body.ratings, nps=body.nps, comment=body.comment)
    invitation.answered_at = now
    uow.session.add(invitation)
    uow.session.add(SurveyResponseRow(invitation_id=invitation.id, nps=body.nps, comment=body.comment, answered_at=now, **body.ratings))
    return {"answered_at": now}


def _csat(result: MonthResult, dimension: str) -> Decimal | None:
    return result.csat[dimension]


RESULT_COLUMNS = [
    Column("store_id", "门店 Store"),
    Column("month", "月份 Month"),
    Column("invitations", "邀请数 Invitations"),
    Column("responses", "回复数 Responses"),
    Column("response_rate", "回复率% Response rate"),
    *[Column(f"csat_{d}", f"满意度% CSAT {label}", value=partial(_csat, dimension=d)) for d, label in DIMENSION_LABELS.items()],
    Column("csat_overall", "总体满意度% CSAT overall"),
    Column("csat_change", "满意度变化 CSAT change"),
    Column("nps", "净推荐值 NPS"),
    Column("nps_change", "NPS变化 NPS change"),
]


@router.get("/results", response_model=None)
async def results(
    uow: UowDep, grant: Results,
    store_id: Annotated[StoreId | None, Query()] = None, from_month: Month = None, to_month: Month = None,
    format: ReportFormat = ReportFormat.JSON,
) -> Response:
    """CSAT per dimension, overall CSAT, NPS and response rate per store and month (by the month
    the invitation was sent), with the change from the store's previous month. JSON, CSV, an Excel
    workbook or a printable page. Store managers see their own store."""
    store_id = store_id or grant.principal.store_id
    grant.ensure_store(store_id)  # a store manager sees their own store; marketing and admins any
    rows = await survey_results(uow.session, store_id=store_id, from_month=from_month, to_month=to_month)
    return render(
        format, title="满意度调查结果 Satisfaction survey results", columns=RESULT_COLUMNS, rows=rows,
        json_body=rows, filename="survey-results", subtitle=f"{store_id or '全部门店 all stores'} {from_month or ''}–{to_month or ''}",
    )
