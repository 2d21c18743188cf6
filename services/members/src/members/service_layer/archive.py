"""The customer archive (客户档案): one customer's profile, spend, tier and account manager, value
analytics, complaint summary, every tracking contact and what they bought, on one page.

The api presents it: the profile is masked and logged like every other read (`present_member`);
tracking contacts carry staff's notes, which is why only roles that handle customers' contact
details open an archive.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, type_coerce
from sqlmodel import col, select

from members.adapters.tables import CommunityRow, MemberRow, PurchaseLineRow, PurchaseRow, ReturnRow
from members.adapters.tables.analytics import MemberValueRow
from members.adapters.tables.staff import StaffRow, TrackingRecordRow
from members.service_layer.complaints import complaint_summary
from members.service_layer.export import purchases_with_lines
from shared.columns import MoneyColumn
from shared.money import CENT
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Manager:
    id: str
    # None when the manager is not (or no longer) in the staff directory.
    name: str | None
    work_phone: str | None
    store_id: str | None
    active: bool | None


@dataclass(frozen=True)
class Spend:
    lifetime_spend: Decimal  # net of returns
    purchase_count: int
    average_purchase: Decimal | None
    returned_total: Decimal
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None


@dataclass(frozen=True)
class Evaluation:
    """The account managers' effect evaluations of their contacts with this customer."""

    contacts: int
    average_rating: Decimal | None
    last_tracked_on: date | None


@dataclass(frozen=True)
class Archive:
    generated_at: datetime
    member: MemberRow
    community_name: str | None
    manager: Manager | None
    spend: Spend
    value: MemberValueRow | None  # None before the first analytics run
    complaints: dict[str, Any]  # complaint_summary
    evaluation: Evaluation
    tracking: list[TrackingRecordRow]  # most recent first
    recent_purchases: list[tuple[PurchaseRow, list[PurchaseLineRow]]]  # most recent first


async def build_archive(uow: UnitOfWork, member: MemberRow, purchases_limit: int) -> Archive:
    session = uow.session
    community = await session.get(CommunityRow, member.community_id) if member.community_id else None
    tracking = list((await session.exec(
        select(TrackingRecordRow).where(TrackingRecordRow.member_id == member.id)
        .order_by(col(TrackingRecordRow.tracked_on).desc(), col(TrackingRecordRow.id).desc())
    )).all())
    purchases = (await session.exec(
        select(PurchaseRow).where(PurchaseRow.member_id == member.id)
        .order_by(col(PurchaseRow.occurred_at).desc(), col(PurchaseRow.id).desc()).limit(purchases_limit)
    )).all()
    return Archive(
        generated_at=uow.now(),
        member=member,
        community_name=community.name if community else None,
        manager=await _manager(uow, member.manager_id),
        spend=await _spend(uow, member),
        value=await session.get(MemberValueRow, member.id),
        complaints=await complaint_summary(uow, member.id),
        evaluation=Evaluation(
            contacts=len(tracking),
            average_rating=(Decimal(sum(t.rating for t in tracking)) / len(tracking)).quantize(CENT) if tracking else None,
            last_tracked_on=tracking[0].tracked_on if tracking else None,
        ),
        tracking=tracking,
        recent_purchases=await purchases_with_lines(uow, purchases),
    )


async def _manager(uow: UnitOfWork, manager_id: str | None) -> Manager | None:
    if manager_id is None:
        return None
    staff = await uow.session.get(StaffRow, manager_id)
    if staff is None:
        return Manager(id=manager_id, name=None, work_phone=None, store_id=None, active=None)
    return Manager(id=staff.id, name=staff.name, work_phone=staff.work_phone, store_id=staff.store_id, active=staff.active)


async def _spend(uow: UnitOfWork, member: MemberRow) -> Spend:
    returned = (await uow.session.exec(
        # What returns gave back of what was paid, the same measure as lifetime_spend beside it.
        select(type_coerce(func.coalesce(func.sum(ReturnRow.paid), 0), MoneyColumn())).where(
            ReturnRow.member_id == member.id, col(ReturnRow.applied_at).is_not(None)
        )
    )).one()
    average = (member.lifetime_spend / member.purchase_count).quantize(CENT) if member.purchase_count else None
    return Spend(
        lifetime_spend=member.lifetime_spend, purchase_count=member.purchase_count, average_purchase=average,
        returned_total=returned,
        first_purchase_at=member.first_purchase_at, last_purchase_at=member.last_purchase_at,
    )
