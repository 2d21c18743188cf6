"""A member's coupons and latest messages in one request, for the customer-360 view.

Asked apart, the wallet and the messages cost campaigns two requests and two checks of access a
view, and the gateway two calls; this is the same two readers behind one check.
"""

from typing import Annotated

from fastapi import APIRouter, Query

from campaigns.api.overview_schemas import MemberOverview
from campaigns.api.routes.coupons import wallet_coupons
from campaigns.api.routes.messages import member_messages
from shared.authorize import Allowed
from shared.deps import ReadUowDep
from shared.integers import Int64
from shared.policy import Grant

router = APIRouter(tags=["members"])


@router.get("/v1/members/{member_id}/overview", summary="A member's coupons and latest messages")
async def overview(
    member_id: str, uow: ReadUowDep, grant: Annotated[Grant, Allowed("campaigns.overview.read")],
    messages: Annotated[Int64, Query(ge=1, le=500, description="How many of the latest messages")] = 10,
) -> MemberOverview:
    return MemberOverview(
        coupons=await wallet_coupons(uow, member_id),
        messages=await member_messages(uow, member_id, grant, limit=messages, offset=0),
    )
