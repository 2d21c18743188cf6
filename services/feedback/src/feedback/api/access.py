"""Who sees and handles which complaints.

A member: their own. Service desk and store manager: their store (principal.store_id). An account
manager: complaints assigned to them. Admin: everything. Reading a customer's complaints as part of
their archive (a list filtered by member) is open to every staff role, without the free text.
"""

from fastapi import HTTPException, status

from feedback.adapters.tables import ComplaintRow
from shared.auth import Principal, Role

HANDLING_ROLES = (Role.SERVICE_DESK, Role.STORE_MANAGER, Role.ACCOUNT_MANAGER, Role.ADMIN)


def can_handle(p: Principal, row: ComplaintRow) -> bool:
    if p.role == Role.ADMIN:
        return True
    if p.role in (Role.SERVICE_DESK, Role.STORE_MANAGER):
        return p.store_id is not None and p.store_id == row.store_id
    if p.role == Role.ACCOUNT_MANAGER:
        return row.assignee == p.subject
    return False


def can_read(p: Principal, row: ComplaintRow) -> bool:
    return row.member_id is not None and p.is_member(row.member_id) if p.role == Role.MEMBER else can_handle(p, row)


def ensure_readable(p: Principal, row: ComplaintRow) -> None:
    if not can_read(p, row):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"complaint {row.id} is not yours to see")


def ensure_handler(p: Principal, row: ComplaintRow) -> None:
    if not can_handle(p, row):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"complaint {row.id} is not in your queue or store")


def own_store(p: Principal) -> str:
    if not p.store_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"a {p.role} token must name its store")
    return p.store_id
