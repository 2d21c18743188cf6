"""The customer-360 view."""

from typing import Annotated

from fastapi import APIRouter, Request

from gateway.api.schemas import Customer360
from gateway.service_layer.customer360 import customer_360
from shared.authorize import Allowed
from shared.policy import Grant

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
