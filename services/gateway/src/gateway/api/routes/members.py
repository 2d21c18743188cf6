"""Staff-facing member endpoints, passed through to the members service with the caller's token.

The members service checks the token itself; the gateway adds one public address and keeps the
caller's correlation id.
"""

import httpx
from fastapi import APIRouter, HTTPException, Request, Response, status

router = APIRouter(prefix="/api/v1/members", tags=["members"])

_FORWARDED = ("authorization", "content-type", "accept-language")


async def _forward(request: Request, path: str) -> Response:
    client: httpx.AsyncClient = request.app.state.downstream.members
    headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED}
    try:
        upstream = await client.request(
            request.method, path, params=request.query_params, content=await request.body(), headers=headers
        )
    except httpx.HTTPError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"members service unavailable: {type(exc).__name__}") from exc
    return Response(upstream.content, upstream.status_code, media_type=upstream.headers.get("content-type"))


@router.post("", status_code=201, summary="Register a member (name, phone, community, address, channel...)")
async def register_member(request: Request) -> Response:
    return await _forward(request, "/v1/members")


@router.get("", summary="Find members by card_no, phone or community")
async def find_members(request: Request) -> Response:
    return await _forward(request, "/v1/members")


@router.get("/{member_id}", summary="One member's profile")
async def get_member(member_id: str, request: Request) -> Response:
    return await _forward(request, f"/v1/members/{member_id}")
