"""Marketing pages of the console: the segments, the campaigns with their coupon templates and
the forms that create both, and a campaign's page: launching, pausing, resuming and ending it, and
its results (redemption, and spend and visits per member against the held-out control group, with
the uplift and its 95% interval, drawn as charts). Campaigns' own API decides, with the person's
token.

The create forms carry an idempotency key made when the page was shown, so a form sent twice (a
double click, the browser sending it again) makes one campaign or template, and both answers lead
to it."""

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.clients import segment
from gateway.api.console.render import downloaded, go, page, refusal_message
from gateway.api.console.session import Console, ConsoleUser, Form, chosen, filled, keyed, one
from gateway.domain.form_numbers import typed_number
from gateway.domain.page_figures import bars, interval
from gateway.domain.refusals import at_form_fields
from gateway.service_layer.app import store_names
from gateway.service_layer.console_people import display_names
from gateway.service_layer.console_reads import ServiceRefused, call, read, step_once
from shared.deps import UowDep
from shared.query_params import QUERY_CHECKED_ELSEWHERE
from shared.reports import download_format

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
# Each action on a campaign and the states campaigns allows it from: the page offers only these.
ACTIONS = {"launch": ("draft",), "pause": ("scheduled", "running"), "resume": ("paused",),
           "end": ("draft", "scheduled", "running", "paused")}
# The states a campaign is in once it has taken the action (launching is told by its launch time,
# as a launched campaign may have been paused or ended since).
TAKEN = {"pause": ("paused",), "resume": ("scheduled", "running"), "end": ("ended",)}


def _campaigns(request: Request) -> Any:
    return request.app.state.downstream.campaigns


@router.get("/segments")
async def segments(request: Request, uow: UowDep, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    listed = await read(_campaigns(request), "campaigns", "/v1/segments", user.bearer())
    staff_names = await display_names(uow, [s.get("updated_by") for s in listed])
    return page(request, "staff/segments.html", user, segments=listed, staff_names=staff_names,
                writes=user.may("campaigns.segment.write"))


@router.get("/campaigns")
async def campaigns(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """The campaigns and coupon templates, and the forms to create each (one key per form)."""
    client, headers = _campaigns(request), user.bearer()
    listed = await read(client, "campaigns", "/v1/campaigns", headers, {"limit": "200"})
    templates = await read(client, "campaigns", "/v1/coupon-templates", headers, {"limit": "200"})
    segments = await read(client, "campaigns", "/v1/segments", headers)
    return page(request, "staff/campaigns.html", user, campaigns=listed, templates=templates, segments=segments,
                template_key=secrets.token_hex(16), campaign_key=secrets.token_hex(16),
                made_template=request.query_params.get("template", ""),
                chosen_segment=request.query_params.get("segment_id", ""))  # from a segment's page


def _named(form: dict[str, list[str]], box: str) -> dict[str, str]:
    """The record's `name` as typed in the form's box of it. Each form names its box for what it
    names (`campaign_name`): the console's label of a plain `name` is a person's (姓名)."""
    return {"name": text} if (text := one(form, box).strip()) else {}


def _name_at(box: str) -> Callable[[Any], Any]:
    """Campaigns' refusal of the record's `name`, put at the form's box of it."""
    return lambda said: at_form_fields(said, {"name": box})


@router.post("/coupon-templates")
async def create_template(request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    days = one(form, "days").strip()
    body: dict[str, Any] = {
        **_named(form, "template_name"), **filled(form, "kind", "amount", "threshold", "percent", "max_discount"),
        "validity": {"days": typed_number(days)},
    }
    made = (await call(_campaigns(request), "campaigns", "POST", "/v1/coupon-templates", keyed(user, form), json=body,
                       located=_name_at("template_name"))).json()
    return go(request, f"/console/campaigns?template={quote(made['id'], safe='')}#coupon-templates")


@router.post("/campaigns")
async def create_campaign(request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """A draft campaign: one-off to a saved segment, or triggered by an occasion; it gives a coupon
    of a template, a message, or both. It is launched by campaigns' API."""
    body: dict[str, Any] = {**_named(form, "campaign_name"), **filled(form, "kind", "coupon_template_id", "control_share", "channel")}
    body.update(filled(form, "segment_id") if body.get("kind") == "one_off" else filled(form, "trigger"))
    if template := one(form, "message_template").strip():
        body["message"] = {"template": template, "params": filled(form, "tip") if template == "service_tip" else {}}
    made = (await call(_campaigns(request), "campaigns", "POST", "/v1/campaigns", keyed(user, form), json=body,
                       located=_name_at("campaign_name"))).json()
    return go(request, f"/console/campaigns/{quote(made['id'], safe='')}")


@router.get("/campaigns/{campaign_id}")
async def campaign(campaign_id: str, request: Request, uow: UowDep,
                   user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    quoted = segment(campaign_id)
    found = await read(_campaigns(request), "campaigns", f"/v1/campaigns/{quoted}", user.bearer())
    results = await read(_campaigns(request), "campaigns", f"/v1/campaigns/{quoted}/results", user.bearer())
    arms = {name: [{"arm": "treatment", "value": results["treatment"][name]}, {"arm": "control", "value": results["control"][name]}]
            for name in ("spend_per_member", "visits_per_member")}
    uplifts = {name: (results[name], interval(Decimal(str(results[name]["difference"])), _dec(results[name]["low"]), _dec(results[name]["high"])))
               for name in ("spend_uplift", "visits_uplift") if results.get(name)}
    # Each store's part, by the store's name as the stores are kept here (an id campaigns knows of
    # that the gateway does not is shown as it came).
    stores = await store_names(uow.session, {s["store_id"] for s in results.get("by_store", [])})
    offered = [action for action, states in ACTIONS.items() if found["state"] in states] \
        if user.may("campaigns.campaign.launch") else []
    preview, unpreviewed = await _preview(request, user, found) if "launch" in offered else (None, None)
    already, done = request.query_params.get("already"), request.query_params.get("done")
    names = await _terms_named(request, user, found)
    return page(request, "staff/campaign.html", user, campaign=found, results=results, uplifts=uplifts, stores=stores, names=names,
                spend_bars=bars(arms["spend_per_member"], "arm", "value"), visit_bars=bars(arms["visits_per_member"], "arm", "value"),
                offered=offered, preview=preview, unpreviewed=unpreviewed, already=already if already in ACTIONS else None,
                done=done if done in ACTIONS else None,
                control=_control(found, results), share=_percent(Decimal(str(found["control_share"]))))


async def _preview(request: Request, user: ConsoleUser, found: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """Whom a launch now would reach, for the person to confirm before pressing it; or, where
    campaigns refuses to say, its refusal in place of the figures rather than a page refused for the
    want of them. A triggered campaign has no audience to preview: it reaches members as their
    occasions come."""
    if found["kind"] != "one_off" or not found.get("segment_id"):
        return None, None
    try:
        return await read(_campaigns(request), "campaigns", f"/v1/campaigns/{segment(found['id'])}/preview", user.bearer()), None
    except ServiceRefused as refused:
        return None, refusal_message(request, refused)


async def _terms_named(request: Request, user: ConsoleUser, found: dict[str, Any]) -> dict[str, str]:
    """The names of the segment and coupon template the campaign names, for its terms on the page;
    one the person may not read, or gone, is shown by its id."""
    wanted = {"segment": ("/v1/segments/", found.get("segment_id")), "coupon": ("/v1/coupon-templates/", found.get("coupon_template_id"))}
    names: dict[str, str] = {}
    for key, (path, ident) in wanted.items():
        if ident:
            try:
                names[key] = (await read(_campaigns(request), "campaigns", path + segment(ident), user.bearer()))["name"]
            except ServiceRefused:
                names[key] = ident
    return names


def _control(found: dict[str, Any], results: dict[str, Any]) -> str:
    """What the page can say of the control group: compared with; none kept (a share of 0); none
    yet, as nobody is held out before the campaign starts; or none drawn of those reached."""
    if results["control"]["members"]:
        return "compared"
    if not Decimal(str(found["control_share"])):
        return "none"
    return "later" if found.get("started_at") is None else "none_drawn"


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


@router.post("/campaigns/{campaign_id}/action")
async def change(campaign_id: str, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """Launches, pauses, resumes or ends the campaign; ending, which cannot be undone, only with
    its box ticked. The page it leads to says what was done, or that it was done already."""
    action = chosen(form, "action", ACTIONS)
    if action == "end":
        chosen(form, "confirm", ("yes",))
    already = await step_once(_campaigns(request), "campaigns", f"/v1/campaigns/{segment(campaign_id)}", action, user.bearer(),
                              taken=lambda found: _taken(action, found))
    return go(request, f"/console/campaigns/{quote(campaign_id, safe='')}?{'already' if already else 'done'}={action}")


def _taken(action: str, found: dict[str, Any]) -> bool:
    if action == "launch":
        return found.get("launched_at") is not None
    return found["state"] in TAKEN[action]


@router.get("/campaigns/{campaign_id}/results")
async def campaign_results(campaign_id: str, request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """The results as campaigns writes them for a spreadsheet (the window, both groups, the uplift
    with its interval, the coupons): CSV, or with `format=xlsx` a workbook, for the report to
    management the page alone cannot be pasted into."""
    fmt = download_format(request.query_params.get("format"))
    answer = await call(_campaigns(request), "campaigns", "GET", f"/v1/campaigns/{segment(campaign_id)}/results.{fmt.value}", user.bearer())
    return downloaded(request, answer)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
