"""Complaints: filing, queues, the workflow, resolution with compensation, reassignment, rating."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from sqlalchemy import or_
from sqlmodel import select

from feedback.adapters.tables import ComplaintRow
from feedback.api.access import HANDLING_ROLES, ensure_handler, ensure_readable, own_store
from feedback.api.deps import FeedbackSettingsDep, NowDep
from feedback.api.presenters import detail, summary
from feedback.api.schemas import (
    AssignIn,
    ComplaintCreate,
    ComplaintPublic,
    ComplaintSummary,
    RatingIn,
    ReopenIn,
    ResolveIn,
)
from feedback.domain.assignment import desk_queue, store_manager_queue
from feedback.domain.compensation import Compensation
from feedback.domain.workflow import OPEN, Status
from feedback.service_layer import complaints as uc
from shared.auth import STAFF, Principal, Role, require
from shared.deps import UowDep
from shared.integers import Int64

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])

FilerDep = Annotated[Principal, Depends(require(*HANDLING_ROLES, Role.MEMBER))]
HandlerDep = Annotated[Principal, Depends(require(*HANDLING_ROLES))]
ReaderDep = Annotated[Principal, Depends(require(*STAFF, Role.MEMBER))]
STAFF_CHANNELS = ("service_desk", "phone", "comment_book", "web")
MEMBER_CHANNELS = ("app", "web")


def _filing(body: ComplaintCreate, p: Principal) -> uc.Filing:
    if p.role == Role.MEMBER:
        if body.member_id not in (None, p.member_id):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "members file complaints only for themselves")
        member_id, channel = p.member_id, body.channel or "app"
        allowed = MEMBER_CHANNELS
    else:
        member_id, channel, allowed = body.member_id, body.channel or "service_desk", STAFF_CHANNELS
    if channel not in allowed:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"channel: a {p.role} files through {', '.join(allowed)}")
    store_id = body.store_id or (p.store_id if p.role != Role.MEMBER else None)
    if not store_id:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "store_id: required: the store the complaint concerns")
    return uc.Filing(
        store_id=store_id, channel=channel, category=body.category, severity=body.severity,
        description=body.description, member_id=member_id,
        sale_store_id=(body.sale.store_id or store_id) if body.sale else None,
        sale_pos_txn_id=body.sale.pos_txn_id if body.sale else None,
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def file_complaint(
    body: ComplaintCreate, uow: UowDep, principal: FilerDep, settings: FeedbackSettingsDep, now: NowDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> ComplaintPublic:
    """File a complaint (service desk, phone line, or a member in the app). A VIP's complaint goes
    to their account manager, others to the store's service desk queue. Repeating a request with
    the same `Idempotency-Key` returns the first complaint (200) instead of filing it again."""
    row, created = await uc.file_complaint(
        uow, settings, _filing(body, principal), actor=principal.subject, now=now, idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return await detail(uow.session, settings, row, now)


def _order(query):
    # Overdue ones first: they have the earliest due times; resolved and closed ones (no due
    # time) last, newest first.
    return query.order_by(ComplaintRow.next_due_at.is_(None), ComplaintRow.next_due_at, ComplaintRow.filed_at.desc())  # type: ignore[union-attr,attr-defined]


@router.get("")
async def list_complaints(
    uow: UowDep, principal: ReaderDep, now: NowDep,
    member_id: str | None = None, store_id: str | None = None, assignee: str | None = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    open_only: bool = False, overdue_only: bool = False,
    limit: Annotated[Int64, Query(ge=1, le=500)] = 100,
) -> list[ComplaintSummary]:
    """Complaints, overdue first. Members see their own; staff see one customer's complaints
    (`member_id`, as in the archive), or else their store's (desk, store manager) or those assigned
    to them (account manager)."""
    query = select(ComplaintRow)
    if principal.role == Role.MEMBER:
        member_id = principal.member_id
    elif principal.role != Role.ADMIN and member_id is None:
        if principal.role in (Role.SERVICE_DESK, Role.STORE_MANAGER):
            if store_id not in (None, principal.store_id):
                raise HTTPException(status.HTTP_403_FORBIDDEN, f"store_id: you handle store {principal.store_id} only")
            store_id = own_store(principal)
        elif principal.role == Role.ACCOUNT_MANAGER:
            if assignee not in (None, principal.subject):
                raise HTTPException(status.HTTP_403_FORBIDDEN, "assignee: account managers see their own complaints")
            assignee = principal.subject
        else:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "member_id: required for your role")
    if member_id is not None:
        query = query.where(ComplaintRow.member_id == member_id)
    if store_id is not None:
        query = query.where(ComplaintRow.store_id == store_id)
    if assignee is not None:
        query = query.where(ComplaintRow.assignee == assignee)
    if status_ is not None:
        query = query.where(ComplaintRow.status == status_.value)
    if open_only or overdue_only:
        query = query.where(ComplaintRow.status.in_([s.value for s in OPEN]))  # type: ignore[attr-defined]
    if overdue_only:
        query = query.where(ComplaintRow.next_due_at < now)  # type: ignore[operator]
    rows = (await uow.session.exec(_order(query).limit(limit))).all()
    return [summary(r, now) for r in rows]


@router.get("/queue")
async def my_queue(uow: UowDep, principal: HandlerDep, now: NowDep) -> list[ComplaintSummary]:
    """The caller's open complaints, overdue first: a desk's store queue, an account manager's
    own, and for a store manager everything escalated to them or assigned to them."""
    if principal.role == Role.SERVICE_DESK:
        where = ComplaintRow.assignee == desk_queue(own_store(principal))
    elif principal.role == Role.STORE_MANAGER:
        target = store_manager_queue(own_store(principal))
        where = or_(ComplaintRow.escalated_to == target, ComplaintRow.assignee == target)
    elif principal.role == Role.ACCOUNT_MANAGER:
        where = ComplaintRow.assignee == principal.subject
    else:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins have no queue of their own; list complaints instead")
    query = select(ComplaintRow).where(where, ComplaintRow.status.in_([s.value for s in OPEN]))  # type: ignore[attr-defined]
    return [summary(r, now) for r in (await uow.session.exec(_order(query).limit(500))).all()]


async def _load(uow, complaint_id: str, *, lock: bool = False) -> ComplaintRow:
    try:
        return await uc.load(uow, complaint_id, lock=lock)
    except uc.ComplaintNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no complaint {complaint_id}") from exc


@router.get("/{complaint_id}")
async def get_complaint(complaint_id: str, uow: UowDep, principal: ReaderDep, settings: FeedbackSettingsDep, now: NowDep) -> ComplaintPublic:
    row = await _load(uow, complaint_id)
    ensure_readable(principal, row)
    return await detail(uow.session, settings, row, now)


async def _handled(uow, complaint_id: str, principal: Principal) -> ComplaintRow:
    row = await _load(uow, complaint_id, lock=True)
    ensure_handler(principal, row)
    return row


@router.post("/{complaint_id}/acknowledge")
async def acknowledge(complaint_id: str, uow: UowDep, principal: HandlerDep, settings: FeedbackSettingsDep, now: NowDep) -> ComplaintPublic:
    row = await _handled(uow, complaint_id, principal)
    uc.acknowledge(uow, row, principal.subject, now)
    return await detail(uow.session, settings, row, now)


@router.post("/{complaint_id}/start")
async def start(complaint_id: str, uow: UowDep, principal: HandlerDep, settings: FeedbackSettingsDep, now: NowDep) -> ComplaintPublic:
    row = await _handled(uow, complaint_id, principal)
    uc.start(uow, row, principal.subject, now)
    return await detail(uow.session, settings, row, now)


@router.post("/{complaint_id}/resolve")
async def resolve(
    complaint_id: str, body: ResolveIn, uow: UowDep, principal: HandlerDep, settings: FeedbackSettingsDep, now: NowDep,
) -> ComplaintPublic:
    """Resolve with a note and, optionally, compensation in points (booked by the points service)
    or a coupon (issued by campaigns). A complaint is compensated once; the response carries the
    satisfaction survey link for the customer."""
    row = await _handled(uow, complaint_id, principal)
    uc.resolve(uow, settings, row, actor=principal.subject, now=now, note=body.note,
               compensation=Compensation(body.compensation.points, body.compensation.coupon_value))
    await uc.invite_to_survey(uow, settings, row, now)
    return await detail(uow.session, settings, row, now)


@router.post("/{complaint_id}/close")
async def close(complaint_id: str, uow: UowDep, principal: HandlerDep, settings: FeedbackSettingsDep, now: NowDep) -> ComplaintPublic:
    row = await _handled(uow, complaint_id, principal)
    uc.close(uow, row, principal.subject, now)
    return await detail(uow.session, settings, row, now)


@router.post("/{complaint_id}/reopen")
async def reopen(
    complaint_id: str, body: ReopenIn, uow: UowDep, principal: FilerDep, settings: FeedbackSettingsDep, now: NowDep,
) -> ComplaintPublic:
    """Staff, or the member who filed it, reopen a resolved or closed complaint; it gets a new
    resolution deadline from now."""
    row = await _load(uow, complaint_id, lock=True)
    if principal.role == Role.MEMBER:
        ensure_readable(principal, row)
    else:
        ensure_handler(principal, row)
    uc.reopen(uow, settings, row, principal.subject, now, body.reason)
    return await detail(uow.session, settings, row, now)


@router.post("/{complaint_id}/assign")
async def reassign(
    complaint_id: str, body: AssignIn, uow: UowDep, principal: HandlerDep, settings: FeedbackSettingsDep, now: NowDep,
) -> ComplaintPublic:
    row = await _handled(uow, complaint_id, principal)
    uc.assign(uow, row, body.assignee, principal.subject, now)
    return await detail(uow.session, settings, row, now)


@router.post("/{complaint_id}/rating")
async def rate(
    complaint_id: str, body: RatingIn, uow: UowDep, principal: FilerDep, settings: FeedbackSettingsDep, now: NowDep,
) -> ComplaintPublic:
    """The customer rates how the complaint was handled (1–5), once: in the app, or through the
    service desk on their behalf."""
    row = await _load(uow, complaint_id, lock=True)
    if principal.role == Role.MEMBER:
        ensure_readable(principal, row)
    else:
        ensure_handler(principal, row)
    uc.rate(uow, row, body.score, body.comment, principal.subject, now)
    return await detail(uow.session, settings, row, now)
