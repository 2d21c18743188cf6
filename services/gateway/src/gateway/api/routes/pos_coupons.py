"""POS: coupons at the till, forwarded to the campaigns service with the till's own token.

The till validates the codes a customer shows against its basket, reserves them for the sale it is
ringing up (keyed by its transaction), and releases them when the sale is voided; the sale itself
then names the codes in `coupons` (docs/events.md). Campaigns owns the bodies and the answers
(discount per code, or a reason in Chinese and English) and enforces the till's store binding
itself; the gateway refuses a foreign store early, as it does for sales, and relays the answer
unchanged. Calls get the till's short budget (`pos_coupon_timeout_s`): a campaigns service that
cannot be reached is 503, one that does not answer in time 504, and the till goes on without the
coupon or retries (reserve and release are keyed by the till's transaction, so a retry is safe).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from gateway.api.routes.passthrough import forward
from shared.authorize import Allowed
from shared.errors import InvalidBodyField
from shared.policy import Grant

router = APIRouter(prefix="/pos/v1/coupons", tags=["pos"])
PosDep = Annotated[Grant, Allowed("gateway.pos.coupons")]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"description": "The campaigns service cannot be reached"},
    504: {"description": "The campaigns service did not answer within the till's budget"},
}
# The body is campaigns' to define and check (its /v1/coupons/* operations); the gateway reads only
# `store_id`, if present, and forwards the bytes as sent.
CouponBody = Annotated[dict[str, Any], Body(description="As the campaigns service's /v1/coupons/* operation takes it")]


async def _forward(request: Request, grant: Grant, body: dict[str, Any], path: str, *, open_store: bool = True) -> Response:
    """`open_store`: the store must be open for business, as for the sale the codes are for (a
    closed store's sale is refused, so its codes are neither priced nor held); giving codes back
    is always allowed."""
    store_id = body.get("store_id")
    if isinstance(store_id, str):
        grant.ensure_store(store_id)
        if open_store:
            await request.app.state.open_stores.ensure(request.app.state.commands, store_id, kind=InvalidBodyField)
    return await forward(request, "campaigns", path, timeout=request.app.state.settings.pos_coupon_timeout_s)


@router.post("/validate", summary="What each code would take off this basket, or why it cannot be used", responses=_RESPONSES)
async def validate(body: CouponBody, grant: PosDep, request: Request) -> Response:
    return await _forward(request, grant, body, "/v1/coupons/validate")


@router.post("/reserve", summary="Hold the codes for this till transaction until the sale or a release", responses=_RESPONSES)
async def reserve(body: CouponBody, grant: PosDep, request: Request) -> Response:
    return await _forward(request, grant, body, "/v1/coupons/reserve")


@router.post("/release", summary="Give back the codes held for a voided or abandoned transaction", responses=_RESPONSES)
async def release(body: CouponBody, grant: PosDep, request: Request) -> Response:
    return await _forward(request, grant, body, "/v1/coupons/release", open_store=False)
