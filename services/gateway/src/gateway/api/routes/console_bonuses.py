"""Points' bulk bonuses on the console (admins): the jobs with their progress, the form of a new
one for a list of card numbers pasted from a spreadsheet, and a job's result per customer with its
CSV or workbook. Points' API decides, with the person's token.

The form carries an idempotency key made when the page was shown, so a form sent twice starts one
job; the card numbers are checked by points before anything is booked (one no account holds
refuses the list, naming it)."""

import re
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.clients import segment
from gateway.api.console.render import downloaded, go, page
from gateway.api.console.session import Console, ConsoleUser, Form, chosen, keyed, one
from gateway.domain.form_numbers import typed_number
from gateway.domain.refusals import at_form_fields
from gateway.service_layer.console_people import display_names
from gateway.service_layer.console_reads import call, read
from shared.deps import UowDep
from shared.query_params import QUERY_CHECKED_ELSEWHERE
from shared.reports import download_format

router = APIRouter(prefix="/console/bonuses", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
User = Annotated[ConsoleUser, Console("gateway.console.use")]  # points decides, with the person's token
# Points' names of the form's boxes whose console labels are other forms' (compensation points,
# a discard's reason).
BOXES = {"points": "bonus_points", "reason": "bonus_reason"}
# A column pasted from a spreadsheet: one card a line, or separated by commas or spaces.
_CARDS = re.compile(r"[\s,，;；]+")


def _points(request: Request) -> Any:
    return request.app.state.downstream.points


@router.get("")
async def bonuses(request: Request, uow: UowDep, user: User) -> HTMLResponse:
    jobs = await read(_points(request), "points", "/v1/bulk-bonuses", user.bearer())
    return page(request, "staff/bonuses.html", user, jobs=jobs, key=secrets.token_hex(16),
                staff_names=await display_names(uow, [j["created_by"] for j in jobs]))


@router.post("")
async def start(request: Request, form: Form, user: User) -> Response:
    """Starts the job under the key made with the page: points answers a form sent again with the
    job the first one started."""
    chosen(form, "confirm", ("yes",))
    points = one(form, "bonus_points").strip()
    cards = [card for card in _CARDS.split(one(form, "card_nos")) if card]
    body = {"card_nos": cards, "points": typed_number(points), "reason": one(form, "bonus_reason").strip()}
    job = (await call(_points(request), "points", "POST", "/v1/bulk-bonuses", keyed(user, form), json=body,
                      located=lambda said: _cards_named(at_form_fields(said, BOXES), cards))).json()
    return go(request, f"/console/bonuses/{quote(job['job_id'], safe='')}")


def _cards_named(said: Any, cards: list[str]) -> Any:
    """Points' refusal of a card by its place in the list (`card_nos.0`) named by the card as
    pasted ("卡号 123：至少 4 个字符"): the place counts from 0, and the person's lines from 1
    with the empty ones and the separators left out, so neither would find it by the number."""
    if not isinstance(said, list):
        return said
    named = []
    for error in said:
        loc = error.get("loc") if isinstance(error, dict) else None
        if loc and len(loc) == 3 and loc[:2] == ["body", "card_nos"] and isinstance(loc[2], int) and 0 <= loc[2] < len(cards):
            error = {**error, "shown_as": cards[loc[2]]}
        named.append(error)
    return named


@router.get("/{job_id}")
async def job_page(job_id: str, request: Request, uow: UowDep, user: User) -> HTMLResponse:
    """The job's progress and each customer's result; a job still running says so (the page is
    reloaded by the person: the console polls nothing)."""
    job = await read(_points(request), "points", f"/v1/bulk-bonuses/{segment(job_id)}", user.bearer())
    return page(request, "staff/bonus.html", user, job=job, staff_names=await display_names(uow, [job["created_by"]]))


@router.get("/{job_id}/export")
async def export(job_id: str, request: Request, user: User) -> Response:
    """The result per customer as points writes it for a spreadsheet: CSV, or a workbook."""
    fmt = download_format(request.query_params.get("format"))
    return downloaded(request, await call(_points(request), "points", "GET", f"/v1/bulk-bonuses/{segment(job_id)}", user.bearer(),
                                          params={"format": fmt.value}))
