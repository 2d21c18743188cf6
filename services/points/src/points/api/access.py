"""Who may do what in the points service.

Members read only their own account, ledger and entitlements. Staff roles may read any member's
points: row-level limits on staff (e.g. an account manager's own communities) are owned by the
members service, which guards the personal data; points holds ids and numbers only. A staff or POS
token bound to a store may only act for that store.
"""

from typing import Annotated

from fastapi import Depends, Header, HTTPException, status

from shared.auth import STAFF, Principal, Role, require

DeskDep = Annotated[Principal, Depends(require(Role.SERVICE_DESK, Role.STORE_MANAGER, Role.ADMIN))]
ManagerDep = Annotated[Principal, Depends(require(Role.STORE_MANAGER, Role.ADMIN))]
AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]
ReaderDep = Annotated[Principal, Depends(require(*STAFF, Role.MEMBER))]
PreviewDep = Annotated[Principal, Depends(require(*STAFF, Role.POS))]

IdempotencyKey = Annotated[
    str, Header(alias="Idempotency-Key", min_length=8, max_length=200, description="Unique per intended operation; retries reuse it")
]
OptionalIdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=8, max_length=200)]


def check_member_access(principal: Principal, member_id: str) -> None:
    if principal.role == Role.MEMBER and principal.member_id != member_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "members may only read their own points")


def check_store(principal: Principal, store_id: str) -> None:
    if principal.store_id is not None and principal.store_id != store_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this token is bound to store {principal.store_id}, not {store_id}")
