"""POS entry: sales and returns, acknowledged once they are durably queued for publication."""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from gateway.api.schemas import PosAccepted, PosPurchaseIn, PosRefundIn
from gateway.domain.pos import future_time_problem
from gateway.service_layer.pos import InvalidField, accept_refund
from gateway.service_layer.pos_purchases import pending_sale
from shared.authorize import Allowed
from shared.deps import CommandsDep, NowDep
from shared.policy import Grant

router = APIRouter(prefix="/pos/v1", tags=["pos"])
PosDep = Annotated[Grant, Allowed("gateway.pos.post")]


def _not_in_future(request: Request, occurred_at: datetime, now: datetime) -> None:
    skew = timedelta(seconds=request.app.state.settings.clock_skew_s)
    if problem := future_time_problem(occurred_at, now, skew):
        raise InvalidField("occurred_at", problem)


@router.post("/purchases", status_code=status.HTTP_202_ACCEPTED, responses={409: {"description": "id reused for another sale"}})
async def post_purchase(body: PosPurchaseIn, grant: PosDep, request: Request, now: NowDep) -> PosAccepted:
    """Record a sale. Retrying the same `(store_id, pos_txn_id)` with the same content is safe."""
    grant.ensure_store(body.store_id)
    _not_in_future(request, body.occurred_at, now)
    state = request.app.state
    # Written with the other tills' concurrent sales in one transaction (shared.group_commit),
    # answered once that transaction committed.
    sale = pending_sale(body, state.settings.resolved_pepper(), grant.principal.token, state.settings.zone)
    event_id, duplicate = await state.pos_purchases.submit(sale)
    return PosAccepted(event_id=event_id, duplicate=duplicate)


@router.post("/refunds", status_code=status.HTTP_202_ACCEPTED, responses={409: {"description": "id reused for another return"}})
async def post_refund(
    body: PosRefundIn, grant: PosDep, request: Request, response: Response, now: NowDep, commands: CommandsDep
) -> PosAccepted:
    """Record a return against an accepted sale; never more than what is left of the sale."""
    grant.ensure_store(body.store_id)
    _not_in_future(request, body.occurred_at, now)
    # Two identical retries racing each other: the loser hits the unique constraint, and the
    # second attempt sees the winner's row and answers as a duplicate.
    event_id, duplicate = await commands.run(lambda uow: accept_refund(uow, body, grant.principal.token), retry_on_conflict=True)
    response.status_code = status.HTTP_202_ACCEPTED
    return PosAccepted(event_id=event_id, duplicate=duplicate)
