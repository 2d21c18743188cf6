"""Staff pages of the console: the complaints queue with deadlines coloured by urgency, and a
complaint's page where it is acknowledged, started and resolved (with compensation in points or a
coupon value). Feedback's own API decides, with the person's token."""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.clients import segment
from gateway.api.console.render import go, page
from gateway.api.console.session import Console, ConsoleUser, Form, one
from gateway.domain.complaint_urgency import urgency
from gateway.service_layer.console_reads import ServiceRefused, call, read
from shared.deps import NowDep
from shared.errors import Invalid

router = APIRouter(prefix="/console/complaints", tags=["console"], include_in_schema=False)
# Each step, and the states a complaint is in once it has taken it.
STEPS = {"acknowledge": ("acknowledged", "in_progress", "resolved", "closed"), "start": ("in_progress", "resolved", "closed")}
RESOLVED = ("resolved", "closed")


def _feedback(request: Request) -> Any:
    return request.app.state.downstream.feedback


def _due(item: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(item["next_due_at"]) if item.get("next_due_at") else None


@router.get("")
async def queue(request: Request, now: NowDep, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """The person's open complaints (their store's, an account manager's own, every store's for head
    office), overdue first."""
    items = await read(_feedback(request), "feedback", "/v1/complaints/queue", user.bearer())
    rows = [(item, urgency(_due(item), now)) for item in items]
    return page(request, "staff/complaints_queue.html", user, rows=rows)


@router.get("/{complaint_id}")
async def complaint(complaint_id: str, request: Request, now: NowDep,
                    user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    item = await read(_feedback(request), "feedback", f"/v1/complaints/{segment(complaint_id)}", user.bearer())
    already = request.query_params.get("already")
    return page(request, "staff/complaint.html", user, item=item, urgency=urgency(_due(item), now),
                resolved=request.query_params.get("done") == "1", already=already if already in (*STEPS, "resolve") else None)


@router.post("/{complaint_id}/step")
async def step(complaint_id: str, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """Acknowledge or start work on the complaint."""
    action = one(form, "action")
    if action not in STEPS:
        raise Invalid("action", f"one of {', '.join(STEPS)}")
    path = f"/v1/complaints/{segment(complaint_id)}"
    try:
        await call(_feedback(request), "feedback", "POST", f"{path}/{action}", user.bearer())
    except ServiceRefused as refused:
        # A second click, or a colleague a moment earlier: the complaint has taken the step already,
        # which is what the person wanted. They see it, not a refusal.
        if refused.status_code != 409 or (await read(_feedback(request), "feedback", path, user.bearer()))["status"] not in STEPS[action]:
            raise
        return go(request, f"/console/complaints/{quote(complaint_id, safe='')}?already={action}")
    return go(request, f"/console/complaints/{quote(complaint_id, safe='')}")


@router.post("/{complaint_id}/resolve")
async def resolve(complaint_id: str, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """Resolves with a note and the compensation feedback allows (its caps apply there)."""
    points_text, coupon_text = one(form, "points").strip() or "0", one(form, "coupon_value").strip()
    try:
        points = int(points_text)
    except ValueError:
        raise Invalid("points", "a whole number of points") from None
    try:
        coupon = str(Decimal(coupon_text)) if coupon_text else None
    except InvalidOperation:
        raise Invalid("coupon_value", "an amount such as 20.00") from None
    body = {"note": one(form, "note"), "compensation": {"points": points, "coupon_value": coupon}}
    path = f"/v1/complaints/{segment(complaint_id)}"
    try:
        await call(_feedback(request), "feedback", "POST", f"{path}/resolve", user.bearer(), json=body)
    except ServiceRefused as refused:
        # A second click, a resend after a slow answer, or a colleague a moment earlier: the
        # complaint is resolved already, and its page shows the note and compensation it was
        # resolved with, not a refusal saying the compensation was granted already.
        if refused.status_code != 409 or (await read(_feedback(request), "feedback", path, user.bearer()))["status"] not in RESOLVED:
            raise
        return go(request, f"/console/complaints/{quote(complaint_id, safe='')}?already=resolve")
    return go(request, f"/console/complaints/{quote(complaint_id, safe='')}?done=1")
