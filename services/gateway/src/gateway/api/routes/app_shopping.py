"""The member app: my purchases as e-receipts, my coupons, my personal offers, my messages."""

from typing import Any

from fastapi import APIRouter

from gateway.adapters.clients import segment
from gateway.api.app_deps import AppGrant, Calls, Cursor, Limit, mine
from gateway.api.app_schemas import Page
from gateway.service_layer import app as views
from shared.deps import UowDep

router = APIRouter(prefix="/app/v1", tags=["member app"])


@router.get("/purchases", summary="My purchases as e-receipts: lines, total, discount, paid, store name; newest first")
async def purchases(grant: AppGrant, calls: Calls, uow: UowDep, limit: Limit = 20, cursor: Cursor = None) -> Page:
    return Page.model_validate(await views.purchases(calls, uow.session, mine(grant), limit, cursor))


@router.get("/coupons", summary="My coupons (wallet)")
async def coupons(grant: AppGrant, calls: Calls, limit: Limit = 20, cursor: Cursor = None) -> Page:
    return Page.model_validate(await views.coupons(calls, mine(grant), limit, cursor))


@router.get("/offers", summary="My current personal offer list")
async def offers(grant: AppGrant, calls: Calls) -> dict[str, Any]:
    return await calls.get("campaigns", f"/v1/members/{segment(mine(grant))}/offers")


@router.get("/messages", summary="My inbox, newest first")
async def messages(grant: AppGrant, calls: Calls, limit: Limit = 20, cursor: Cursor = None) -> Page:
    return Page.model_validate(await views.messages(calls, mine(grant), limit, cursor))


@router.post("/messages/{message_id}/read", summary="Mark a message of my inbox read")
async def mark_read(message_id: str, grant: AppGrant, calls: Calls) -> dict[str, Any]:
    return (await calls.send("POST", "campaigns", f"/v1/members/{segment(mine(grant))}/messages/{segment(message_id)}/read")).body
