"""POS: coupons at the till, forwarded to the campaigns service with the till's own token.

The till validates the codes a customer shows against its basket, reserves them for the sale it is
ringing up (keyed by its transaction), and releases them when the sale is voided; the sale itself
then names the codes in `coupons` (docs/events.md). Campaigns owns the bodies and the answers
(discount per code, or a reason in Chinese and English) and enforces the till's store binding
itself; the gateway refuses a foreign store early, as it does for sales, and relays the answer
unchanged. Calls get the till's short budget (`pos_coupon_timeout_s`): a campaigns service that
cannot be reached is 503, one that does not answer in time 504, and the till goes on without the
coupon or retries (reserve and release are keyed by the till's transaction, so a retry is safe).

The customer (`member` of validate and reserve) is named as a sale names them (`PosMember`): the
card they show, or the phone they give without it. Campaigns keeps no phones: a phone is found
through members as the points preview finds it (`api.till_customers`, with the till's one budget of
phone look-ups), and campaigns is sent the body with `member: {"member_id": ...}` in its place, or
without `member` for a phone that is no member's (a sale without a card: a member's own coupon is
`member_required`). The phone goes no further than members' request body.
"""

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from gateway.api.routes.passthrough import forward
from gateway.api.till_customers import services_customer
from gateway.domain.sales import PosMember
from shared.authorize import Allowed
from shared.deps import NowDep
from shared.errors import InvalidBodyField
from shared.policy import Grant

router = APIRouter(prefix="/pos/v1/coupons", tags=["pos"])
PosDep = Annotated[Grant, Allowed("gateway.pos.coupons")]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"description": "The campaigns service cannot be reached"},
    504: {"description": "The campaigns service did not answer within the till's budget"},
}
# The body is campaigns' to define and check (its /v1/coupons/* operations); the gateway reads only
# `store_id`, if present, and validate's and reserve's `member`, and forwards the bytes as sent but
# for a customer named by phone.
CouponBody = Annotated[dict[str, Any], Body(description="As the campaigns service's /v1/coupons/* operation takes it")]


async def _forward(request: Request, grant: Grant, body: dict[str, Any], path: str, now: datetime | None = None, *,
                   open_store: bool = True) -> Response:
    """`open_store`: the store must be open for business, as for the sale the codes are for (a
    closed store's sale is refused, so its codes are neither priced nor held); giving codes back
    is always allowed. `now`: for validate and reserve, whose `member` may name a phone
    (`_for_campaigns`), looked up only once the store is the till's own and open."""
    store_id = body.get("store_id")
    if isinstance(store_id, str):
        grant.ensure_store(store_id)
        if open_store:
            await request.app.state.open_stores.ensure(request.app.state.commands, store_id, kind=InvalidBodyField)
    content = None if now is None else await _for_campaigns(request, grant, body, now)
    return await forward(request, "campaigns", path, timeout=request.app.state.settings.pos_coupon_timeout_s, content=content)


async def _for_campaigns(request: Request, grant: Grant, body: dict[str, Any], now: datetime) -> bytes | None:
    """The body campaigns is to get when `member` names a phone (None: the till's own, as sent).
    A `member` is held to a sale's rule (`PosMember`: card or phone, exactly one, nothing else, so
    a till cannot name a member id); a bad one is 422 naming it, as in a sale."""
    member = body.get("member")
    if member is None:
        return None
    try:
        customer = PosMember.model_validate(member)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", "member", *e["loc"])} for e in exc.errors()]) from None
    if customer.phone is None:
        return None
    found = await services_customer(customer, grant, request, now, timeout=request.app.state.settings.pos_coupon_timeout_s)
    sent = {key: value for key, value in body.items() if key != "member"}
    if found:
        sent["member"] = found
    return json.dumps(sent, ensure_ascii=False).encode()


@router.post("/validate", summary="What each code would take off this basket, or why it cannot be used", responses=_RESPONSES)
async def validate(body: CouponBody, grant: PosDep, request: Request, now: NowDep) -> Response:
    return await _forward(request, grant, body, "/v1/coupons/validate", now)


@router.post("/reserve", summary="Hold the codes for this till transaction until the sale or a release", responses=_RESPONSES)
async def reserve(body: CouponBody, grant: PosDep, request: Request, now: NowDep) -> Response:
    return await _forward(request, grant, body, "/v1/coupons/reserve", now)


@router.post("/release", summary="Give back the codes held for a voided or abandoned transaction", responses=_RESPONSES)
async def release(body: CouponBody, grant: PosDep, request: Request) -> Response:
    return await _forward(request, grant, body, "/v1/coupons/release", open_store=False)
