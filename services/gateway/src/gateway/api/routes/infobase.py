"""The customer information base (members' `/v1/infobase/...`), forwarded as every members route is
(`passthrough.py`), once the gateway has checked the `store_id` filter.

Members keeps no list of stores and answers a store id nobody has as a store without sales: zeros
that read as a real store's figures. The gateway keeps the stores, so it refuses such an id (422
naming `store_id`, `service_layer/stores.py`); a closed store still has its history to report.
"""

from fastapi import APIRouter, Depends, Request, Response

from gateway.api.routes.passthrough import forward, segment
from gateway.service_layer.stores import ensure_report_stores
from shared.authorize import forwarded

router = APIRouter(prefix="/api/members/v1/infobase", tags=["information base"], dependencies=[Depends(forwarded)])


async def _checked_and_forwarded(request: Request, path: str) -> Response:
    # Every value: members reads the last of a repeated parameter, and none may slip past unchecked.
    await ensure_report_stores(request.app.state.commands, request.query_params.getlist("store_id"))
    return await forward(request, "members", f"/v1/infobase{path}")


@router.get("/communities", summary="Level 1: communities ranked (store_id, if given, must be one of the chain's)")
async def communities(request: Request) -> Response:
    return await _checked_and_forwarded(request, "/communities")


@router.get("/communities/{community_id}/customers", summary="Level 2: a community's customers ranked by spend")
async def customers(community_id: str, request: Request) -> Response:
    return await _checked_and_forwarded(request, f"/communities/{segment(community_id)}/customers")


@router.get("/members/{member_id}/purchases", summary="Level 3: a customer's purchases, line by line")
async def purchases(member_id: str, request: Request) -> Response:
    return await _checked_and_forwarded(request, f"/members/{segment(member_id)}/purchases")
