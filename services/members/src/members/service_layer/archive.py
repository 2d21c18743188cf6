"""The customer archive (客户档案): one customer's profile, spend, tier and account manager, value
analytics, complaint summary, every tracking contact and what they bought, on one page.

The profile is masked and logged like every other read (`present_member`); tracking contacts carry
staff's notes, which is why only roles that handle customers' contact details open an archive.
"""

from decimal import Decimal

from sqlalchemy import func, type_coerce
from sqlmodel import col, select

from members.adapters.tables import CommunityRow, MemberRow, PurchaseLineRow, PurchaseRow, ReturnRow
from members.adapters.tables.analytics import MemberValueRow
from members.adapters.tables.staff import StaffRow, TrackingRecordRow
from members.api.presenters import present_member, purchase_public
from members.api.privacy_schemas import (
    ComplaintSummary,
    EvaluationSummary,
    ManagerRef,
    MemberArchive,
    MemberValue,
    SpendSummary,
)
from members.api.schemas import PurchasePublic
from members.service_layer.complaints import complaint_summary
from members.service_layer.export import tracking_contact
from shared.columns import MoneyColumn
from shared.money import CENT
from shared.policy import Grant
from shared.unit_of_work import UnitOfWork


async def build_archive(uow: UnitOfWork, member: MemberRow, grant: Grant, purchases_limit: int) -> MemberArchive:
    session = uow.session
    profile = await present_member(uow, member, grant, "members.archive")
    community = await session.get(CommunityRow, member.community_id) if member.community_id else None
    value = await session.get(MemberValueRow, member.id)
    tracking = (await session.exec(
        select(TrackingRecordRow).where(TrackingRecordRow.member_id == member.id)
        .order_by(col(TrackingRecordRow.tracked_on).desc(), col(TrackingRecordRow.id).desc())
    )).all()
    return MemberArchive(
        generated_at=uow.now(),
        profile=profile,
        community_name=community.name if community else None,
        tier=member.tier,
        tier_since=member.tier_since,
        manager=await _manager(uow, member.manager_id),
        spend=await _spend(uow, member),
        value=MemberValue.model_validate(value, from_attributes=True) if value else None,
        complaints=ComplaintSummary.model_validate(await complaint_summary(uow, member.id)),
        evaluation=EvaluationSummary(
            contacts=len(tracking),
            average_rating=(Decimal(sum(t.rating for t in tracking)) / len(tracking)).quantize(CENT) if tracking else None,
            last_tracked_on=tracking[0].tracked_on if tracking else None,
        ),
        tracking_contacts=[tracking_contact(t) for t in tracking],
        recent_purchases=await _recent_purchases(uow, member.id, purchases_limit),
    )


async def _manager(uow: UnitOfWork, manager_id: str | None) -> ManagerRef | None:
    if manager_id is None:
        return None
    staff = await uow.session.get(StaffRow, manager_id)
    if staff is None:
        return ManagerRef(id=manager_id, name=None, work_phone=None, store_id=None, active=None)
    return ManagerRef(id=staff.id, name=staff.name, work_phone=staff.work_phone, store_id=staff.store_id, active=staff.active)


async def _spend(uow: UnitOfWork, member: MemberRow) -> SpendSummary:
    returned = (await uow.session.exec(
        # What returns gave back of what was paid, the same measure as lifetime_spend beside it.
        select(type_coerce(func.coalesce(func.sum(ReturnRow.paid), 0), MoneyColumn())).where(
            ReturnRow.member_id == member.id, col(ReturnRow.applied_at).is_not(None)
        )
    )).one()
    average = (member.lifetime_spend / member.purchase_count).quantize(CENT) if member.purchase_count else None
    return SpendSummary(
        lifetime_spend=member.lifetime_spend, purchase_count=member.purchase_count, average_purchase=average,
        returned_total=returned,
        first_purchase_at=member.first_purchase_at, last_purchase_at=member.last_purchase_at,
    )


async def _recent_purchases(uow: UnitOfWork, member_id: str, limit: int) -> list[PurchasePublic]:
    purchases = (await uow.session.exec(
        select(PurchaseRow).where(PurchaseRow.member_id == member_id)
        .order_by(col(PurchaseRow.occurred_at).desc(), col(PurchaseRow.id).desc()).limit(limit)
    )).all()
    ids = [p.id for p in purchases]
    lines = (await uow.session.exec(select(PurchaseLineRow).where(col(PurchaseLineRow.purchase_id).in_(ids)))).all() if ids else []
    return [purchase_public(p, [ln for ln in lines if ln.purchase_id == p.id]) for p in purchases]
