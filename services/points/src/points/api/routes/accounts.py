"""Read a member's points account and recent ledger entries."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlmodel import select

from points.adapters.tables import AccountRow, LedgerRow
from points.api.schemas import AccountPublic, LedgerEntryPublic
from shared.deps import StaffOrMemberDep, UowDep

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


@router.get("/{member_id}")
async def get_account(
    member_id: str, uow: UowDep, principal: StaffOrMemberDep, entries: Annotated[int, Query(ge=0, le=200)] = 20
) -> AccountPublic:
    if principal.role == "member" and principal.member_id != member_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "members may only read their own account")
    account = await uow.session.get(AccountRow, member_id)
    if account is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no points account for member {member_id}")
    rows = (
        await uow.session.exec(
            select(LedgerRow).where(LedgerRow.member_id == member_id).order_by(LedgerRow.id.desc()).limit(entries)  # type: ignore[union-attr]
        )
    ).all()
    return AccountPublic(
        member_id=account.member_id,
        channel=account.channel,
        balance=account.balance,
        opened_at=account.opened_at,
        entries=[LedgerEntryPublic.model_validate(r, from_attributes=True) for r in rows],
    )
