"""Staff-facing member endpoints, passed through to the members service with the caller's token.

The members service checks the token itself; the gateway adds one public address and keeps the
caller's correlation id.
"""

from fastapi import APIRouter, Depends, Request, Response

from gateway.adapters.clients import segment
from gateway.api.routes.passthrough import forward
from shared.authorize import forwarded
from shared.idempotency import OptionalIdempotencyKey
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(prefix="/api/v1/members", tags=["members"], dependencies=[QUERY_CHECKED_ELSEWHERE, Depends(forwarded)])


async def _forward(request: Request, path: str) -> Response:
    return await forward(request, "members", path)


@router.post(
    "", status_code=201, summary="Register a member (name, phone, community, address, channel...)",
    responses={200: {"description": "A retry with the same Idempotency-Key: the member it registered"}},
)
async def register_member(
    request: Request,
    # Declared for the API documentation; the header itself is forwarded with the others.
    idempotency_key: OptionalIdempotencyKey = None,
) -> Response:
    return await _forward(request, "/v1/members")


@router.get("", summary="Find members by card_no, phone or community")
async def find_members(request: Request) -> Response:
    return await _forward(request, "/v1/members")


@router.get("/{member_id}", summary="One member's profile")
async def get_member(member_id: str, request: Request) -> Response:
    return await _forward(request, f"/v1/members/{segment(member_id)}")
