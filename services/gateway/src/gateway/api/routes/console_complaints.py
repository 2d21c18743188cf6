"""Staff pages of the console: the complaints queue with deadlines coloured by urgency and the time
left, naming each one's customer and who it is with, and a complaint's page with its history, where
it is taken, acknowledged, started, handed on within its store, resolved (with compensation in
points or a coupon value), closed and reopened; the desk lands there once it has filed one
(console_desk.py). Feedback's own API decides, with the person's token; customers are named as
members shows them to the person."""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.clients import segment
from gateway.api.console.render import customer_name, gettext_of, go, page
from gateway.api.console.session import CHECKED, Console, ConsoleUser, Form, chosen, one
from gateway.domain.complaint_urgency import time_left, urgency
from gateway.domain.refusals import at_form_fields
from gateway.service_layer.console_people import StaffDirectory, customer_names, display_names
from gateway.service_layer.console_reads import ServiceFailed, ServiceUnavailable, call, read, step_once
from shared.deps import NowDep, UowDep
from shared.errors import Invalid, NotOneOf
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(prefix="/console/complaints", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
# Each step, and the states a complaint is in once it has taken it.
STEPS = {"acknowledge": ("acknowledged", "in_progress", "resolved", "closed"), "start": ("in_progress", "resolved", "closed"),
         "close": ("closed",)}
RESOLVED = ("resolved", "closed")
OPEN = ("filed", "acknowledged", "in_progress")
# Feedback's names of the reopen form's boxes whose console labels are other forms' (a dead
# letter's reason for discarding).
REOPEN_BOXES = {"reason": "reopen_reason"}
# The queue's filter of who a complaint waits on, as feedback's assignee forms of the person's store.
WAITING_ON = {"desk": "desk:{store}", "store_manager": "store_manager:{store}"}


def _feedback(request: Request) -> Any:
    return request.app.state.downstream.feedback


async def _customers(request: Request, user: ConsoleUser, member_ids: list[str | None]) -> dict[str, str] | None:
    """The customers' names, or None while members cannot answer: complaints are handled without
    names then (customers shown by id), not refused for a service they do not come from."""
    try:
        return await customer_names(request.app.state.downstream.members, member_ids, user.bearer(),
                                    partial(customer_name, gettext=gettext_of(request)))
    except (ServiceUnavailable, ServiceFailed):
        return None


def _page_of(complaint_id: str, query: str = "") -> str:
    """The complaint's page, told what just happened (`already=<step>`, `done=1`) if anything."""
    return f"/console/complaints/{quote(complaint_id, safe='')}" + (f"?{query}" if query else "")


def _due(item: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(item["next_due_at"]) if item.get("next_due_at") else None


def _queue_filters(request: Request, user: ConsoleUser) -> tuple[dict[str, str], dict[str, str]]:
    """The filters the person chose, and the same as feedback's query. A state or a queue the page
    does not offer is bad input naming the field, as feedback would answer it."""
    asked = {k: request.query_params.get(k, "").strip() for k in ("status", "waiting_on", "overdue", "mine")}
    params: dict[str, str] = {}
    if asked["status"]:
        if asked["status"] not in OPEN:
            raise NotOneOf("status", OPEN)
        params["status"] = asked["status"]
    if asked["waiting_on"]:
        store = user.principal.store_id
        if not store:  # head office: no store's desk or manager to wait on (the page offers none)
            raise Invalid("waiting_on", "only staff of a store can narrow the queue to whom a complaint waits on")
        if asked["waiting_on"] not in WAITING_ON:
            raise NotOneOf("waiting_on", WAITING_ON)
        params["assignee"] = WAITING_ON[asked["waiting_on"]].format(store=store)
    if asked["overdue"] == "1":
        params["overdue_only"] = "true"
    if asked["mine"] == "1":
        params["mine"] = "true"
    return asked, params


@router.get("")
async def queue(request: Request, now: NowDep, uow: UowDep,
                user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """The person's open complaints (their store's, an account manager's own, every store's for head
    office), overdue first, with whose they are and who is on them; narrowed to a state, to whom
    they wait on, or to what is overdue."""
    asked, params = _queue_filters(request, user)
    items = await read(_feedback(request), "feedback", "/v1/complaints/queue", user.bearer(), params)
    rows = [(item, urgency(_due(item), now), time_left(_due(item), now)) for item in items]
    people = await _customers(request, user, [i.get("member_id") for i in items])
    staff_names = await display_names(uow, (i.get(k) for i in items for k in ("assignee", "handled_by")),
                                      StaffDirectory(request.app.state.downstream.members, user.principal, user.bearer()))
    return page(request, "staff/complaints_queue.html", user, rows=rows, people=people or {}, names_unavailable=people is None,
                staff_names=staff_names, asked=asked, statuses=OPEN, waiting_on=WAITING_ON if user.principal.store_id else {})


@router.get("/{complaint_id}")
async def complaint(complaint_id: str, request: Request, now: NowDep, uow: UowDep,
                    user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    item = await read(_feedback(request), "feedback", f"/v1/complaints/{segment(complaint_id)}", user.bearer())
    already = request.query_params.get("already")
    people = await _customers(request, user, [item.get("member_id")])
    # Everyone the page names by id: the assignee, whoever took a step, and whom it was handed to.
    staff_names = await display_names(uow, [item.get("assignee"), item.get("handled_by"), *(h["actor"] for h in item.get("history", []))],
                                      StaffDirectory(request.app.state.downstream.members, user.principal, user.bearer()))
    return page(request, "staff/complaint.html", user, item=item, urgency=urgency(_due(item), now), left=time_left(_due(item), now),
                people=people or {}, names_unavailable=people is None, staff_names=staff_names, resolved=request.query_params.get("done") == "1",
                filed=request.query_params.get("filed") == "1",
                already=already if already in (*STEPS, "resolve", "reopen", "assign") else None)


@router.post("/{complaint_id}/step")
async def step(complaint_id: str, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """Acknowledge, start work on or close the complaint."""
    action = chosen(form, "action", STEPS)
    already = await step_once(_feedback(request), "feedback", f"/v1/complaints/{segment(complaint_id)}", action, user.bearer(),
                              taken=lambda item: item["status"] in STEPS[action])
    return go(request, _page_of(complaint_id, f"already={action}" if already else ""))


@router.post("/{complaint_id}/take", dependencies=CHECKED)
async def take(complaint_id: str, request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """The person takes the complaint to work on it: colleagues see on the queue who is on it.
    Feedback takes a second click as done already."""
    await call(_feedback(request), "feedback", "POST", f"/v1/complaints/{segment(complaint_id)}/take", user.bearer())
    return go(request, _page_of(complaint_id))


@router.post("/{complaint_id}/assign")
async def assign(complaint_id: str, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """Hands the complaint to its store's desk or store manager queue (feedback checks the store)."""
    queue = chosen(form, "queue", WAITING_ON)
    path = f"/v1/complaints/{segment(complaint_id)}"
    item = await read(_feedback(request), "feedback", path, user.bearer())
    assignee = WAITING_ON[queue].format(store=item["store_id"])
    already = await step_once(_feedback(request), "feedback", path, "assign", user.bearer(), json={"assignee": assignee},
                              taken=lambda item: item.get("assignee") == assignee)  # with that queue already
    return go(request, _page_of(complaint_id, "already=assign" if already else ""))


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
    # Resolved already: its page shows the note and compensation it was resolved with, not a
    # refusal saying the compensation was granted already.
    already = await step_once(_feedback(request), "feedback", f"/v1/complaints/{segment(complaint_id)}", "resolve", user.bearer(),
                              json=body, taken=lambda item: item["status"] in RESOLVED)
    return go(request, _page_of(complaint_id, "already=resolve" if already else "done=1"))


@router.post("/{complaint_id}/reopen")
async def reopen(complaint_id: str, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """Reopens a resolved or closed complaint with the reason (the customer came back): it gets a
    fresh resolution deadline."""
    # The page offers reopening only while the complaint is resolved or closed: open again now, it
    # was reopened a moment earlier.
    already = await step_once(_feedback(request), "feedback", f"/v1/complaints/{segment(complaint_id)}", "reopen", user.bearer(),
                              json={"reason": one(form, "reopen_reason")}, taken=lambda item: item["status"] in OPEN,
                              located=lambda said: at_form_fields(said, REOPEN_BOXES))
    return go(request, _page_of(complaint_id, "already=reopen" if already else ""))
