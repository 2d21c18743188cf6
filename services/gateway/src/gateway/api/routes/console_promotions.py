"""Marketing's promotion list on the console, and the rounds of personal offer lists built from it.

The list shows every promotion with the ones in force now marked (campaigns answers which, `at`),
its terms and who listed it; the roles that may get the form of a new one, sent with a key made
with the page (a form sent twice lists one), and withdrawing one behind a box to tick (twice is
once: campaigns keeps the first time). The rounds are the fortnightly builds of everyone's lists;
the roles that may build this period's now (campaigns answers the round it had, when there is
one). Campaigns' API decides, with the person's token."""

import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.clients import segment
from gateway.api.console.render import go, page, zone_of
from gateway.api.console.session import Console, ConsoleUser, Form, chosen, keyed
from gateway.domain import promotion_form
from gateway.service_layer.console_people import display_names
from gateway.service_layer.console_reads import call, read
from shared.deps import NowDep, UowDep
from shared.policy import POLICY
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
User = Annotated[ConsoleUser, Console("gateway.console.use")]  # campaigns decides, with the person's token
# What the list page confirms after a step, by the `done` of its address.
DONE = ("listed", "withdrawn", "built", "built_before")


def _campaigns(request: Request) -> Any:
    return request.app.state.downstream.campaigns


@router.get("/promotions")
async def promotions(request: Request, uow: UowDep, now: NowDep, user: User) -> HTMLResponse:
    client, headers = _campaigns(request), user.bearer()
    listed = await read(client, "campaigns", "/v1/promotions", headers, {"limit": "200"})
    in_force = await read(client, "campaigns", "/v1/promotions", headers, {"at": now.isoformat(), "limit": "500"})
    role = user.principal.role
    rounds = await read(client, "campaigns", "/v1/offer-lists", headers, {"limit": "12"}) \
        if role in POLICY["campaigns.offer_list.read"] else []
    done = request.query_params.get("done", "")
    return page(request, "staff/promotions.html", user, promotions=listed, in_force={p["id"] for p in in_force},
                rounds=rounds, staff_names=await display_names(uow, [p["created_by"] for p in listed]),
                writes=role in POLICY["campaigns.promotion.write"], builds=role in POLICY["campaigns.offer_list.build"],
                key=secrets.token_hex(16), done=done if done in DONE else "")


@router.post("/promotions")
async def list_promotion(request: Request, form: Form, user: User) -> Response:
    """Lists the promotion under the key made with the page: campaigns answers a form sent again
    with the promotion the first one listed."""
    body = promotion_form.body(promotion_form.values(form), zone_of(request))
    made = (await call(_campaigns(request), "campaigns", "POST", "/v1/promotions", keyed(user, form), json=body,
                       located=lambda said: _either_item(promotion_form.located(said), body))).json()
    return go(request, f"/console/promotions?done=listed#promotion-{quote(made['id'], safe='')}")


# Campaigns' one rule of a promotion's item, said alike whether neither or both were given.
_ONE_ITEM = "Value error, sku, category: give exactly one of them"


def _either_item(said: Any, sent: dict[str, Any]) -> Any:
    """Campaigns' refusal of the promotion's item at the SKU's box, saying what the form lacks: with
    neither box filled, to fill one in; with both, to keep one (campaigns' own words)."""
    if not isinstance(said, list):
        return said
    item = {"loc": ["body", "promotion_sku"], "type": "service_rule"}
    return [{**item, "msg": "give a SKU or a category" if not ({"sku", "category"} & sent.keys())
             else "sku, category: give exactly one of them"} if isinstance(e, dict) and e.get("msg") == _ONE_ITEM else e
            for e in said]


@router.post("/promotions/{promotion_id}/withdraw")
async def withdraw(promotion_id: str, request: Request, form: Form, user: User) -> Response:
    """Off the list for the next rounds, once the box is ticked; offers already on members' lists
    stay valid until they end."""
    chosen(form, "confirm", ("yes",))
    await call(_campaigns(request), "campaigns", "POST", f"/v1/promotions/{segment(promotion_id)}/withdraw", user.bearer())
    return go(request, f"/console/promotions?done=withdrawn#promotion-{quote(promotion_id, safe='')}")


@router.post("/offer-lists")
async def build_lists(request: Request, form: Form, user: User) -> Response:
    """This period's round now, if it is not built yet; a round there already (the job's, or a
    colleague's click) is the answer, and the page says so."""
    answer = await call(_campaigns(request), "campaigns", "POST", "/v1/offer-lists", user.bearer())
    return go(request, f"/console/promotions?done={'built' if answer.status_code == 201 else 'built_before'}#offer-lists")
