"""POS entry: sales and returns, acknowledged once they are durably queued for publication."""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response, status

from gateway.api.schemas import PosAccepted, PosPurchaseIn, PosRefundIn
from gateway.domain.pos import future_time_problem
from gateway.service_layer.pos import InvalidField, accept_purchase, accept_refund
from shared.authorize import Allowed
from shared.commands import Commands
from shared.deps import CommandsDep, NowDep
from shared.policy import Grant

router = APIRouter(prefix="/pos/v1", tags=["pos"])
PosDep = Annotated[Grant, Allowed("gateway.pos.post")]


def _not_in_future(request: Request, occurred_at: datetime, now: datetime) -> None:
    skew = timedelta(seconds=request.app.state.settings.clock_skew_s)
    if problem := future_time_problem(occurred_at, now, skew):
        raise InvalidField("occurred_at", problem)


async def _accept(commands: Commands, response: Response, accept, *args) -> PosAccepted:
    # Two identical retries racing each other: the loser hits the unique constraint, and the
    # second attempt sees the winner's row and answers as a duplicate.
    event_id, duplicate = await commands.run(lambda uow: accept(uow, *args), retry_on_conflict=True)
    response.status_code = status.HTTP_202_ACCEPTED
    return PosAccepted(event_id=event_id, duplicate=duplicate)


@router.post("/purchases", status_code=status.HTTP_202_ACCEPTED, responses={409: {"description": "id reused for another sale"}})
async def post_purchase(
    body: PosPurchaseIn, grant: PosDep, request: Request, response: Response, now: NowDep, commands: CommandsDep
) -> PosAccepted:
    """Record a sale. Retrying the same `(store_id, pos_txn_id)` with the same content is safe."""
    grant.ensure_store(body.store_id)
    _not_in_future(request, body.occurred_at, now)
    settings = request.app.state.settings
    return await _accept(commands, response, accept_purchase, body, settings.resolved_pepper(), grant.principal.token)


@router.post("/refunds", status_code=status.HTTP_202_ACCEPTED, responses={409: {"description": "id reused for another return"}})
async def post_refund(
    body: PosRefundIn, grant: PosDep, request: Request, response: Response, now: NowDep, commands: CommandsDep
) -> PosAccepted:
    """Record a return against an accepted sale; never more than what is left of the sale."""
    grant.ensure_store(body.store_id)
    _not_in_future(request, body.occurred_at, now)
    return await _accept(commands, response, accept_refund, body, grant.principal.token)
