"""Register, find and read members."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import func
from sqlmodel import select

from members.adapters.tables import MemberRow, PurchaseLineRow, PurchaseRow
from members.api.deps import RegistrarDep
from members.api.presenters import member_public, purchase_public
from members.api.schemas import PHONE_PATTERN, MemberCreate, MemberPage, MemberPublic, PurchasePublic
from members.service_layer.handlers import MemberConflict, register_member
from shared.auth import Principal
from shared.deps import SettingsDep, StaffDep, StaffOrMemberDep, UowDep
from shared.pseudonyms import phone_hmac

router = APIRouter(prefix="/v1/members", tags=["members"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_member(body: MemberCreate, uow: UowDep, principal: RegistrarDep, settings: SettingsDep) -> MemberPublic:
    try:
        member = await register_member(uow, body, settings.resolved_pepper())
    except MemberConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return member_public(member, principal)


@router.get("")
async def find_members(
    uow: UowDep,
    principal: StaffDep,
    settings: SettingsDep,
    card_no: Annotated[str | None, Query(max_length=32)] = None,
    phone: Annotated[str | None, Query(pattern=PHONE_PATTERN)] = None,
    community: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> MemberPage:
    query = select(MemberRow)
    if card_no:
        query = query.where(MemberRow.card_no == card_no)
    if phone:
        # Looked up through the digest index, the same way POS phone sales are matched.
        query = query.where(MemberRow.phone_hmac == phone_hmac(phone, settings.resolved_pepper()))
    if community:
        query = query.where(MemberRow.community == community)
    total = (await uow.session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = (await uow.session.exec(query.order_by(MemberRow.created_at.desc()).offset(offset).limit(limit))).all()  # type: ignore[attr-defined]
    return MemberPage(items=[member_public(r, principal) for r in rows], total=total, limit=limit, offset=offset)


async def _visible_member(uow: UowDep, member_id: str, principal: Principal) -> MemberRow:
    if principal.role == "member" and principal.member_id != member_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "members may only read their own data")
    member = await uow.session.get(MemberRow, member_id)
    if member is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no member {member_id}")
    return member


@router.get("/{member_id}")
async def get_member(member_id: str, uow: UowDep, principal: StaffOrMemberDep) -> MemberPublic:
    return member_public(await _visible_member(uow, member_id, principal), principal)


@router.get("/{member_id}/purchases")
async def member_purchases(
    member_id: str, uow: UowDep, principal: StaffOrMemberDep, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[PurchasePublic]:
    await _visible_member(uow, member_id, principal)
    purchases = (
        await uow.session.exec(
            select(PurchaseRow)
            .where(PurchaseRow.member_id == member_id)
            .order_by(PurchaseRow.occurred_at.desc())  # type: ignore[attr-defined]
            .limit(limit)
        )
    ).all()
    ids = [p.id for p in purchases]
    lines = (await uow.session.exec(select(PurchaseLineRow).where(PurchaseLineRow.purchase_id.in_(ids)))).all() if ids else []  # type: ignore[attr-defined]
    by_purchase: dict[int, list[PurchaseLineRow]] = {}
    for line in lines:
        by_purchase.setdefault(line.purchase_id, []).append(line)
    return [purchase_public(p, by_purchase.get(p.id, [])) for p in purchases]  # type: ignore[arg-type]
