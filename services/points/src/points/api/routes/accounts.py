"""A member's points account and ledger."""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from points.adapters.tables import AccountRow, LedgerRow
from points.api.schemas import AccountPublic, LedgerEntryPublic, LedgerPage
from shared.authorize import Allowed
from shared.deps import ReadUowDep
from shared.errors import NotFound
from shared.integers import Int64
from shared.policy import Grant

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


async def _account(uow, member_id: str) -> AccountRow:
    account = await uow.session.get(AccountRow, member_id)
    if account is None:
        raise NotFound(f"no points account for member {member_id}")
    return account


async def _entries(uow, member_id: str, limit: int, before_id: int | None = None) -> list[LedgerEntryPublic]:
    query = select(LedgerRow).where(LedgerRow.member_id == member_id)
    if before_id is not None:
        query = query.where(col(LedgerRow.id) < before_id)
    rows = (await uow.session.exec(query.order_by(col(LedgerRow.id).desc()).limit(limit))).all()
    return [LedgerEntryPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/{member_id}", summary="Balance and the latest ledger entries")
async def get_account(
    member_id: str, uow: ReadUowDep, _: Annotated[Grant, Allowed("points.account.read")], entries: Annotated[Int64, Query(ge=0, le=200)] = 20
) -> AccountPublic:
    account = await _account(uow, member_id)
    return AccountPublic(
        member_id=account.member_id, channel=account.channel, balance=account.balance,
        redemptions_blocked=account.balance < 0, opened_at=account.opened_at,
        entries=await _entries(uow, member_id, entries),
    )


@router.get("/{member_id}/ledger", summary="The whole ledger, newest first, page by page")
async def get_ledger(
    member_id: str, uow: ReadUowDep, _: Annotated[Grant, Allowed("points.account.read")],
    limit: Annotated[Int64, Query(ge=1, le=500)] = 100, before_id: Annotated[Int64 | None, Query(ge=1)] = None,
) -> LedgerPage:
    await _account(uow, member_id)
    entries = await _entries(uow, member_id, limit, before_id)
    return LedgerPage(member_id=member_id, entries=entries, next_before_id=entries[-1].id if len(entries) == limit else None)
