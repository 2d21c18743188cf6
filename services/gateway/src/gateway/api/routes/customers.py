"""The customer-360 view."""

from fastapi import APIRouter, HTTPException, Request, status

from gateway.api.schemas import Customer360
from gateway.service_layer.customer360 import MemberNotFound, customer_360
from shared.deps import StaffOrMemberDep

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


@router.get("/{member_id}/360")
async def get_customer_360(member_id: str, principal: StaffOrMemberDep, request: Request) -> Customer360:
    """Profile (contact details masked unless the caller's role needs them), spend, recent purchases
    and points; sections whose service is down are listed under `unavailable`."""
    if principal.role == "member" and principal.member_id != member_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "members may only read their own view")
    state = request.app.state
    try:
        return await customer_360(
            state.downstream, member_id, f"Bearer {principal.token}", state.settings.downstream_timeout_s
        )
    except MemberNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no member {member_id}") from exc
