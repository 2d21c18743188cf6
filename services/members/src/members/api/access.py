"""Row-level permissions: which members a caller may see.

Roles decide what kind of data a caller gets (contact details or not, see `presenters`); these
rules decide which customers: an account manager works only their own customers, a store manager
only their store's (the member's home store), a member only themselves. The service desk serves
walk-in customers of any store, and marketing and admins work across the chain (marketing never
sees contact details).
"""

from fastapi import HTTPException, status
from sqlalchemy import ColumnElement, false

from members.adapters.tables import MemberRow
from shared.auth import Principal, Role
from shared.unit_of_work import UnitOfWork


def member_scope(principal: Principal) -> list[ColumnElement[bool]]:
    """WHERE conditions limiting a member query to what the caller may see."""
    match principal.role:
        case Role.ACCOUNT_MANAGER:
            return [MemberRow.manager_id == principal.subject]
        case Role.STORE_MANAGER:
            return [MemberRow.home_store_id == principal.store_id] if principal.store_id else [false()]
        case Role.MEMBER:
            return [MemberRow.id == principal.member_id] if principal.member_id else [false()]
        case Role.SERVICE_DESK | Role.MARKETING | Role.ADMIN:
            return []
        case _:
            return [false()]


def may_see(principal: Principal, member: MemberRow) -> bool:
    match principal.role:
        case Role.ACCOUNT_MANAGER:
            return member.manager_id == principal.subject
        case Role.STORE_MANAGER:
            return principal.store_id is not None and member.home_store_id == principal.store_id
        case Role.MEMBER:
            return principal.member_id == member.id
        case Role.SERVICE_DESK | Role.MARKETING | Role.ADMIN:
            return True
        case _:
            return False


async def visible_member(uow: UnitOfWork, member_id: str, principal: Principal) -> MemberRow:
    """The member, if it exists and the caller may see it (404 / 403 otherwise)."""
    member = await uow.session.get(MemberRow, member_id)
    if member is None:
        if principal.role == Role.MEMBER and principal.member_id != member_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "members may only read their own data")
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no member {member_id}")
    if not may_see(principal, member):
        raise HTTPException(status.HTTP_403_FORBIDDEN, _refusal(principal))
    return member


def _refusal(principal: Principal) -> str:
    match principal.role:
        case Role.ACCOUNT_MANAGER:
            return "account managers may only read the customers assigned to them"
        case Role.STORE_MANAGER:
            return "store managers may only read the customers of their own store"
        case Role.MEMBER:
            return "members may only read their own data"
        case _:
            return f"role {principal.role} may not read member data"
