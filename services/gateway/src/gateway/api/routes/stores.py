"""The stores the gateway accepts POS traffic for."""

from typing import Annotated

from fastapi import APIRouter, Path
from sqlmodel import select

from gateway.adapters.tables import StoreRow
from gateway.api.schemas import StoreIn, StorePublic
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.identifiers import StoreId
from shared.policy import Grant

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])
AdminDep = Annotated[Grant, Allowed("gateway.store.write")]
ReaderDep = Annotated[Grant, Allowed("gateway.store.read")]
StoreIdPath = Annotated[StoreId, Path()]


@router.put("/{store_id}")
async def put_store(store_id: StoreIdPath, body: StoreIn, uow: UowDep, _: AdminDep) -> StorePublic:
    """Create or update a store (idempotent)."""
    row = await uow.session.get(StoreRow, store_id)
    if row is None:
        row = StoreRow(store_id=store_id, created_at=uow.now(), **body.model_dump())
    else:
        for key, value in body.model_dump().items():
            setattr(row, key, value)
    uow.session.add(row)
    await uow.session.flush()
    return StorePublic.model_validate(row, from_attributes=True)


@router.get("")
async def list_stores(uow: UowDep, _: ReaderDep) -> list[StorePublic]:
    rows = (await uow.session.exec(select(StoreRow).order_by(StoreRow.store_id))).all()
    return [StorePublic.model_validate(r, from_attributes=True) for r in rows]
