"""Marketing's segments on the console: a new segment built from a form of the common conditions
(all to be met), its audience previewed before it is saved, and a segment's page (its rule, the
size of its audience now, editing, archiving). Campaigns' API decides, with the person's token;
`gateway.domain.segment_form` turns the form into a rule and back, and campaigns' refusal of a
part of the rule onto the form's field it came from.

The new-segment form carries an idempotency key made when the page was shown, so a form sent twice
saves one segment and both answers lead to it. The list is console_marketing's."""

import json
import logging
import secrets
from functools import cache
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.clients import segment as quoted
from gateway.api.console.i18n import LANGUAGES, translations
from gateway.api.console.render import PRODUCT_CATEGORIES, go, page, refusal_message
from gateway.api.console.session import Console, ConsoleUser, Form, chosen, keyed, one
from gateway.domain import segment_form
from gateway.domain.rule_stores import rule_stores
from gateway.domain.segment_form import Built, Categories
from gateway.service_layer.app import store_names
from gateway.service_layer.console_people import display_names
from gateway.service_layer.console_reads import ServiceRefused, call, read
from gateway.service_layer.stores import ensure_had
from shared.deps import UowDep
from shared.errors import ServiceError
from shared.policy import AccessDenied
from shared.query_params import QUERY_CHECKED_ELSEWHERE
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console/segments", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
User = Annotated[ConsoleUser, Console("gateway.console.use")]
# What a segment's page confirms after a step, by the `done` of its address.
DONE = ("saved", "archived")
# The communities a preview's sample is named from: members' biggest first, as many as it lists
# in one answer. A sample's customer living in a smaller one is shown with the community's id.
COMMUNITIES_NAMED = "500"


def _campaigns(request: Request) -> Any:
    return request.app.state.downstream.campaigns


@cache
def known_categories() -> Categories:
    """The categories the console names, read by their code or by the name any of its languages
    shows (the earning-rule form reads its category boxes with these too)."""
    return Categories(PRODUCT_CATEGORIES, [translations(language).gettext for language in LANGUAGES])


def _form(request: Request, user: ConsoleUser, **context: Any) -> HTMLResponse:
    """The segment form's page, offering the consent channels and the known categories."""
    return page(request, "staff/segment_form.html", user, channels=segment_form.CONSENT_CHANNELS,
                categories=known_categories().codes, **context)


def _built(form: dict[str, list[str]]) -> Built:
    return segment_form.build(segment_form.values(form), known_categories())


def _writes(user: ConsoleUser) -> bool:
    """Whether the pages offer their forms: a role campaigns would refuse them to is shown none."""
    return user.may("campaigns.segment.write")


async def _send(request: Request, user: ConsoleUser, method: str, path: str, headers: dict[str, str], body: dict[str, Any],
                built: Built) -> Any:
    """Campaigns' answer; its refusal with each part of the rule it names at the form's field. The
    home stores the rule names are first checked to be the chain's, as the API's are (passthrough),
    one it never had refused at the form's field."""
    named = [(built.located(place.split(".")), store) for place, store in rule_stores(built.rule)]
    if unseen := request.app.state.open_stores.unseen(named):
        await ensure_had(request.app.state.commands, unseen)
    return (await call(_campaigns(request), "campaigns", method, path, headers, json=body, located=built.refusal)).json()


async def _sample_names(request: Request, uow: UnitOfWork, user: ConsoleUser, audience: Any) -> dict[str, dict[str, str]]:
    """The names of the communities and home stores of a preview's sample, by id, so marketing reads
    who the audience is: one read of members' communities and one query of the gateway's stores for
    the page, whatever the sample's length. Customers stay by id: members names them one by one."""
    sample = (audience or {}).get("sample") or []
    stores = await store_names(uow.session, {c["home_store_id"] for c in sample if c.get("home_store_id")})
    communities = await _community_names(request, user) if any(c.get("community_id") for c in sample) else {}
    return {"communities": communities, "stores": stores}


async def _community_names(request: Request, user: ConsoleUser) -> dict[str, str]:
    """community id -> name from members (`members.community.read`, marketing's too). When members
    cannot answer, the communities are shown by id: the preview is campaigns' and shows either way."""
    try:
        found = await read(request.app.state.downstream.members, "members", "/v1/communities", user.bearer(),
                           {"limit": COMMUNITIES_NAMED})
    except ServiceError as refusal:
        log.warning("community names for a segment's preview unavailable (%s); shown by id", refusal)
        return {}
    return {c["id"]: c["name"] for c in found.get("items") or []}


def _body(form: dict[str, list[str]]) -> tuple[dict[str, Any], Built]:
    built = _built(form)
    return {"name": one(form, "segment_name").strip(), "description": one(form, "description").strip(), "rule": built.rule}, built


@router.get("/new")
async def new_segment(request: Request, user: User) -> HTMLResponse:
    if not _writes(user):
        raise AccessDenied("campaigns.segment.write")
    return _form(request, user, segment=None, shown={}, key=secrets.token_hex(16), name="", description="")


@router.post("/preview")
async def preview(request: Request, form: Form, uow: UowDep, user: User) -> HTMLResponse:
    """The size and a sample of the form's audience now; nothing is saved. htmx puts the answer
    under the form; without scripts the form comes back with it."""
    built = _built(form)
    found = await _send(request, user, "POST", "/v1/segments/preview", user.bearer(), {"rule": built.rule}, built)
    names = await _sample_names(request, uow, user, found)
    if request.headers.get("HX-Request"):
        return page(request, "staff/_segment_preview.html", user, preview=found, sample_names=names)
    segment_id = one(form, "segment_id")
    shown_segment = await read(_campaigns(request), "campaigns", f"/v1/segments/{quoted(segment_id)}", user.bearer()) if segment_id else None
    return _form(request, user, segment=shown_segment, shown=segment_form.values(form), key=one(form, "idempotency_key"),
                 name=one(form, "segment_name"), description=one(form, "description"), preview=found)


@router.post("")
async def create_segment(request: Request, form: Form, user: User) -> Response:
    """Saves the segment, under the key made when the form was shown: campaigns answers a form sent
    again (a double click, a resend after a slow answer) with the segment the first one saved."""
    body, built = _body(form)
    made = await _send(request, user, "POST", "/v1/segments", keyed(user, form), body, built)
    return go(request, f"/console/segments/{quote(made['id'], safe='')}?done=saved")


@router.get("/{segment_id}")
async def segment_page(segment_id: str, request: Request, uow: UowDep, user: User) -> HTMLResponse:
    """The segment, its rule in the form's words (or as JSON, when the form cannot show it), and
    its audience now: where campaigns refuses to say, its refusal in place of the figures."""
    found = await read(_campaigns(request), "campaigns", f"/v1/segments/{quoted(segment_id)}", user.bearer())
    audience, unpreviewed = None, None
    try:
        audience = await read(_campaigns(request), "campaigns", f"/v1/segments/{quoted(segment_id)}/preview", user.bearer())
    except ServiceRefused as refused:
        unpreviewed = refusal_message(request, refused)
    names = await display_names(uow, [found.get("updated_by")])
    done = request.query_params.get("done")
    return page(request, "staff/segment.html", user, segment=found, shown=segment_form.values_of(found["rule"]),
                rule_json=json.dumps(found["rule"], ensure_ascii=False, indent=2), audience=audience, unpreviewed=unpreviewed,
                sample_names=await _sample_names(request, uow, user, audience), staff_names=names, writes=_writes(user),
                done=done if done in DONE else "",
                launches=user.may("campaigns.campaign.write"))


@router.get("/{segment_id}/edit")
async def edit_segment(segment_id: str, request: Request, user: User) -> Response:
    """The segment in the form; one whose rule the form cannot show is changed through the API,
    and its page says so."""
    if not _writes(user):
        raise AccessDenied("campaigns.segment.write")
    found = await read(_campaigns(request), "campaigns", f"/v1/segments/{quoted(segment_id)}", user.bearer())
    shown = segment_form.values_of(found["rule"])
    if shown is None or found["status"] != "active":
        return go(request, f"/console/segments/{quote(segment_id, safe='')}")
    return _form(request, user, segment=found, shown=shown, key="", name=found["name"], description=found["description"])


@router.post("/{segment_id}")
async def change_segment(segment_id: str, request: Request, form: Form, user: User) -> Response:
    """The name, description and rule of the form, all of them (campaigns' PUT): sent twice, the
    second changes nothing more."""
    body, built = _body(form)
    await _send(request, user, "PUT", f"/v1/segments/{quoted(segment_id)}", user.bearer(), body, built)
    return go(request, f"/console/segments/{quote(segment_id, safe='')}?done=saved")


@router.post("/{segment_id}/archive")
async def archive_segment(segment_id: str, request: Request, form: Form, user: User) -> Response:
    """Archived once the box confirming it is ticked: kept for the campaigns that used it, offered
    to no new one."""
    chosen(form, "confirm", ("yes",))
    await call(_campaigns(request), "campaigns", "DELETE", f"/v1/segments/{quoted(segment_id)}", user.bearer())
    return go(request, f"/console/segments/{quote(segment_id, safe='')}?done=archived")
