"""The admins' page of a store on the console: the store as the gateway keeps it (name, city, open
or closed) and its audit trail, who added, renamed, closed and reopened it, under the store API's
policy action (`gateway.store.audit`) and through the same service layer
(`service_layer.stores.audit_trail`). Stores are changed through `PUT /api/v1/stores/{id}`."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from gateway.adapters.tables import StoreRow
from gateway.api.console.render import page
from gateway.api.console.session import Console, ConsoleUser
from gateway.service_layer.console_people import display_names
from gateway.service_layer.stores import audit_trail
from shared.deps import ReadUowDep
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(prefix="/console/stores", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
Reader = Annotated[ConsoleUser, Console("gateway.store.audit")]


@router.get("/{store_id}")
async def store(store_id: str, request: Request, uow: ReadUowDep, user: Reader) -> HTMLResponse:
    """The store and its audit trail, newest first, by the names of those who acted."""
    trail = await audit_trail(uow, store_id)
    row = await uow.session.get(StoreRow, store_id)
    names = await display_names(uow, [entry.actor for entry in trail])
    return page(request, "stores/store.html", user, store=row, trail=list(reversed(trail)), staff_names=names)
