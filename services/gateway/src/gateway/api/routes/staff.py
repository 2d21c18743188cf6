"""Admins create, change, deactivate and reactivate staff accounts, set their passwords and second
factor, and read the audit trail of each account."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from gateway.adapters.tables import StaffAccountRow
from gateway.api.staff_schemas import (
    PasswordIn,
    PasswordOut,
    SecondFactorOut,
    StaffAuditEntry,
    StaffIn,
    StaffPublic,
    StaffRole,
    StaffUpdate,
    StaffWithPassword,
)
from gateway.service_layer import second_factor, staff
from gateway.service_layer.identity import Actor
from gateway.service_layer.stores import ensure_store
from shared.auth import Role
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.idempotency import OptionalIdempotencyKey
from shared.identifiers import StoreId
from shared.policy import Grant

router = APIRouter(prefix="/identity/v1/staff", tags=["identity"])
WriterDep = Annotated[Grant, Allowed("gateway.staff.write")]
ReaderDep = Annotated[Grant, Allowed("gateway.staff.read")]
StaffIdPath = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_]+$")]


def _public(row: StaffAccountRow) -> StaffPublic:
    return StaffPublic.model_validate(row, from_attributes=True)


@router.post("", status_code=status.HTTP_201_CREATED, responses={
    200: {"description": "A retry with the same Idempotency-Key: the account, with another generated password"},
    409: {"description": "The login is taken, or the key created another account or one in use since"}})
async def create(
    body: StaffIn, uow: UowDep, grant: WriterDep, response: Response, idempotency_key: OptionalIdempotencyKey = None,
) -> StaffWithPassword:
    """A new account. Without `password` one is generated and answered here, once; a given one is
    never answered back. Sent with an `Idempotency-Key`, a retry after a lost answer is 200 with the
    account (and, for a generated password nobody has seen, another one: the first stops working)
    as long as nobody has logged in to it or changed it, within a day."""
    row, generated, retried = await staff.create(
        uow, Actor.of(grant.principal), login=body.login, name=body.name, role=Role(body.role), store_id=body.store_id,
        account_manager_id=body.account_manager_id, password=body.password, key=idempotency_key,
    )
    if retried:
        response.status_code = status.HTTP_200_OK
    return StaffWithPassword(**_public(row).model_dump(), password=generated)


@router.get("")
async def list_staff(
    uow: UowDep, _: ReaderDep, role: StaffRole | None = None, store_id: Annotated[StoreId | None, Query()] = None,
    include_deactivated: bool = False,
) -> list[StaffPublic]:
    if store_id is not None:  # a store the chain never had would be an empty list, as if nobody worked there
        await ensure_store(uow.session, store_id, closed_too=True)
    rows = await staff.listing(
        uow, role=Role(role) if role else None, store_id=store_id, include_deactivated=include_deactivated,
    )
    return [_public(r) for r in rows]


@router.get("/{staff_id}")
async def get_staff(staff_id: StaffIdPath, uow: UowDep, _: ReaderDep) -> StaffPublic:
    return _public(await staff.get(uow, staff_id))


@router.patch("/{staff_id}")
async def change(staff_id: StaffIdPath, body: StaffUpdate, uow: UowDep, grant: WriterDep) -> StaffPublic:
    """Name, role, store, directory id. The person's next refresh (within a minute) carries it."""
    sent = body.model_fields_set
    what = staff.StaffChange(
        name=body.name, role=Role(body.role) if body.role else None, store_id=body.store_id,
        clear_store="store_id" in sent and body.store_id is None, account_manager_id=body.account_manager_id,
        clear_account_manager="account_manager_id" in sent and body.account_manager_id is None,
    )
    return _public(await staff.change(uow, Actor.of(grant.principal), staff_id, what))


@router.post("/{staff_id}/password")
async def set_password(staff_id: StaffIdPath, body: PasswordIn, uow: UowDep, grant: WriterDep) -> PasswordOut:
    """A new password (given, or generated and answered once); every session of the account ends."""
    return PasswordOut(password=await staff.set_password(uow, Actor.of(grant.principal), staff_id, body.password))


@router.post("/{staff_id}/deactivate")
async def deactivate(staff_id: StaffIdPath, uow: UowDep, grant: WriterDep) -> StaffPublic:
    """No more logins; every session ends, and its last access token expires within a minute."""
    return _public(await staff.deactivate(uow, Actor.of(grant.principal), staff_id))


@router.post("/{staff_id}/reactivate")
async def reactivate(staff_id: StaffIdPath, uow: UowDep, grant: WriterDep) -> StaffPublic:
    return _public(await staff.reactivate(uow, Actor.of(grant.principal), staff_id))


@router.post("/{staff_id}/totp")
async def enroll_second_factor(staff_id: StaffIdPath, uow: UowDep, grant: WriterDep) -> SecondFactorOut:
    """A new TOTP seed for an admin or a store manager (replacing any earlier one); from now on
    their login needs a code. The URI is answered once, for the person's authenticator app."""
    return SecondFactorOut(otpauth_uri=await second_factor.enroll(uow, Actor.of(grant.principal), staff_id))


@router.delete("/{staff_id}/totp")
async def remove_second_factor(staff_id: StaffIdPath, uow: UowDep, grant: WriterDep) -> StaffPublic:
    """For a lost phone: logging in needs the password only, until enrolled again."""
    return _public(await second_factor.remove(uow, Actor.of(grant.principal), staff_id))


@router.get("/{staff_id}/audit")
async def audit(staff_id: StaffIdPath, uow: UowDep, _: ReaderDep) -> list[StaffAuditEntry]:
    return [StaffAuditEntry.model_validate(r, from_attributes=True) for r in await staff.audit_trail(uow, staff_id)]
