"""A member's points account and ledger."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import BigInteger, Row, bindparam, select

from points.adapters.tables import AccountRow, LedgerRow
from points.api.schemas import AccountPublic, LedgerEntryPublic, LedgerPage
from shared.authorize import Allowed
from shared.deps import ReadUowDep
from shared.errors import Invalid, NotFound
from shared.integers import Int64
from shared.policy import Grant
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])


_A, _L = AccountRow.__table__.c, LedgerRow.__table__.c  # type: ignore[attr-defined]
# Built once, read as plain rows: the customer-360 view reads an account on every view, where the
# ORM's identity map and loading cost more of the request than running the statements.
_ACCOUNT = select(_A.member_id, _A.channel, _A.balance, _A.opened_at).where(_A.member_id == bindparam("member_id"))
_ENTRY_COLUMNS = [_L[name] for name in LedgerEntryPublic.model_fields]
_LATEST = (
    select(*_ENTRY_COLUMNS).where(_L.member_id == bindparam("member_id")).order_by(_L.id.desc()).limit(bindparam("limit"))
)
# The id a page goes on after is any the API takes (Int64): bound as such, not as the column's
# integer, which PostgreSQL's driver refuses to send past 2**31 (a 500, not an empty page).
_BEFORE = bindparam("before_id", type_=BigInteger)
_OLDER = _LATEST.where(_L.id < _BEFORE)
_IS_MEMBERS = select(_L.id).where(_L.id == _BEFORE, _L.member_id == bindparam("member_id"))


async def _account(uow: UnitOfWork, member_id: str) -> Row[Any]:
    account = (await uow.session.exec(_ACCOUNT, params={"member_id": member_id})).first()  # type: ignore[call-overload]
    if account is None:
        raise NotFound(f"no points account for member {member_id}")
    return account


async def _entries(uow: UnitOfWork, member_id: str, limit: int, before_id: int | None = None) -> list[LedgerEntryPublic]:
    params: dict[str, Any] = {"member_id": member_id, "limit": limit}
    if before_id is not None:
        params["before_id"] = before_id
    rows = (await uow.session.exec(_LATEST if before_id is None else _OLDER, params=params)).all()  # type: ignore[call-overload]
    return [LedgerEntryPublic.model_validate(row._mapping) for row in rows]


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
    # A page goes on after an entry of the previous one: an id that is not the member's (another's,
    # or made up) names no place in their ledger, and is refused rather than read as one.
    if before_id is not None and (await uow.session.exec(  # type: ignore[call-overload]
            _IS_MEMBERS, params={"before_id": before_id, "member_id": member_id})).first() is None:
        raise Invalid("before_id", f"no ledger entry {before_id} of member {member_id}: name the last entry of the page before")
    # One entry more than the page, to tell the last page (no next) from one exactly full.
    entries = await _entries(uow, member_id, limit + 1, before_id)
    more = len(entries) > limit
    entries = entries[:limit]
    return LedgerPage(member_id=member_id, entries=entries, next_before_id=entries[-1].id if more else None)
