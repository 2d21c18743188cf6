"""POS: how many points a basket would earn, asked of the points service with the till's token.

The till sends its basket as it would post the sale, with the coupons and discounts it will
carry, and names the customer as the sale does: the card they show, or the phone they give
without it (`TillCustomer`; a phone is found through members, `api.till_customers`). The
gateway checks the store binding and the discounts by the sale's rules and passes the lines and
what is taken off them on. Points earn on what is paid, so a preview without the discounts would
promise more than the sale earns. Points checks the token itself and books nothing.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Annotated

import httpx
from fastapi import APIRouter, Request, Response
from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

from gateway.adapters.clients import answered_by
from gateway.api.till_customers import services_customer
from gateway.domain.pos import future_time_problem
from gateway.domain.sales import TillCustomer
from gateway.service_layer.pos import InvalidField
from shared.authorize import Allowed
from shared.coupon_codes import CouponCode
from shared.deps import NowDep
from shared.events.contracts import SaleLineIn, SaleTime
from shared.events.contracts.pos import DiscountIn, discounts_fit, sum_of_discounts
from shared.identifiers import StoreId
from shared.money import Money
from shared.policy import Grant

router = APIRouter(prefix="/pos/v1/points", tags=["pos"])
PosDep = Annotated[Grant, Allowed("gateway.pos.preview")]


_MONEY = TypeAdapter(Money)


class BasketIn(TillCustomer):
    # As for a sale: a till that sends the card the way a sale does (`member`) must hear so (an
    # unknown field, refused), not be answered for an unknown card at retail rates. The customer
    # is `card_no` or `phone`, never both; a basket with neither is previewed at retail rates
    # (`member_known: false`): what the customer would earn by joining.
    store_id: StoreId
    occurred_at: SaleTime | None = Field(default=None, description="Defaults to now")
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500)
    coupons: list[CouponCode] = Field(default_factory=list, max_length=20)
    discounts: list[DiscountIn] = Field(default_factory=list, max_length=50, description="As the sale will carry them")

    _discounts_fit = model_validator(mode="after")(discounts_fit)

    @field_validator("lines")
    @classmethod
    def _total_fits(cls, lines: list[SaleLineIn]) -> list[SaleLineIn]:
        """The sale's rule for its `total`: a basket no sale could carry promises no points."""
        total = sum((ln.amount for ln in lines), Decimal("0.00"))
        try:
            _MONEY.validate_python(total)
        except ValidationError as exc:
            raise ValueError(f"add up to {total}, which a sale's total cannot be: {exc.errors()[0]['msg']}") from None
        return lines

    @property
    def total(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), Decimal("0.00"))

    @property
    def discount_total(self) -> Decimal:
        return sum_of_discounts(self.discounts)


@router.post("/preview", summary="Points this basket would earn (nothing is booked)")
async def preview(body: BasketIn, grant: PosDep, request: Request, now: NowDep) -> Response:
    grant.ensure_store(body.store_id)
    # A closed store's sale is refused: its basket promises no points either.
    await request.app.state.open_stores.ensure(request.app.state.commands, body.store_id, kind=InvalidField)
    # Held to the sale's rule: a time the sale will be refused for (a till clock running ahead)
    # would otherwise be priced by an earning rule not yet in force, promising points the sale never earns.
    skew = timedelta(seconds=request.app.state.settings.clock_skew_s)
    if body.occurred_at is not None and (problem := future_time_problem(body.occurred_at, now, skew)):
        raise InvalidField("occurred_at", problem)
    timeout = request.app.state.settings.downstream_timeout_s  # a customer waits at the checkout
    customer = await services_customer(body, grant, request, now, timeout=timeout)
    payload = {
        "store_id": body.store_id, **customer,
        "occurred_at": body.occurred_at.isoformat() if body.occurred_at else None,
        "lines": [{"sku": ln.sku, "category": ln.category, "amount": str(ln.amount)} for ln in body.lines],
        "discount": str(body.discount_total),
    }
    client: httpx.AsyncClient = request.app.state.downstream.points
    with answered_by("points", timeout):
        upstream = await client.post("/v1/earning/preview", json=payload, headers={"Authorization": f"Bearer {grant.principal.token}"},
                                     timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)))
    return Response(upstream.content, upstream.status_code, media_type=upstream.headers.get("content-type"))

