"""A member's data export: everything the members service holds about them (the api presents it
as one JSON document)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from members.adapters.tables import (
    ConsentRow,
    MemberRow,
    PurchaseLineRow,
    PurchaseRow,
    ReturnLineRow,
    ReturnRow,
)
from members.adapters.tables.analytics import MemberComplaintRow, MemberValueRow
from members.adapters.tables.privacy import AccessLogRow
from members.adapters.tables.staff import TrackingRecordRow
from members.service_layer.consents import consent_history
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class MemberData:
    """What the service holds about one member, each list oldest first and lines in till order."""

    exported_at: datetime
    member: MemberRow
    consents: list[ConsentRow]
    purchases: list[tuple[PurchaseRow, list[PurchaseLineRow]]]
    returns: list[tuple[ReturnRow, list[ReturnLineRow]]]
    tracking: list[TrackingRecordRow]
    complaints: list[MemberComplaintRow]
    # How value analytics rates the member (RFM scores, value class, churn risk): a profile made of
    # their data, theirs to see as the data itself. None before their first run.
    value: MemberValueRow | None
    # Who read the member's personal data in clear, up to (not including) the export itself.
    access: list[AccessLogRow]


async def export_member(uow: UnitOfWork, member: MemberRow) -> MemberData:
    session = uow.session
    # Read before the export's own log row is added (the api logs it as it presents the profile),
    # so the export lists the reads before it.
    access = (await session.exec(
        select(AccessLogRow).where(AccessLogRow.member_id == member.id).order_by(col(AccessLogRow.at), col(AccessLogRow.id))
    )).all()
    purchases = (await session.exec(
        select(PurchaseRow).where(PurchaseRow.member_id == member.id).order_by(col(PurchaseRow.occurred_at), col(PurchaseRow.id))
    )).all()
    returns = (await session.exec(
        select(ReturnRow).where(ReturnRow.member_id == member.id).order_by(col(ReturnRow.occurred_at), col(ReturnRow.id))
    )).all()
    tracking = (await session.exec(
        select(TrackingRecordRow).where(TrackingRecordRow.member_id == member.id)
        .order_by(col(TrackingRecordRow.tracked_on), col(TrackingRecordRow.id))
    )).all()
    complaints = (await session.exec(
        select(MemberComplaintRow).where(MemberComplaintRow.member_id == member.id).order_by(col(MemberComplaintRow.complaint_id))
    )).all()
    return MemberData(
        exported_at=uow.now(),
        member=member,
        consents=await consent_history(session, member.id),
        purchases=await purchases_with_lines(uow, purchases),
        returns=await _returns_with_lines(uow, returns),
        tracking=list(tracking),
        complaints=list(complaints),
        value=await session.get(MemberValueRow, member.id),
        access=list(access),
    )


async def purchases_with_lines(
    uow: UnitOfWork, purchases: Sequence[PurchaseRow]
) -> list[tuple[PurchaseRow, list[PurchaseLineRow]]]:
    """Each purchase with its lines in till order (one query for all of them)."""
    ids = [p.id for p in purchases]
    lines = (await uow.session.exec(
        select(PurchaseLineRow).where(col(PurchaseLineRow.purchase_id).in_(ids))
    )).all() if ids else []
    return [(p, sorted((ln for ln in lines if ln.purchase_id == p.id), key=lambda ln: ln.line_no)) for p in purchases]


async def _returns_with_lines(uow: UnitOfWork, returns: Sequence[ReturnRow]) -> list[tuple[ReturnRow, list[ReturnLineRow]]]:
    ids = [r.id for r in returns]
    lines = (await uow.session.exec(select(ReturnLineRow).where(col(ReturnLineRow.return_id).in_(ids)))).all() if ids else []
    return [(r, sorted((ln for ln in lines if ln.return_id == r.id), key=lambda ln: ln.line_no)) for r in returns]
