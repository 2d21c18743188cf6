"""A member's data export: everything the members service holds about them, as one JSON document."""


from sqlmodel import col, select

from members.adapters.tables import MemberRow, PurchaseLineRow, PurchaseRow, ReturnLineRow, ReturnRow
from members.adapters.tables.analytics import MemberComplaintRow
from members.adapters.tables.privacy import AccessLogRow
from members.adapters.tables.staff import TrackingRecordRow
from members.api.presenters import present_member, purchase_public
from members.api.privacy_schemas import (
    AccessLogEntry,
    ComplaintRecord,
    ConsentRecord,
    MemberExport,
    ReturnPublic,
    TrackingContact,
)
from members.api.schemas import PurchaseLinePublic
from members.service_layer.consents import consent_history
from shared.policy import Grant
from shared.unit_of_work import UnitOfWork


def access_entry(row: AccessLogRow) -> AccessLogEntry:
    return AccessLogEntry(
        id=row.id, actor=row.actor, role=row.role, member_id=row.member_id,  # type: ignore[arg-type]
        fields=row.fields.split(",") if row.fields else [], purpose=row.purpose, at=row.at,
    )


def tracking_contact(row: TrackingRecordRow) -> TrackingContact:
    return TrackingContact(
        tracked_on=row.tracked_on, manager_id=row.manager_id, store_id=row.store_id, contact=row.contact,
        method=row.method, rating=row.rating, notes=row.notes, recorded_at=row.recorded_at,
    )


def complaint_record(row: MemberComplaintRow) -> ComplaintRecord:
    return ComplaintRecord(
        complaint_id=row.complaint_id, store_id=row.store_id, category=row.category, severity=row.severity,
        channel=row.channel, filed_at=row.filed_at, resolved_at=row.resolved_at,
    )


async def export_member(uow: UnitOfWork, member: MemberRow, grant: Grant) -> MemberExport:
    session = uow.session
    # Read before this export's own log row is added, so the export lists the reads before it.
    access = (await session.exec(
        select(AccessLogRow).where(AccessLogRow.member_id == member.id).order_by(col(AccessLogRow.at), col(AccessLogRow.id))
    )).all()
    profile = await present_member(uow, member, grant, "members.export")
    purchases = (await session.exec(
        select(PurchaseRow).where(PurchaseRow.member_id == member.id).order_by(col(PurchaseRow.occurred_at), col(PurchaseRow.id))
    )).all()
    purchase_ids = [p.id for p in purchases]
    lines = (await session.exec(select(PurchaseLineRow).where(col(PurchaseLineRow.purchase_id).in_(purchase_ids)))).all() if purchase_ids else []
    returns = (await session.exec(
        select(ReturnRow).where(ReturnRow.member_id == member.id).order_by(col(ReturnRow.occurred_at), col(ReturnRow.id))
    )).all()
    return_ids = [r.id for r in returns]
    return_lines = (await session.exec(select(ReturnLineRow).where(col(ReturnLineRow.return_id).in_(return_ids)))).all() if return_ids else []
    tracking = (await session.exec(
        select(TrackingRecordRow).where(TrackingRecordRow.member_id == member.id)
        .order_by(col(TrackingRecordRow.tracked_on), col(TrackingRecordRow.id))
    )).all()
    complaints = (await session.exec(
        select(MemberComplaintRow).where(MemberComplaintRow.member_id == member.id).order_by(col(MemberComplaintRow.complaint_id))
    )).all()
    return MemberExport(
        exported_at=uow.now(),
        profile=profile,
        consents=[
            ConsentRecord(purpose=r.purpose, granted=r.granted, channel=r.channel, recorded_by=r.recorded_by, changed_at=r.changed_at)
            for r in await consent_history(session, member.id)
        ],
        purchases=[purchase_public(p, [ln for ln in lines if ln.purchase_id == p.id]) for p in purchases],
        returns=[
            ReturnPublic(
                store_id=r.store_id, refund_id=r.refund_id, pos_txn_id=r.pos_txn_id, occurred_at=r.occurred_at, amount=r.amount,
                lines=[
                    PurchaseLinePublic(sku=ln.sku, name=ln.name, category=ln.category, qty=ln.qty, unit_price=ln.unit_price, amount=ln.amount)
                    for ln in sorted((ln for ln in return_lines if ln.return_id == r.id), key=lambda ln: ln.line_no)
                ],
            )
            for r in returns
        ],
        tracking_contacts=[tracking_contact(t) for t in tracking],
        complaints=[complaint_record(c) for c in complaints],
        access_log=[access_entry(a) for a in access],
    )
