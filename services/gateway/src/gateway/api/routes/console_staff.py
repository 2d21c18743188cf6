"""Staff pages of the console: the customer information base (level 1 communities ranked, level 2
a community's customers, level 3 a customer's purchases; each printable and as CSV) and the
account manager's tracking queue, daily tracking form and daily report (a store manager's of any
of the store's account managers), and the VIP customers still waiting for an account manager.

Every page reads members' own API with the person's token: members decides what they may see
(a role that may not is told so on the page)."""

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.clients import segment
from gateway.api.console.render import downloaded, go, page, refused_query_page, today
from gateway.api.console.session import Console, ConsoleUser, Form, keyed, one
from gateway.domain.page_figures import bars, totals
from gateway.service_layer.console_reads import call, read
from gateway.service_layer.stores import ensure_report_stores
from shared.errors import Invalid, NotOneOf
from shared.follow_ups import earliest_follow_up, latest_follow_up
from shared.policy import POLICY, Scope
from shared.query_params import QUERY_CHECKED_ELSEWHERE
from shared.reports import download_format

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
FILTERS = ("store_id", "from", "to", "sort")
LEVELS = {"communities": "/v1/infobase/communities", "customers": "/v1/infobase/communities/{id}/customers",
          "purchases": "/v1/infobase/members/{id}/purchases"}
# What a level's `id` is, the name a refusal of it goes by (the console's LABELS: 小区, 客户).
LEVEL_IDS = {"customers": "community_id", "purchases": "member_id"}
METHODS = ("phone", "sms", "wechat", "home_visit", "in_store")


async def _filters(request: Request) -> dict[str, str]:
    """The report's filters; a store the chain never had is refused (a page of zeros would read as
    a store that sold nothing)."""
    filters = {k: v.strip() for k, v in request.query_params.items() if k in FILTERS and v.strip()}
    await ensure_report_stores(request.app.state.commands, [filters["store_id"]] if "store_id" in filters else [])
    return filters


def _members(request: Request) -> Any:
    return request.app.state.downstream.members


@router.get("/infobase")
async def communities(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """Level 1: communities ranked by buying households (or spend), with a bar chart."""
    typed = {k: v.strip() for k, v in request.query_params.items() if k in FILTERS}
    refused_query_page(request, "staff/infobase_communities.html", user, body=None, filters=typed, bars=[], ranked="households")
    filters = await _filters(request)
    body = await read(_members(request), "members", LEVELS["communities"], user.bearer(), {**filters, "limit": "500"})
    ranked = "spend" if filters.get("sort") == "spend" else "households"
    return page(request, "staff/infobase_communities.html", user, body=body, filters=filters,
                totals=totals(body["items"], ("households", "spend", "purchases", "member_count")),
                bars=bars(body["items"], "name", ranked), ranked=ranked)


@router.get("/infobase/communities/{community_id}")
async def customers(community_id: str, request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """Level 2: one community's customers by spend, and (members' `outside_scope`) what of level
    1's figures for the community the list leaves out, for whoever sees only some customers."""
    filters = await _filters(request)
    path = LEVELS["customers"].format(id=segment(community_id))
    body = await read(_members(request), "members", path, user.bearer(), {**filters, "limit": "1000"})
    listed = totals(body["items"], ("spend", "purchases"))
    return page(request, "staff/infobase_customers.html", user, body=body, filters=filters, totals=listed,
                unlisted=body.get("outside_scope"))


@router.get("/infobase/members/{member_id}")
async def purchases(member_id: str, request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """Level 3: one customer's purchases line by line, returns beneath their sale."""
    filters = await _filters(request)
    path = LEVELS["purchases"].format(id=segment(member_id))
    body = await read(_members(request), "members", path, user.bearer(), {**filters, "limit": "2000"})
    return page(request, "staff/infobase_purchases.html", user, body=body, filters=filters,
                totals=totals(body["items"], ("amount",)))


@router.get("/infobase/export")
async def export(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """Any level for Excel as members writes it (totals, local times, names): CSV, or with
    `format=xlsx` a workbook."""
    fmt = download_format(request.query_params.get("format"))
    level = request.query_params.get("level", "")
    if level not in LEVELS:
        raise NotOneOf("level", LEVELS)
    ident = request.query_params.get("id", "")
    if level != "communities" and not ident:
        raise Invalid(LEVEL_IDS[level], "required for this level")
    path = LEVELS[level].format(id=segment(ident))
    answer = await call(_members(request), "members", "GET", path, user.bearer(),
                        params={**await _filters(request), "format": fmt.value, "limit": "5000"})
    return downloaded(request, answer)


@router.get("/tracking")
async def tracking_queue(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """The account manager's queue (most recent purchase first, churn risk, the follow-ups due and
    the birthdays coming) and the day's form, which may plan the next contact. Those who read
    tracking but keep no queue (store managers, admins) are sent to the reports their menu offers."""
    if not user.may("members.tracking.record") and user.may("members.tracking.read"):
        return go(request, "/console/tracking/report")
    queue = await read(_members(request), "members", "/v1/tracking/queue", user.bearer())
    this_day = today(request)
    items = queue["items"]
    # The next follow-up's picker offers the days members takes after a contact of the form's own
    # date, today; a date changed to an earlier day is members' to judge, which may take today too.
    follow_up = (earliest_follow_up(this_day, this_day).isoformat(), latest_follow_up(this_day).isoformat())
    return page(request, "staff/tracking_queue.html", user, queue=queue, today=this_day.isoformat(), methods=METHODS,
                follow_up=follow_up,
                due=sum(1 for c in items if c.get("follow_up_due")),
                birthdays=sum(1 for c in items if c.get("birthday_in_days") is not None),
                chosen=request.query_params.get("member_id", ""), recorded=request.query_params.get("recorded") == "1",
                key=secrets.token_hex(16))


@router.post("/tracking")
async def record_tracking(request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """One line of the daily tracking form, recorded by members (the customer must be the
    manager's own; members says so otherwise)."""
    try:
        rating = int(one(form, "rating"))
    except ValueError:
        raise Invalid("rating", "choose 1 to 5") from None
    body = {"tracked_on": one(form, "tracked_on"), "member_id": one(form, "member_id"), "contact": one(form, "contact"),
            "method": one(form, "method"), "rating": rating, "notes": one(form, "notes"),
            # Left empty, the contact plans no next one.
            "next_follow_up_on": one(form, "next_follow_up_on").strip() or None}
    await call(_members(request), "members", "POST", "/v1/tracking/records", keyed(user, form), json=body)
    return go(request, "/console/tracking?recorded=1")


@router.get("/tracking/report")
async def tracking_report(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """The day's tracking records, to print: an account manager's own; a store manager's (or an
    admin's) of the store or of one of its account managers, chosen on the form, which keeps the
    choice when another day is shown."""
    day = request.query_params.get("date") or today(request).isoformat()
    params = {"date": day, **{k: v.strip() for k, v in request.query_params.items() if k in ("store_id", "manager_id") and v.strip()}}
    chooses = POLICY["members.tracking.read"].get(user.principal.role) in (Scope.STORE, Scope.ALL)
    refused_query_page(request, "staff/tracking_report.html", user, report=None, day=day, average=None, chooses=chooses, managers=[],
                       manager_id=params.get("manager_id", ""), store_id=params.get("store_id", ""))
    await ensure_report_stores(request.app.state.commands, [params["store_id"]] if "store_id" in params else [])
    report = await read(_members(request), "members", "/v1/tracking/reports/daily", user.bearer(), params)
    ratings = [r["rating"] for r in report["records"]]
    average = round(sum(ratings) / len(ratings), 1) if ratings else None
    managers: list[dict[str, Any]] = []
    # Whoever reads beyond their own customers (a store, the chain) chooses whose report; an
    # account manager's is their own.
    if chooses:
        managers = await read(_members(request), "members", "/v1/staff", user.bearer(),
                              {"role": "account_manager", **({"store_id": params["store_id"]} if "store_id" in params else {})})
    return page(request, "staff/tracking_report.html", user, report=report, day=day, average=average, chooses=chooses,
                managers=managers, manager_id=params.get("manager_id", ""), store_id=params.get("store_id", ""))


@router.get("/tracking/unassigned")
async def unassigned_vips(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """The store manager's VIP customers whose community no active account manager covers yet,
    longest waiting first (members' order): the work to hand out at the weekly meeting."""
    params = {"store_id": v} if (v := request.query_params.get("store_id", "").strip()) else {}
    await ensure_report_stores(request.app.state.commands, list(params.values()))
    vips = await read(_members(request), "members", "/v1/tracking/unassigned-vips", user.bearer(), params)
    return page(request, "staff/unassigned_vips.html", user, vips=vips, store_id=params.get("store_id", ""),
                totals=totals(vips, ("lifetime_spend",)))
