"""Staff directory (员工名录): account managers per store and the communities they cover;
manual reassignment of a customer's account manager.

Admins manage every store; a store manager manages the account managers and service desk staff of
their own store. Deactivating someone (they left) hands their customers to the other managers
covering the same communities.
"""

import contextlib
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from members.adapters.tables import CommunityRow, MemberRow
from members.adapters.tables.staff import CoverageRow, StaffRow
from members.api.access import visible_member
from members.api.staff_schemas import (
    CoverageChange,
    ManagerAssignment,
    StaffChange,
    StaffCreate,
    StaffPublic,
    StaffRole,
    StaffUpdate,
)
from members.service_layer import staff as staffing
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.identifiers import StoreId
from shared.policy import Grant, Scope
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/staff", tags=["staff"])
assignments = APIRouter(prefix="/v1/members", tags=["staff"])

DirectoryAdminDep = Annotated[Grant, Allowed("members.staff.manage")]
DirectoryReaderDep = Annotated[Grant, Allowed("members.staff.read")]
AssignerDep = Annotated[Grant, Allowed("members.manager.assign")]


async def _staff(uow: UnitOfWork, staff_id: str) -> StaffRow:
    row = await uow.session.get(StaffRow, staff_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no staff member {staff_id}")
    return row


async def _public(uow: UnitOfWork, row: StaffRow) -> StaffPublic:
    communities = (await uow.session.exec(
        select(CoverageRow.community_id).where(CoverageRow.manager_id == row.id).order_by(col(CoverageRow.community_id))
    )).all()
    customers = (await uow.session.exec(select(func.count()).where(MemberRow.manager_id == row.id))).one()
    return StaffPublic(**row.model_dump(), communities=list(communities), customers=customers)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_staff(body: StaffCreate, uow: UowDep, grant: DirectoryAdminDep) -> StaffPublic:
    store_id = body.store_id or grant.principal.store_id
    if store_id is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "store_id: required (the caller has no store)")
    grant.store_filter(store_id)
    if grant.scope is Scope.STORE and body.role == staffing.STORE_MANAGER:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "role: only admins add store managers")
    if await uow.session.get(StaffRow, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"id: staff member {body.id} already exists")
    now = uow.now()
    row = StaffRow(id=body.id, name=body.name, work_phone=body.work_phone, store_id=store_id, role=body.role,
                   active=True, created_at=now, updated_at=now)
    uow.session.add(row)
    try:
        await uow.session.flush()
    except IntegrityError as exc:  # the same id added concurrently
        raise HTTPException(status.HTTP_409_CONFLICT, f"id: staff member {body.id} already exists") from exc
    return await _public(uow, row)


@router.get("")
async def list_staff(
    uow: UowDep, grant: DirectoryReaderDep,
    store_id: Annotated[StoreId | None, Query()] = None,
    role: StaffRole | None = None,
    active: bool | None = None,
) -> list[StaffPublic]:
    # Everyone but admins sees their own store's directory (colleagues' names and work phones).
    store_id = grant.store_filter(store_id)
    query = select(StaffRow)
    if store_id:
        query = query.where(StaffRow.store_id == store_id)
    if role:
        query = query.where(StaffRow.role == role)
    if active is not None:
        query = query.where(StaffRow.active == active)
    rows = (await uow.session.exec(query.order_by(col(StaffRow.store_id), col(StaffRow.id)))).all()
    return [await _public(uow, r) for r in rows]


@router.get("/{staff_id}")
async def get_staff(staff_id: str, uow: UowDep, grant: DirectoryReaderDep) -> StaffPublic:
    row = await _staff(uow, staff_id)
    if grant.principal.subject != staff_id:
        grant.store_filter(row.store_id)
    return await _public(uow, row)


@router.patch("/{staff_id}")
async def update_staff(
    staff_id: str, body: StaffUpdate, uow: UowDep, grant: DirectoryAdminDep
) -> StaffChange:
    row = await _staff(uow, staff_id)
    grant.store_filter(row.store_id)
    if grant.scope is Scope.STORE and row.role == staffing.STORE_MANAGER and row.id != grant.principal.subject:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only admins change store managers")
    now = uow.now()
    was_active = row.active
    if body.name is not None:
        row.name = body.name
    if body.work_phone is not None:
        row.work_phone = body.work_phone
    if body.active is not None:
        row.active = body.active
    row.updated_at = now
    uow.session.add(row)
    await uow.session.flush()
    moved = {"reassigned": 0, "unassigned": 0}
    assigned = 0
    if was_active and not row.active:
        moved = await staffing.reassign_customers(uow, row.id, now, reason="manager_left")
    elif row.active and not was_active and row.role == staffing.ACCOUNT_MANAGER:
        covered = (await uow.session.exec(select(CoverageRow.community_id).where(CoverageRow.manager_id == row.id))).all()
        assigned = await staffing.assign_waiting_vips(uow, list(covered), now)
    return StaffChange(staff=await _public(uow, row), assigned=assigned, **moved)


@router.put("/{staff_id}/communities/{community_id}")
async def cover_community(
    staff_id: str, community_id: str, uow: UowDep, grant: DirectoryAdminDep
) -> CoverageChange:
    """The manager covers the community (idempotent); its VIPs waiting for a manager get one now."""
    row = await _staff(uow, staff_id)
    grant.store_filter(row.store_id)
    if row.role != staffing.ACCOUNT_MANAGER:
        raise HTTPException(status.HTTP_409_CONFLICT, f"staff_id: {staff_id} is a {row.role}; only account managers cover communities")
    if await uow.session.get(CommunityRow, community_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"community_id: no community {community_id}")
    existing = (await uow.session.exec(
        select(CoverageRow).where(CoverageRow.manager_id == staff_id, CoverageRow.community_id == community_id)
    )).first()
    if existing is None:
        # A savepoint, so that the same coverage added by a concurrent request only makes this
        # insert a no-op (the request stays idempotent) instead of failing the whole request.
        with contextlib.suppress(IntegrityError):
            async with uow.session.begin_nested():
                uow.session.add(CoverageRow(manager_id=staff_id, community_id=community_id, created_at=uow.now()))
    assigned = 0
    if row.active:
        assigned = await staffing.assign_waiting_vips(uow, [community_id], uow.now())
    return CoverageChange(manager_id=staff_id, community_id=community_id, assigned=assigned)


@router.delete("/{staff_id}/communities/{community_id}")
async def uncover_community(
    staff_id: str, community_id: str, uow: UowDep, grant: DirectoryAdminDep
) -> CoverageChange:
    """The manager no longer covers the community; their customers there go to its other managers."""
    row = await _staff(uow, staff_id)
    grant.store_filter(row.store_id)
    existing = (await uow.session.exec(
        select(CoverageRow).where(CoverageRow.manager_id == staff_id, CoverageRow.community_id == community_id)
    )).first()
    if existing is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"community_id: {staff_id} does not cover {community_id}")
    await uow.session.delete(existing)
    await uow.session.flush()
    moved = await staffing.reassign_customers(
        uow, staff_id, uow.now(), reason="reassigned", community_id=community_id
    )
    return CoverageChange(manager_id=staff_id, community_id=community_id, **moved)


@assignments.put("/{member_id}/account-manager")
async def assign_manager(member_id: str, body: ManagerAssignment, uow: UowDep, grant: AssignerDep) -> StaffPublic:
    """Manual reassignment: a store manager within their store, an admin anywhere."""
    member = await visible_member(uow, member_id, grant)
    manager = await uow.session.get(StaffRow, body.manager_id)
    if manager is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"manager_id: no staff member {body.manager_id}")
    if manager.role != staffing.ACCOUNT_MANAGER or not manager.active:
        raise HTTPException(status.HTTP_409_CONFLICT, f"manager_id: {body.manager_id} is not an active account manager")
    grant.store_filter(manager.store_id)
    if member.manager_id != manager.id:
        await staffing.reassign_to(uow, member, manager, uow.now())
        await uow.session.flush()
    return await _public(uow, manager)
