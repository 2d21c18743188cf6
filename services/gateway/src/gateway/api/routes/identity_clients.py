"""Admins enroll tills and services, rotate and revoke their credentials, and read the audit trail."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from gateway.adapters.tables import IdentityClientRow
from gateway.api.schemas import AuditEntry, ClientIn, ClientPublic, ClientWithSecret
from gateway.domain.identity import ClientKind
from gateway.service_layer import identity
from gateway.service_layer.identity import Actor
from gateway.service_layer.stores import ensure_store
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.identifiers import StoreId
from shared.policy import Grant

router = APIRouter(prefix="/identity/v1/clients", tags=["identity"])
WriterDep = Annotated[Grant, Allowed("gateway.identity_client.write")]
ReaderDep = Annotated[Grant, Allowed("gateway.identity_client.read")]
ClientIdPath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


def _with_secret(row: IdentityClientRow, secret: str) -> ClientWithSecret:
    return ClientWithSecret(**ClientPublic.model_validate(row, from_attributes=True).model_dump(), client_secret=secret)


@router.post("", status_code=status.HTTP_201_CREATED)
async def enroll(body: ClientIn, uow: UowDep, grant: WriterDep) -> ClientWithSecret:
    """Enroll a till for its store or a service by its name; the answer holds the secret, once."""
    row, secret = await identity.enroll(
        uow, Actor.of(grant.principal), body.kind, store_id=body.store_id, service=body.service, label=body.label,
    )
    return _with_secret(row, secret)


@router.get("")
async def list_clients(
    uow: UowDep, _: ReaderDep, kind: ClientKind | None = None, store_id: Annotated[StoreId | None, Query()] = None,
    include_revoked: bool = False,
) -> list[ClientPublic]:
    if store_id is not None:  # a store the chain never had would be an empty list, as if it had no tills
        await ensure_store(uow.session, store_id, closed_too=True)
    rows = await identity.listing(uow, kind=kind, store_id=store_id, include_revoked=include_revoked)
    return [ClientPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/{client_id}")
async def get_client(client_id: ClientIdPath, uow: UowDep, _: ReaderDep) -> ClientPublic:
    return ClientPublic.model_validate(await identity.get(uow, client_id), from_attributes=True)


@router.post("/{client_id}/rotate")
async def rotate(client_id: ClientIdPath, uow: UowDep, grant: WriterDep) -> ClientWithSecret:
    """A new secret, shown once; the old one stops working at once."""
    row, secret = await identity.rotate(uow, Actor.of(grant.principal), client_id)
    return _with_secret(row, secret)


@router.post("/{client_id}/revoke")
async def revoke(client_id: ClientIdPath, request: Request, uow: UowDep, grant: WriterDep) -> ClientPublic:
    """No new token for this client, ever. A till's tokens are refused by the gateway at once here
    and within CRM_IDENTITY_REVOCATION_REFRESH_S at its other replicas; a service's token lives out
    its few minutes."""
    row = await identity.revoke(uow, Actor.of(grant.principal), client_id, request.app.state.revoked_tills)
    return ClientPublic.model_validate(row, from_attributes=True)


@router.get("/{client_id}/audit")
async def audit(client_id: ClientIdPath, uow: UowDep, _: ReaderDep) -> list[AuditEntry]:
    return [AuditEntry.model_validate(r, from_attributes=True) for r in await identity.audit_trail(uow, client_id)]
