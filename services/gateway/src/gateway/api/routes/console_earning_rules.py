"""The earning rules on the console: every version points keeps (the one pricing sales now, those
scheduled, the history, each with who added it and why) and, for the roles that may, the form of
a new version. Points' API decides, with the person's token; `gateway.domain.earning_rule_form`
reads the form into its body, and points' refusal of a part onto the form's box. A category is
sent by its code however it was typed (`console_segments.known_categories`, the one reading of the
console's category boxes), and a store rate must name a store the chain has or had.

The form carries an idempotency key made when the page was shown, so a form sent twice adds one
version and both answers lead to it."""

import secrets
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.api.console.i18n import N_
from gateway.api.console.render import gettext_of, go, page, zone_of
from gateway.api.console.session import Console, ConsoleUser, Form, keyed
from gateway.api.routes.console_segments import known_categories
from gateway.domain import earning_rule_form
from gateway.service_layer.console_people import display_names
from gateway.service_layer.console_reads import call, read
from gateway.service_layer.stores import ensure_had
from shared.deps import NowDep, UowDep
from shared.errors import Invalid
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(prefix="/console/earning-rules", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
User = Annotated[ConsoleUser, Console("gateway.console.use")]  # points decides, with the person's token

# The rule points seeds for a new chain (its migration `0002_points_card`, added by "system"), with
# its reason in English as points keeps it: worded here in the person's language. Every other
# reason is a person's own words, shown as they wrote them.
SEEDED_REASON = ("default: 1 point per whole yuan of a sale", N_("Default: 1 point per whole yuan of a sale"))


def reason_shown(version: dict[str, Any], gettext: Any) -> str:
    """A version's reason as the page shows it: the seeded rule's in the person's language."""
    said, words = SEEDED_REASON
    return str(gettext(words)) if version.get("created_by") == "system" and version.get("reason") == said else str(version.get("reason") or "")


def _points(request: Request) -> Any:
    return request.app.state.downstream.points


@router.get("")
async def earning_rules(request: Request, uow: UowDep, now: NowDep, user: User) -> HTMLResponse:
    versions = await read(_points(request), "points", "/v1/earning-rules", user.bearer())
    writes = user.may("points.rule.write")
    # A new version starts from the latest one, scheduled or in force: the admin changes what differs.
    in_force, scheduled = earning_rule_form.in_force(versions, now)
    _ = gettext_of(request)
    return page(request, "staff/earning_rules.html", user, versions=list(reversed(versions)),
                reasons={v["version"]: reason_shown(v, _) for v in versions},
                in_force=in_force, scheduled=scheduled, writes=writes,
                staff_names=await display_names(uow, [v["created_by"] for v in versions]),
                shown=earning_rule_form.values_of(earning_rule_form.latest(versions)), key=secrets.token_hex(16),
                categories=known_categories().codes,
                added=added if (added := request.query_params.get("added", "")).isdigit() else "")


@router.post("")
async def add_version(request: Request, form: Form, user: User) -> Response:
    """Adds the version under the key made with the page: points answers a form sent again with
    the version the first one added."""
    body = _by_codes(earning_rule_form.body(earning_rule_form.values(form), zone_of(request)))
    await _ensure_stores(request, body.get("store_rates", {}))
    added = (await call(_points(request), "points", "POST", "/v1/earning-rules", keyed(user, form), json=body,
                        located=earning_rule_form.located)).json()
    return go(request, f"/console/earning-rules?added={added['version']}#version-{added['version']}")


def _by_codes(body: dict[str, Any]) -> dict[str, Any]:
    """The body with its categories by their codes: the tills send `fresh`, so a multiplier kept
    under the name the console shows (`生鲜`) would earn nothing extra. A category given two rates
    under two of its names is refused as one name given twice is."""
    code = known_categories().code
    if multipliers := body.get("category_multipliers"):
        coded: dict[str, str] = {}
        for typed, rate in multipliers.items():
            if (category := code(typed)) in coded:
                raise Invalid("category_multipliers", f"{category} is given twice")
            coded[category] = rate
        body["category_multipliers"] = coded
    if excluded := body.get("excluded_categories"):
        body["excluded_categories"] = list(dict.fromkeys(code(typed) for typed in excluded))
    return body


async def _ensure_stores(request: Request, store_ids: Iterable[str]) -> None:
    """Each store given a rate is one the chain has or had (a closed one's rate is harmless): points
    cannot tell, and a rate of a store nobody has would be kept as if it were in force. Read in a
    transaction of its own, ended before points is asked."""
    if store_ids := list(store_ids):
        await ensure_had(request.app.state.commands, [("store_rates", store_id) for store_id in store_ids])
