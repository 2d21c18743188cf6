"""Tracking (客户跟踪): a manager's queue of VIPs, the daily feedback form, the daily report, and
the store manager's list of VIPs still waiting for a manager."""

import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy.exc import IntegrityError

from members.adapters.tables import MemberRow
from members.adapters.tables.staff import StaffRow, TrackingRecordRow
from members.api.access import ensure_visible, facts, member_scope
from members.api.deps import MembersSettingsDep
from members.api.staff_schemas import (
    METHOD_LABELS,
    Method,
    QueueItem,
    TrackingCreate,
    TrackingPublic,
    TrackingQueue,
    UnassignedVip,
)
from members.domain.privacy import mask_phone
from members.domain.tracking import follow_up_problem, tracked_on_problem
from members.service_layer import tracking
from members.service_layer.privacy import record_personal_data_read
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.errors import Conflict, Invalid
from shared.idempotency import idempotency_key_header
from shared.identifiers import StaffDirectoryId, StoreId
from shared.periods import ReportDay
from shared.policy import AccessDenied, Grant, Scope
from shared.reports import Column, ReportFormat, render
from shared.unit_of_work import UnitOfWork
from shared.zones import Moment

router = APIRouter(prefix="/v1/tracking", tags=["tracking"])

TrackingReaderDep = Annotated[Grant, Allowed("members.tracking.read")]
ManagerDep = Annotated[Grant, Allowed("members.tracking.record")]
SupervisorDep = Annotated[Grant, Allowed("members.tracking.unassigned")]


async def _whose(uow: UnitOfWork, grant: Grant, manager_id: str | None) -> str:
    """The manager whose work the caller asks for: managers see their own, store managers those
    of their store, admins anyone's."""
    me = grant.principal.subject
    if grant.scope is Scope.ASSIGNED:
        if manager_id not in (None, me):
            # Worded as the policy's own refusal of the ASSIGNED scope, which the console translates.
            raise AccessDenied(f"account managers may only act on the customers assigned to them ({grant.action}): "
                               "another manager's tracking is not theirs")
        return me
    if manager_id is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "manager_id: required for store managers and admins")
    manager = await uow.session.get(StaffRow, manager_id)
    if manager is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"manager_id: no staff member {manager_id}")
    grant.store_filter(manager.store_id)
    return manager_id


@router.get("/queue")
async def tracking_queue(
    uow: UowDep, grant: TrackingReaderDep, settings: MembersSettingsDep,
    manager_id: Annotated[StaffDirectoryId | None, Query(description="Defaults to the calling manager")] = None,
    as_of: Annotated[Moment | None, Query(description="The moment days are counted to; defaults to now")] = None,
) -> TrackingQueue:
    """The manager's VIP customers, most recent purchase first."""
    whose = await _whose(uow, grant, manager_id)
    now = as_of or uow.now()
    # A manager's VIPs may live in any store: a store manager sees those of their own store only.
    entries = await tracking.queue(uow, whose, now, settings.zone, settings.birthday_notice_days, member_scope(grant))
    items = []
    for e in entries:
        m = e.member
        clear = grant.sees_contact_details(m.id)
        # The phone is the only contact field the queue shows; a clear one is an audited read.
        record_personal_data_read(
            uow.session, grant.principal, m.id, ["phone"] if clear and m.phone else [], "tracking_queue", now=uow.now()
        )
        items.append(QueueItem(
            member_id=m.id, card_no=m.card_no, name=m.name, phone=(m.phone or "") if clear else (mask_phone(m.phone) or ""),
            phone_masked=not clear, community=m.community, lifetime_spend=m.lifetime_spend, vip_since=m.tier_since,
            last_purchase_at=m.last_purchase_at, days_since_last_purchase=e.days_since_last_purchase,
            churn_risk=e.churn_risk, last_tracked_on=e.last_tracked_on, next_follow_up_on=e.next_follow_up_on,
            follow_up_due=e.follow_up_due, birthday_in_days=e.birthday_in_days,
        ))
    return TrackingQueue(manager_id=whose, as_of=now, items=items)


@router.get("/unassigned-vips")
async def unassigned_vips(
    uow: UowDep, grant: SupervisorDep, store_id: Annotated[StoreId | None, Query()] = None
) -> list[UnassignedVip]:
    """VIPs whose community no active manager covers yet (they are assigned once one does)."""
    store_id = grant.store_filter(store_id)
    return [
        UnassignedVip(
            member_id=m.id, card_no=m.card_no, name=m.name, community=m.community, community_id=m.community_id,
            home_store_id=m.home_store_id, lifetime_spend=m.lifetime_spend, vip_since=m.tier_since,
        )
        for m in await tracking.unassigned_vips(uow, store_id)
    ]


@router.post("/records", status_code=status.HTTP_201_CREATED)
async def record_tracking(
    body: TrackingCreate, uow: UowDep, grant: ManagerDep, settings: MembersSettingsDep, response: Response,
    # Required: without a key, a form sent again after a lost answer would record a second line.
    idempotency_key: Annotated[str, idempotency_key_header(max_length=100)],
) -> TrackingPublic:
    """One line of the daily tracking feedback form, by the customer's own account manager.
    Every line carries an `Idempotency-Key` (422 without one): repeating a request with the same
    key answers the line it recorded (200) instead of recording it twice; the key sent with another
    line is 409."""
    line = (body.tracked_on, body.member_id, body.contact, body.method.value, body.rating, body.notes, body.next_follow_up_on)
    if earlier := await tracking.recorded_under(uow, grant.principal.subject, idempotency_key, line):
        response.status_code = status.HTTP_200_OK
        return TrackingPublic.model_validate(earlier, from_attributes=True)
    now = uow.now()
    today = now.astimezone(settings.zone).date()
    if problem := tracked_on_problem(body.tracked_on, today, settings.tracking_late_days):
        raise Invalid("tracked_on", problem)
    if body.next_follow_up_on is not None and (problem := follow_up_problem(body.next_follow_up_on, body.tracked_on, today)):
        raise Invalid("next_follow_up_on", problem)
    manager = await uow.session.get(StaffRow, grant.principal.subject)
    if manager is None or not manager.active:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{grant.principal.subject} is not an active account manager in the staff directory")
    member = await uow.session.get(MemberRow, body.member_id)
    if member is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"member_id: no member {body.member_id}")
    if not grant.covers(facts(member)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "member_id: this customer is not assigned to you")
    if member.erased_at is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "member_id: this customer's data was erased; nothing can be recorded")
    row = TrackingRecordRow(
        tracked_on=body.tracked_on, manager_id=manager.id, store_id=manager.store_id, member_id=member.id,
        community_id=member.community_id, contact=body.contact, method=body.method.value, rating=body.rating,
        notes=body.notes.strip(), next_follow_up_on=body.next_follow_up_on, recorded_at=now, idempotency_key=idempotency_key,
    )
    uow.session.add(row)
    try:
        await uow.session.flush()
    except IntegrityError as exc:  # the same key in a concurrent request, which recorded the line
        raise Conflict(f"Idempotency-Key {idempotency_key} is in use by a concurrent request; retry it") from exc
    return TrackingPublic.model_validate(row, from_attributes=True)


@router.get("/members/{member_id}/records")
async def member_records(
    member_id: str, uow: UowDep, grant: TrackingReaderDep,
    limit: Annotated[int, Query(ge=1, le=200, description="The latest this many contacts")] = 20,
) -> list[TrackingPublic]:
    """One customer's tracking contacts, most recent first, for whoever reads tracking and may act
    on the customer: every manager's, so that a manager taking a customer over reads what was said
    and planned before."""
    await ensure_visible(uow, member_id, grant)
    return [TrackingPublic.model_validate(r, from_attributes=True) for r in await tracking.member_records(uow, member_id, limit)]


REPORT_COLUMNS = [
    Column("tracked_on", "日期 Date", lambda r: r.record.tracked_on),
    Column("manager", "客户经理 Account manager", lambda r: r.manager_name),
    Column("customer", "客户 Customer", lambda r: r.customer_name),
    Column("card_no", "卡号 Card", lambda r: r.card_no),
    Column("community", "小区 Community", lambda r: r.community),
    Column("contact", "联系人 Contact", lambda r: r.record.contact),
    Column("method", "跟踪方式 Method", lambda r: METHOD_LABELS[Method(r.record.method)]),
    Column("rating", "效果评分 Rating (1-5)", lambda r: r.record.rating),
    Column("notes", "效果评价 Evaluation", lambda r: r.record.notes),
    Column("next_follow_up_on", "下次跟进 Next follow-up", lambda r: r.record.next_follow_up_on),
]


@router.get("/reports/daily")
async def daily_report(
    uow: UowDep, grant: TrackingReaderDep,
    day: Annotated[ReportDay, Query(alias="date", description="YYYY-MM-DD")],
    store_id: Annotated[StoreId | None, Query()] = None,
    manager_id: Annotated[StaffDirectoryId | None, Query()] = None,
    format: ReportFormat = ReportFormat.JSON,
) -> Response:
    """The day's tracking feedback forms of a store (store manager, admin) or of one manager."""
    if grant.scope is Scope.ASSIGNED:
        grant.store_filter(store_id)  # another store than their account's is refused, not ignored
        manager_id = await _whose(uow, grant, manager_id)
        store_id = None  # their own report, whatever store it names
    else:
        store_id = grant.store_filter(store_id)
        if manager_id is not None:  # as the queue asks: an unknown manager is 404, another store's 403
            manager_id = await _whose(uow, grant, manager_id)
    lines = await tracking.daily_records(uow, day, store_id, manager_id, member_scope(grant))
    scope = f"manager {manager_id}" if manager_id else f"store {store_id}" if store_id else "all stores"
    body = {
        "date": day, "store_id": store_id, "manager_id": manager_id,
        "records": [
            {**TrackingPublic.model_validate(ln.record, from_attributes=True).model_dump(),
             "manager_name": ln.manager_name, "customer_name": ln.customer_name, "card_no": ln.card_no,
             "community": ln.community}
            for ln in lines
        ],
    }
    return render(
        format, title=f"客户跟踪日报 Daily tracking report {day}", subtitle=scope, columns=REPORT_COLUMNS,
        rows=lines, json_body=body, filename=f"tracking-{day}-{re.sub(r'[^A-Za-z0-9_-]', '_', manager_id or store_id or 'all')}",
    )
