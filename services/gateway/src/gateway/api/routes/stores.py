"""The stores the gateway accepts POS traffic for."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlmodel import select

from gateway.adapters.tables import StoreRow
from gateway.api.schemas import StoreAuditEntry, StoreIn, StorePublic
from gateway.domain.identity import Actor
from gateway.service_layer.stores import audit_trail, save_store
from shared.authorize import Allowed
from shared.deps import CommandsDep, UowDep
from shared.identifiers import StoreId
from shared.policy import Grant

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])
AdminDep = Annotated[Grant, Allowed("gateway.store.write")]
ReaderDep = Annotated[Grant, Allowed("gateway.store.read")]
AuditReaderDep = Annotated[Grant, Allowed("gateway.store.audit")]
StoreIdPath = Annotated[StoreId, Path()]


@router.put("/{store_id}")
async def put_store(store_id: StoreIdPath, body: StoreIn, commands: CommandsDep, request: Request, grant: AdminDep) -> StorePublic:
    """Create or update a store (idempotent). Every save is announced to the other services
    (`crm.gateway.store_changed.v1`): customer messages name the store by the name kept here.
    `active` left out keeps the store open or closed as it is (a new store opens). What changed
    (added, renamed, closed, reopened) is written to the store's audit trail."""
    active = body.active if "active" in body.model_fields_set else None
    actor = Actor.of(grant.principal)
    row = await commands.run(lambda uow: save_store(uow, actor, store_id, body.name, body.city, active))
    # Once committed: a check reading the store before the commit would remember it open again.
    request.app.state.open_stores.forget(store_id)
    return StorePublic.model_validate(row, from_attributes=True)


@router.get("")
async def list_stores(uow: UowDep, grant: ReaderDep) -> list[StorePublic]:
    """The chain's stores; a till, whose reach is its own store, gets that one."""
    query = select(StoreRow).order_by(StoreRow.store_id)
    if (only := grant.store_filter(None)) is not None:
        query = query.where(StoreRow.store_id == only)
    rows = (await uow.session.exec(query)).all()
    return [StorePublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/{store_id}/audit")
async def audit(store_id: StoreIdPath, uow: UowDep, _: AuditReaderDep) -> list[StoreAuditEntry]:
    """Who added, renamed, closed and reopened the store, when, oldest first; 404 for a store the
    chain never had."""
    return [StoreAuditEntry.model_validate(r, from_attributes=True) for r in await audit_trail(uow, store_id)]
