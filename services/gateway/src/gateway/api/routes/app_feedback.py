"""The member app: my complaints (file, follow, reopen one not put right, rate how it was handled)
and my surveys."""

from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from gateway.adapters.clients import segment
from gateway.api.app_deps import AppGrant, Calls, Cursor, Limit, mine
from gateway.api.app_schemas import ComplaintFiling, Page, Rating, Reopening, SurveyAnswer
from gateway.service_layer import app as views
from shared.idempotency import idempotency_key_header

router = APIRouter(prefix="/app/v1", tags=["member app"])


@router.post("/complaints", status_code=status.HTTP_201_CREATED, summary="File a complaint (always my own, from the app)",
             responses={200: {"description": "A retry with the same Idempotency-Key: the complaint filed the first time"},
                        409: {"description": "The Idempotency-Key was already used for a different complaint (feedback's refusal, relayed)"}})
async def file_complaint(
    body: ComplaintFiling, grant: AppGrant, calls: Calls, request: Request,
    # Required, and passed on to feedback, which files once per key and member: a retry over a
    # flaky mobile connection must not open a second complaint. 100 characters, what feedback
    # keeps of a key.
    idempotency_key: Annotated[str, idempotency_key_header(
        "Unique per intended complaint; a retry reuses it and gets the first one back", max_length=100)],
) -> JSONResponse:
    named = [(field, store_id) for field, store_id in (("store_id", body.store_id), ("sale.store_id", body.sale and body.sale.store_id))
             if store_id]
    for field, store_id in named:  # feedback keeps no stores; the gateway does
        await request.app.state.open_stores.ensure(request.app.state.commands, store_id, field=field)
    if body.sale is not None:  # feedback cannot tell whose a sale is; members can
        await views.ensure_own_sale(calls, mine(grant), body.sale.store_id or body.store_id, body.sale.pos_txn_id)
    filing = {**body.model_dump(exclude_none=True), "member_id": mine(grant), "channel": "app"}
    answer = await calls.send("POST", "feedback", "/v1/complaints", json=filing, idempotency_key=idempotency_key)
    return JSONResponse(views.complaint(answer.body, mine(grant)), status_code=answer.status)


@router.get("/complaints", summary="My complaints, newest first")
async def complaints(grant: AppGrant, calls: Calls, limit: Limit = 20, cursor: Cursor = None) -> Page:
    return Page.model_validate(await views.complaints(calls, mine(grant), limit, cursor))


@router.get("/complaints/{complaint_id}", summary="One of my complaints with its history")
async def complaint(complaint_id: str, grant: AppGrant, calls: Calls) -> dict[str, Any]:
    return views.complaint(await calls.get("feedback", f"/v1/complaints/{segment(complaint_id)}"), mine(grant))


@router.post("/complaints/{complaint_id}/rating", summary="Rate how my complaint was handled (1-5)")
async def rate(complaint_id: str, body: Rating, grant: AppGrant, calls: Calls) -> dict[str, Any]:
    answer = await calls.send("POST", "feedback", f"/v1/complaints/{segment(complaint_id)}/rating", json=body.model_dump(exclude_none=True))
    return views.complaint(answer.body, mine(grant))


@router.post("/complaints/{complaint_id}/reopen", summary="Reopen my resolved or closed complaint: it was not put right")
async def reopen(complaint_id: str, body: Reopening, grant: AppGrant, calls: Calls) -> dict[str, Any]:
    """Feedback decides: only a resolved or closed complaint reopens (else 409 with the reason), and
    it gets a new resolution deadline from now."""
    answer = await calls.send("POST", "feedback", f"/v1/complaints/{segment(complaint_id)}/reopen", json=body.model_dump())
    return views.complaint(answer.body, mine(grant))


@router.get("/surveys", summary="My open survey invitations")
async def surveys(grant: AppGrant, calls: Calls) -> list[dict[str, Any]]:
    return await calls.get("feedback", "/v1/surveys/invitations", {"member_id": mine(grant)})


@router.get("/surveys/{token}", summary="The questions of one of my surveys, each labelled in Chinese and English")
async def survey(token: str, grant: AppGrant, calls: Calls) -> dict[str, Any]:
    return views.survey(await calls.get("feedback", f"/v1/surveys/answers/{segment(token)}"), calls.accept_language)


@router.post("/surveys/{token}", status_code=status.HTTP_201_CREATED, summary="Answer one of my surveys")
async def answer(token: str, body: SurveyAnswer, grant: AppGrant, calls: Calls) -> JSONResponse:
    result = await calls.send("POST", "feedback", f"/v1/surveys/answers/{segment(token)}", json=body.model_dump(exclude_none=True))
    return JSONResponse(result.body, status_code=result.status)
