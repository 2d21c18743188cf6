"""The customer-360 view, and a customer's privacy requests made at a desk or in writing, answered by
head office: a copy of their data, their erasure."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.api.app_deps import Calls
from gateway.api.schemas import Customer360
from gateway.service_layer.app import erase, export
from gateway.service_layer.customer360 import customer_360
from shared.authorize import Allowed
from shared.policy import Grant
from shared.reports import member_export_file

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


@router.get("/{member_id}/360")
async def get_customer_360(
    member_id: str, grant: Annotated[Grant, Allowed("gateway.customer360.read")], request: Request
) -> Customer360:
    """Profile (contact details masked unless the caller's role needs them), spend, recent purchases
    and points; sections whose service is down are listed under `unavailable`. Refused whole (403)
    when any service refuses the caller this customer: a view never shows the parts a caller may
    see of a customer who is not theirs. Views beyond the gateway's admission limit wait their turn
    (503 with Retry-After when the wait passes its budget)."""
    state = request.app.state
    async with state.customer360_admission.admit():
        return await customer_360(
            state.downstream, member_id, f"Bearer {grant.principal.token}", state.settings.downstream_timeout_s
        )


@router.post("/{member_id}/export", summary="A copy of everything the platform keeps about a customer, for their request "
                                            "made at a desk or in writing: the document the member app's export gives them")
async def export_customer(member_id: str, _: Annotated[Grant, Allowed("gateway.privacy.export")], calls: Calls) -> JSONResponse:
    """Read with the caller's own token, so every service checks for itself that the caller may
    export this customer; members records the export in the customer's access log, under the
    caller's name, and refuses it for a customer it does not have or the caller may not export
    (then nothing else is read). POST: it is recorded, not a cacheable read."""
    return JSONResponse(await export(calls, member_id), headers=member_export_file(member_id))


@router.post("/{member_id}/erasure", summary="Erase a customer at their request made at a desk or in writing, as the "
                                             "member app's erasure does: their sign-ins end at once")
async def erase_customer(member_id: str, _: Annotated[Grant, Allowed("gateway.privacy.erase")], calls: Calls,
                         request: Request) -> dict[str, Any]:
    """members decides with the caller's own token and records who asked; a second erasure is its 409."""
    return await erase(calls, request.app.state.commands, request.app.state.revoked_members, member_id)
