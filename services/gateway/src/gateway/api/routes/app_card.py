"""The member app: my card (card number, barcode payload, points and their expiry), my ledger,
gifts (catalogue at my prices with my home store's stock, reservations) and my entitlements."""

from typing import Annotated, Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from gateway.adapters.clients import segment
from gateway.api.app_deps import AppGrant, Calls, Cursor, Limit, mine
from gateway.api.app_schemas import Card, GiftReservation, LedgerPage, Page
from gateway.service_layer import app as views
from shared.deps import CommandsDep
from shared.idempotency import idempotency_key_header

router = APIRouter(prefix="/app/v1", tags=["member app"])


@router.get("/card", summary="My card: number, barcode / QR payload for the till, points balance and expiry")
async def card(grant: AppGrant, calls: Calls) -> Card:
    return Card.model_validate(await views.card(calls, mine(grant)))


@router.get("/points/ledger", summary="My points ledger, each entry described in my language, newest first")
async def ledger(grant: AppGrant, calls: Calls, commands: CommandsDep, limit: Limit = 20, cursor: Cursor = None) -> LedgerPage:
    return LedgerPage.model_validate(await views.ledger(calls, commands, mine(grant), limit, cursor))


@router.get("/gifts", summary="The gift catalogue at my channel's prices, with stock at my home store")
async def gifts(grant: AppGrant, calls: Calls) -> dict[str, Any]:
    return await views.gifts(calls, mine(grant))


@router.post(
    "/gifts/reservations", status_code=201, summary="Reserve a gift for pick-up at my home store",
    responses={200: {"description": "A retry with the same Idempotency-Key: the original reservation"},
               409: {"description": "Too few points, out of stock, no home store known, or the key reused"}},
)
async def reserve(
    body: GiftReservation, grant: AppGrant, calls: Calls,
    idempotency_key: Annotated[str, idempotency_key_header("Unique per intended reservation; a retry reuses it")],
) -> Response:
    answer = await calls.send("POST", "points", f"/v1/members/{segment(mine(grant))}/redemptions",
                              json=body.model_dump(), idempotency_key=idempotency_key)
    return JSONResponse(await views.reservation_named(calls, mine(grant), answer.body), status_code=answer.status)


@router.get("/gifts/reservations", summary="My gift reservations and redemptions, newest first")
async def reservations(grant: AppGrant, calls: Calls, limit: Limit = 20, cursor: Cursor = None) -> Page:
    return Page.model_validate(await views.reservations(calls, mine(grant), limit, cursor))


@router.post("/gifts/reservations/{redemption_id}/cancel", summary="Cancel my reserved gift; the points come back")
async def cancel(redemption_id: str, grant: AppGrant, calls: Calls) -> dict[str, Any]:
    path = f"/v1/members/{segment(mine(grant))}/redemptions/{segment(redemption_id)}/cancel"
    return await views.reservation_named(calls, mine(grant), (await calls.send("POST", "points", path)).body)


@router.get("/entitlements", summary="My service entitlements (leftover-material visits): granted, used, left")
async def entitlements(grant: AppGrant, calls: Calls) -> list[dict[str, Any]]:
    return views.entitlements(await calls.get("points", f"/v1/entitlements/{segment(mine(grant))}"))
