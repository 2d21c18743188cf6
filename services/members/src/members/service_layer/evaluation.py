"""The figures of the account manager evaluation, read from the database for one period.

"The customers they track" are the customers assigned to the manager now: assignments are not
kept as history, so a customer who changed manager mid-period counts for the new one. Purchases
count at their net amount (sale total less what was returned of it). "New customers in their
communities" are members registered in the period in a community the manager covers now. Only
active account managers are evaluated.
"""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, type_coerce
from sqlmodel import col, select

from members.adapters.tables import MemberRow, PurchaseRow
from members.adapters.tables.staff import CoverageRow, StaffRow
from members.domain.evaluation import ManagerFigures
from members.service_layer.staff import ACCOUNT_MANAGER
from shared.columns import MoneyColumn
from shared.unit_of_work import UnitOfWork


async def managers(uow: UnitOfWork, store_id: str | None) -> list[StaffRow]:
    query = select(StaffRow).where(StaffRow.role == ACCOUNT_MANAGER, StaffRow.active)
    if store_id is not None:
        query = query.where(StaffRow.store_id == store_id)
    return list((await uow.session.exec(query.order_by(col(StaffRow.id)))).all())


async def figures(uow: UnitOfWork, staff: list[StaffRow], start: datetime, end: datetime) -> list[ManagerFigures]:
    ids = [s.id for s in staff]
    if not ids:
        return []
    session = uow.session
    tracked = dict((await session.exec(
        select(MemberRow.manager_id, func.count()).where(col(MemberRow.manager_id).in_(ids)).group_by(col(MemberRow.manager_id))
    )).all())
    net = type_coerce(
        func.sum(col(PurchaseRow.total) - col(PurchaseRow.discount) - col(PurchaseRow.returned_paid)), MoneyColumn()
    )
    bought = {
        manager_id: (spend, n)
        for manager_id, spend, n in (await session.exec(
            select(MemberRow.manager_id, net, func.count(col(PurchaseRow.id)))
            .join(MemberRow, col(MemberRow.id) == col(PurchaseRow.member_id))
            .where(col(MemberRow.manager_id).in_(ids), col(PurchaseRow.occurred_at) >= start, col(PurchaseRow.occurred_at) < end)
            .group_by(col(MemberRow.manager_id))
        )).all()
    }
    new = dict((await session.exec(
        select(CoverageRow.manager_id, func.count(col(MemberRow.id)))
        .join(MemberRow, col(MemberRow.community_id) == col(CoverageRow.community_id))
        .where(col(CoverageRow.manager_id).in_(ids), col(MemberRow.created_at) >= start, col(MemberRow.created_at) < end)
        .group_by(col(CoverageRow.manager_id))
    )).all())
    result = []
    for s in staff:
        spend, purchases = bought.get(s.id, (None, 0))
        result.append(ManagerFigures(
            manager_id=s.id, store_id=s.store_id, tracked_customers=tracked.get(s.id, 0),
            spend=spend if spend is not None else Decimal("0.00"),
            purchases=purchases, new_customers=new.get(s.id, 0),
        ))
    return result
