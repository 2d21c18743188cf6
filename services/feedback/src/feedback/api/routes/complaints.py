"""Complaints: filing, queues, the workflow, resolution with compensation, reassignment, rating."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from feedback.adapters.tables import ComplaintRow, MemberProfileRow
from feedback.api.access import (
    complaints_in_reach,
    customer_named,
    ensure_customer,
    ensure_handles,
    ensure_reads,
    queue_of,
)
from feedback.api.deps import FeedbackSettingsDep
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
from feedback.domain.compensation import Compensation
from feedback.domain.workflow import OPEN, Status
from feedback.service_layer import complaints as uc
from shared.authorize import Allowed
from shared.deps import NowDep, ReadUowDep, UowDep
from shared.errors import Invalid
from shared.idempotency import idempotency_key_header
from shared.identifiers import RecordId, StoreId
from shared.integers import Int64
from shared.policy import Grant, Scope
from shared.text import NonBlankText

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])

# Who may take each action, and over which customers: shared.policy.POLICY.
Filing = Annotated[Grant, Allowed("feedback.complaint.file")]
Reading = Annotated[Grant, Allowed("feedback.complaint.read")]
Handling = Annotated[Grant, Allowed("feedback.complaint.handle")]
# Reopening and rating: the handlers, and the member whose complaint it is.
Commenting = Annotated[Grant, Allowed("feedback.complaint.comment")]
STAFF_CHANNELS = ("service_desk", "phone", "comment_book", "web")
MEMBER_CHANNELS = ("app", "web")


def _filing(body: ComplaintCreate, grant: Grant, member_id: str | None) -> uc.Filing:
    # A member files for themself, in the app or on the web; staff file at the desk, by phone...
    by_customer = grant.scope is Scope.SELF
    channel = body.channel or ("app" if by_customer else "service_desk")
    allowed = MEMBER_CHANNELS if by_customer else STAFF_CHANNELS
    if channel not in allowed:
        raise Invalid("channel", f"a {grant.principal.role} files through {', '.join(allowed)}")
    # A complaint about a sale concerns the sale's store when neither the body nor the token names
    # one: a member in the app, whose token has no store, names the sale with its store only.
    store_id = body.store_id or grant.principal.store_id or (body.sale.store_id if body.sale else None)
    grant.ensure_store(store_id)  # a store-bound token files for its own store only
    if not store_id:
        raise Invalid("store_id", "required: the store the complaint concerns")
    return uc.Filing(
        store_id=store_id, channel=channel, category=body.category, severity=body.severity,
        description=body.description, member_id=member_id,
        sale_store_id=(body.sale.store_id or store_id) if body.sale else None,
        sale_pos_txn_id=body.sale.pos_txn_id if body.sale else None,
    )


@router.post("", status_code=status.HTTP_201_CREATED, responses={
    200: {"description": "A retry with the same Idempotency-Key: the complaint filed the first time"},
    409: {"description": "The Idempotency-Key was already used for a different filing, or the member was erased"},
})
async def file_complaint(
    body: ComplaintCreate, uow: UowDep, grant: Filing, settings: FeedbackSettingsDep, now: NowDep,
    response: Response,
    # Required: without a key, a retry after a lost answer (a flaky mobile connection, a phone
    # line's integration) would file a second complaint. Complaints keep 100 characters of the key
    # (their column), fewer than the other services.
    idempotency_key: Annotated[str, idempotency_key_header(max_length=100)],
) -> ComplaintPublic:
    """File a complaint (service desk, phone line, or a member in the app, for themself only). A
    VIP's complaint goes to their account manager, others to the store's service desk queue.
    Every filing carries an `Idempotency-Key` (422 without one): repeating a request with the same
    key returns the first complaint (200) instead of filing it again; the same key with a different
    filing is refused (409), since the key stands for one intended complaint."""
    member_id = customer_named(grant, body.member_id)
    if member_id is not None:
        await ensure_customer(uow.session, grant, member_id)
    row, created = await uc.file_complaint(
        uow, settings, _filing(body, grant, member_id), actor=grant.principal.subject, now=now,
        idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return await detail(uow.session, settings, grant, row, now)


def _order(query: SelectOfScalar[ComplaintRow]) -> SelectOfScalar[ComplaintRow]:
    # Overdue ones first: they have the earliest due times; resolved and closed ones (no due
    # time) last, newest first.
    due = col(ComplaintRow.next_due_at)
    return query.order_by(due.is_(None), due, col(ComplaintRow.filed_at).desc())


# Whose complaints: an empty one names nobody, and is refused rather than taken for no filter.
Assignee = Annotated[NonBlankText | None, Query(max_length=80, description="desk:<store_id>, store_manager:<store_id> or a staff id")]


@router.get("")
async def list_complaints(
    uow: ReadUowDep, grant: Reading, now: NowDep,
    member_id: Annotated[RecordId | None, Query()] = None, store_id: Annotated[StoreId | None, Query()] = None,
    assignee: Assignee = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    open_only: bool = False, overdue_only: bool = False,
    limit: Annotated[Int64, Query(ge=1, le=500)] = 100,
) -> list[ComplaintSummary]:
    """Complaints, overdue first. One customer's (`member_id`, as in the archive and the 360 view)
    for those whose scope covers the customer; a member's own; otherwise those within the caller's
    reach: their store's (desk, store manager), those assigned to them or about their customers
    (account manager), all (admin)."""
    query = select(ComplaintRow).outerjoin(MemberProfileRow, col(MemberProfileRow.member_id) == col(ComplaintRow.member_id))
    customer = customer_named(grant, member_id)
    if customer is not None:
        await ensure_customer(uow.session, grant, customer)
        query = query.where(ComplaintRow.member_id == customer)
        grant.store_filter(store_id)  # a store-bound token names no other store, whoever the customer
    else:
        query = query.where(*complaints_in_reach(grant, store_id, assignee))
    if store_id is not None:
        query = query.where(ComplaintRow.store_id == store_id)
    if assignee is not None:
        query = query.where(ComplaintRow.assignee == assignee)
    if status_ is not None:
        query = query.where(ComplaintRow.status == status_.value)
    if open_only or overdue_only:
        query = query.where(col(ComplaintRow.status).in_([s.value for s in OPEN]))
    if overdue_only:
        query = query.where(col(ComplaintRow.next_due_at) < now)
    rows = (await uow.session.exec(_order(query).limit(limit))).all()
    return [summary(r, now) for r in rows]


@router.get("/queue")
async def my_queue(
    uow: UowDep, grant: Handling, now: NowDep,
    status_: Annotated[Status | None, Query(alias="status", description="One of the open states")] = None,
    assignee: Assignee = None,
    overdue_only: bool = False,
    mine: Annotated[bool, Query(description="Only those the caller took, or that are assigned to them")] = False,
) -> list[ComplaintSummary]:
    """The caller's open complaints, overdue first: their store's queue for the desk and the store
    manager (including what was escalated to the store manager), an account manager's own.
    Narrowed, as a handler sorts their day, to one state, one assignee or what is overdue."""
    if status_ is not None and status_ not in OPEN:
        # The queue holds open complaints only: a resolved one would silently list nothing.
        raise Invalid("status", f"the queue holds open complaints: one of {', '.join(sorted(s.value for s in OPEN))}")
    query = select(ComplaintRow).where(queue_of(grant), col(ComplaintRow.status).in_([s.value for s in OPEN]))
    if status_ is not None:
        query = query.where(ComplaintRow.status == status_.value)
    if assignee is not None:
        query = query.where(ComplaintRow.assignee == assignee)
    if overdue_only:
        query = query.where(col(ComplaintRow.next_due_at) < now)
    if mine:
        me = grant.principal.subject
        query = query.where(or_(col(ComplaintRow.handled_by) == me, col(ComplaintRow.assignee) == me))
    return [summary(r, now) for r in (await uow.session.exec(_order(query).limit(500))).all()]


@router.get("/{complaint_id}")
async def get_complaint(complaint_id: str, uow: UowDep, grant: Reading, settings: FeedbackSettingsDep, now: NowDep) -> ComplaintPublic:
    row = await uc.load(uow, complaint_id)
    await ensure_reads(uow.session, grant, row)
    return await detail(uow.session, settings, grant, row, now)


async def _handled(uow, complaint_id: str, grant: Grant) -> ComplaintRow:
    row = await uc.load(uow, complaint_id, lock=True)
    ensure_handles(grant, row)
    return row


@router.post("/{complaint_id}/acknowledge")
async def acknowledge(complaint_id: str, uow: UowDep, grant: Handling, settings: FeedbackSettingsDep, now: NowDep) -> ComplaintPublic:
    row = await _handled(uow, complaint_id, grant)
    uc.acknowledge(uow, row, grant.principal.subject, now)
    return await detail(uow.session, settings, grant, row, now)


@router.post("/{complaint_id}/start")
async def start(complaint_id: str, uow: UowDep, grant: Handling, settings: FeedbackSettingsDep, now: NowDep) -> ComplaintPublic:
    row = await _handled(uow, complaint_id, grant)
    uc.start(uow, row, grant.principal.subject, now)
    return await detail(uow.session, settings, grant, row, now)


@router.post("/{complaint_id}/resolve")
async def resolve(
    complaint_id: str, body: ResolveIn, uow: UowDep, grant: Handling, settings: FeedbackSettingsDep, now: NowDep,
) -> ComplaintPublic:
    """Resolve with a note and, optionally, compensation in points (booked by the points service)
    or a coupon value (recorded and published; nothing issues the coupon until the campaigns
    service does). A complaint is compensated once; the customer is invited to a satisfaction
    survey, whose link only they see."""
    row = await _handled(uow, complaint_id, grant)
    uc.resolve(uow, settings, row, actor=grant.principal.subject, now=now, note=body.note,
               compensation=Compensation(body.compensation.points, body.compensation.coupon_value))
    await uc.invite_to_survey(uow, settings, row, now)
    return await detail(uow.session, settings, grant, row, now)


@router.post("/{complaint_id}/close")
async def close(complaint_id: str, uow: UowDep, grant: Handling, settings: FeedbackSettingsDep, now: NowDep) -> ComplaintPublic:
    row = await _handled(uow, complaint_id, grant)
    uc.close(uow, row, grant.principal.subject, now)
    return await detail(uow.session, settings, grant, row, now)


@router.post("/{complaint_id}/reopen")
async def reopen(
    complaint_id: str, body: ReopenIn, uow: UowDep, grant: Commenting, settings: FeedbackSettingsDep, now: NowDep,
) -> ComplaintPublic:
    """Staff, or the member who filed it, reopen a resolved or closed complaint; it gets a new
    resolution deadline from now."""
    row = await _handled(uow, complaint_id, grant)
    await uc.reopen(uow, settings, row, grant.principal.subject, now, body.reason)
    return await detail(uow.session, settings, grant, row, now)


@router.post("/{complaint_id}/assign")
async def reassign(
    complaint_id: str, body: AssignIn, uow: UowDep, grant: Handling, settings: FeedbackSettingsDep, now: NowDep,
) -> ComplaintPublic:
    """Hand the complaint to its store's desk or store manager queue, or to an account manager;
    an assignee who could not handle it (another store's queue, an unknown staff id) is 422."""
    row = await _handled(uow, complaint_id, grant)
    await uc.reassign(uow, row, body.assignee, grant.principal.subject, now)
    return await detail(uow.session, settings, grant, row, now)


@router.post("/{complaint_id}/take")
async def take(complaint_id: str, uow: UowDep, grant: Handling, settings: FeedbackSettingsDep, now: NowDep) -> ComplaintPublic:
    """The caller takes the open complaint to work on it (`handled_by`): it stays in its queue, where
    colleagues see who is on it. Taking it again changes nothing; taking a colleague's takes it over."""
    row = await _handled(uow, complaint_id, grant)
    uc.take(uow, row, grant.principal.subject, now)
    return await detail(uow.session, settings, grant, row, now)


@router.post("/{complaint_id}/rating")
async def rate(
    complaint_id: str, body: RatingIn, uow: UowDep, grant: Commenting, settings: FeedbackSettingsDep, now: NowDep,
) -> ComplaintPublic:
    """The customer rates how the complaint was handled (1–5), once: in the app, or through staff
    who may comment on the complaint (its store's desk and manager, the customer's account
    manager, an admin) on their behalf."""
    row = await _handled(uow, complaint_id, grant)
    uc.rate(uow, row, body.score, body.comment, grant.principal.subject, now)
    return await detail(uow.session, settings, grant, row, now)
