"""The service desk's pages of the console: register a member, a customer's gifts (redeem one,
hand over a reserved one), leftover-material visits and a lost card replaced, complaints filed
for a customer or anonymously, the store's gift register to print, and its gift stock counted by
the store manager.

Every write carries an idempotency key made when the form was shown, so a form sent twice (a
double tap on the tablet, a retry after a timeout) registers, redeems or files once; a stock count
needs none, being what is on the shelf (sent twice, it sets the same figure). Members, points and
feedback decide, with the person's token."""

import asyncio
import secrets
from functools import partial
from typing import Annotated, Any, get_args
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.clients import segment
from gateway.api.console.gift_register import GiftRegister
from gateway.api.console.i18n import LANG_COOKIE, language_of
from gateway.api.console.render import (
    customer_name,
    gettext_of,
    go,
    keep_cookies,
    page,
    refused_query_page,
    today,
    zone_of,
)
from gateway.api.console.session import Console, ConsoleUser, Form, keyed, one
from gateway.domain.page_figures import totals
from gateway.domain.refusals import FormProblems, at_form_fields
from gateway.service_layer.console_people import customer_names, display_names
from gateway.service_layer.console_reads import ServiceRefused, call, read
from gateway.service_layer.stores import ensure_report_stores
from shared.deps import UowDep
from shared.errors import Invalid, NotOneOf, ServiceError
from shared.events.contracts.feedback import ComplaintCategory, Severity
from shared.identifiers import APP_STAFF_ID
from shared.query_params import QUERY_CHECKED_ELSEWHERE
from shared.reports import download_format, render
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/console/desk", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
# A customer's gift register entries on their desk page: the newest, then any older gift waiting.
NEWEST_ENTRIES = 20
# The most units a count may say (points' own bound of a store's stock).
MOST_UNITS = 1_000_000
REGISTRATION = ("name", "phone", "community", "address", "card_no", "email", "birthday", "gender")
# What a complaint is about and how serious it is: the values feedback takes (the shared contract).
CATEGORIES: tuple[str, ...] = get_args(ComplaintCategory)
SEVERITIES: tuple[str, ...] = get_args(Severity)
# How a complaint reached the desk: in person, or taken down from a call or the comment book; the
# app and the web are the customers' own ways in, not the desk's.
DESK_CHANNELS = ("service_desk", "phone", "comment_book")
# Members' names of the card form's boxes whose console labels are other forms' (a dead letter's
# reason for discarding).
CARD_BOXES = {"reason": "card_reason"}


def _store(user: ConsoleUser, form: dict[str, list[str]]) -> str:
    """The desk's own store (its token is bound to it); others say which store they serve."""
    store = user.principal.store_id or one(form, "store_id").strip()
    if not store:
        raise Invalid("store_id", "say which store the customer is served at")
    return store


def _complaint_form(user: ConsoleUser) -> dict[str, Any]:
    """The complaint form of a desk page: offered to the roles feedback lets file one (a role it
    would refuse is not shown a form to fill in for nothing), with its own idempotency key."""
    return {"files_complaints": user.may("feedback.complaint.file"), "complaint_key": secrets.token_hex(16),
            "categories": CATEGORIES, "severities": SEVERITIES, "channels": DESK_CHANNELS}


async def _file_complaint(request: Request, user: ConsoleUser, form: dict[str, list[str]], member_id: str | None) -> Response:
    """Files the complaint with feedback and goes to its page, where it is worked on."""
    channel = one(form, "channel").strip() or "service_desk"
    if channel not in DESK_CHANNELS:
        raise NotOneOf("channel", DESK_CHANNELS)
    store = _store(user, form)
    if store != user.principal.store_id:
        # Feedback keeps no stores: a complaint about a store the chain does not have open would sit
        # in a queue nobody works. The person's own store is their token's, checked when it was issued.
        await request.app.state.open_stores.ensure(request.app.state.commands, store)
    body: dict[str, Any] = {"store_id": store, "channel": channel, "category": one(form, "category"),
                            "severity": one(form, "severity"), "description": one(form, "description")}
    if member_id is not None:
        body["member_id"] = member_id
    answer = await call(request.app.state.downstream.feedback, "feedback", "POST", "/v1/complaints", keyed(user, form), json=body)
    return go(request, f"/console/complaints/{quote(answer.json()['id'], safe='')}?filed=1")


@router.get("")
async def desk(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """Find the customer by card (or phone), register a new one, or file a complaint of no customer."""
    card, phone = request.query_params.get("card_no", "").strip(), request.query_params.get("phone", "").strip()
    shown = {"card": card, "phone": phone, "key": secrets.token_hex(16), "registered": request.query_params.get("registered", ""),
             **_complaint_form(user)}
    refused_query_page(request, "staff/desk.html", user, found=None, **shown)
    found = None
    if card or phone:
        params = {"card_no": card} if card else {"phone": phone}
        found = await read(request.app.state.downstream.members, "members", "/v1/members", user.bearer(), {**params, "limit": "10"})
        # A card is scanned with its holder at the desk, and names one customer: the scan opens
        # their page, not a list of one. A phone is typed and a household may share it: a list,
        # so the clerk sees who else it finds. A card replaced at the desk (lost, then found again)
        # stays a list too, saying so, for the clerk to tell the customer the card they hold now.
        if card and found["total"] == 1 and len(found["items"]) == 1 and not found["items"][0].get("replaced_card"):
            return go(request, f"/console/desk/members/{quote(found['items'][0]['id'], safe='')}")
    return page(request, "staff/desk.html", user, found=found, **shown)


@router.post("/register")
async def register(request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    body: dict[str, Any] = {k: one(form, k).strip() for k in REGISTRATION if one(form, k).strip()}
    body["consents"] = {"sms": one(form, "consent_sms") == "yes"}
    if user.principal.store_id:
        body["home_store_id"] = user.principal.store_id
    answer = await call(request.app.state.downstream.members, "members", "POST", "/v1/members", keyed(user, form), json=body)
    member = answer.json()
    return go(request, f"/console/desk/members/{quote(member['id'], safe='')}?registered=1")


@router.get("/members/{member_id}")
async def customer(member_id: str, request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    quoted, headers, points = segment(member_id), user.bearer(), request.app.state.downstream.points
    profile = await read(request.app.state.downstream.members, "members", f"/v1/members/{quoted}", headers)
    shown: dict[str, Any] = {"key": secrets.token_hex(16), "today": today(request).isoformat(), "notice": request.query_params.get("notice", ""),
                             **_complaint_form(user)}
    try:
        balance = (await read(points, "points", f"/v1/accounts/{quoted}", headers, {"entries": "0"}))["balance"]
    except ServiceRefused as refused:
        if refused.status_code != 404:
            raise
        # Points opens the account when the registration event reaches it, a moment after members
        # answered, and the desk lands here straight after registering: the customer is shown
        # with the account still opening (a reload shows the gifts), never as an error page.
        return page(request, "staff/desk_customer.html", user, profile=profile, catalogue={"gifts": []}, entries=[], names={},
                    entitlements=[], balance=0, opening=True, left={}, payable=set(), **shown)
    catalogue = await read(points, "points", f"/v1/members/{quoted}/gifts", headers)
    # Units left where the gift is handed over, where it is redeemed: at a desk's own store,
    # whatever the customer's home store; staff of the whole chain name the store on the form, the
    # home store by default. A coupon has no stock.
    left = {g["gift_id"]: g["stock_at_home_store"] for g in catalogue["gifts"]}
    if desk_store := user.principal.store_id:
        units = {s["gift_id"]: s["quantity"] for s in await read(points, "points", "/v1/gifts/stock", headers, {"store_id": desk_store})}
        left = {g["gift_id"]: units.get(g["gift_id"], 0) if g["kind"] == "gift" else None for g in catalogue["gifts"]}
    # Offered only what the balance pays for and the store still has; the rest is listed greyed out.
    payable = {g["gift_id"] for g in catalogue["gifts"] if g["points"] <= balance and left.get(g["gift_id"]) != 0}
    # The 20 newest, and every gift still waiting to be handed over, however many came after it.
    newest = await read(points, "points", f"/v1/members/{quoted}/redemptions", headers, {"limit": str(NEWEST_ENTRIES)})
    waiting = await read(points, "points", f"/v1/members/{quoted}/redemptions", headers, {"status": "reserved", "limit": "200"})
    shown_ids = {e["redemption_id"] for e in newest}
    entries = newest + [e for e in waiting if e["redemption_id"] not in shown_ids]
    entitlements = await read(points, "points", f"/v1/entitlements/{quoted}", headers)
    names = {g["gift_id"]: g["name_en"] if language_of(request.cookies.get(LANG_COOKIE)) == "en" else g["name_zh"]
             for g in catalogue["gifts"]}
    return page(request, "staff/desk_customer.html", user, profile=profile, catalogue=catalogue, entries=entries, names=names,
                entitlements=entitlements, balance=balance, opening=False, left=left, payable=payable, **shown)


@router.post("/complaints")
async def file_anonymous_complaint(request: Request, form: Form,
                                   user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """A complaint of no member: someone at the desk who is not one, or a page of the comment book."""
    return await _file_complaint(request, user, form, None)


@router.post("/members/{member_id}/complaints")
async def file_complaint(member_id: str, request: Request, form: Form,
                         user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    return await _file_complaint(request, user, form, member_id)


@router.post("/members/{member_id}/redeem")
async def redeem(member_id: str, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    body = {"member_id": member_id, "gift_id": one(form, "gift_id"), "store_id": _store(user, form)}
    await call(request.app.state.downstream.points, "points", "POST", "/v1/redemptions", keyed(user, form), json=body)
    return go(request, f"/console/desk/members/{quote(member_id, safe='')}?notice=redeemed")


@router.post("/members/{member_id}/card")
async def replace_card(member_id: str, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """A lost or damaged card replaced by the card handed over, or a number members issues. The
    form names the card it replaces, so a form sent twice replaces once."""
    body: dict[str, Any] = {"replaces": one(form, "replaces"), "reason": one(form, "card_reason")}
    if card := one(form, "card_no").strip():
        body["card_no"] = card
    await call(request.app.state.downstream.members, "members", "POST", f"/v1/members/{segment(member_id)}/card-replacement",
               user.bearer(), json=body, located=lambda said: at_form_fields(said, CARD_BOXES))
    return go(request, f"/console/desk/members/{quote(member_id, safe='')}?notice=card_replaced")


@router.post("/members/{member_id}/hand-over")
async def hand_over(member_id: str, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    redemption = segment(one(form, "redemption_id"))
    await call(request.app.state.downstream.points, "points", "POST", f"/v1/redemptions/{redemption}/hand-over", user.bearer())
    return go(request, f"/console/desk/members/{quote(member_id, safe='')}?notice=handed_over")


@router.post("/members/{member_id}/visit")
async def visit(member_id: str, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """One use of a service entitlement (a leftover-material visit)."""
    kind = segment(one(form, "kind"))
    body = {"used_on": one(form, "used_on") or today(request).isoformat(), "store_id": _store(user, form)}
    await call(request.app.state.downstream.points, "points", "POST", f"/v1/entitlements/{segment(member_id)}/{kind}/uses",
               keyed(user, form), json=body)
    return go(request, f"/console/desk/members/{quote(member_id, safe='')}?notice=visited")


# The stock form's field of a gift's count, by gift id: `count.pillow`, a part of the count, so a
# refusal naming it marks that gift's box and is worded as the count's.
COUNT_FIELD = "count."


@router.get("/stock")
async def stock(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """The store's gift stock (on the shelf, reserved and not yet handed over, free to redeem, when
    its figures last changed) and the form to enter a count: the store manager's stocktaking. Points decides
    who may read and set it."""
    store = user.principal.store_id or request.query_params.get("store_id", "").strip()
    gifts: list[dict[str, Any]] = []
    counts: dict[str, dict[str, Any]] = {}
    if store:
        if store != user.principal.store_id:  # a store asked for, not the person's own
            await ensure_report_stores(request.app.state.commands, [store])
        points, headers = request.app.state.downstream.points, user.bearer()
        catalogue, held = await asyncio.gather(read(points, "points", "/v1/gifts", headers),
                                               read(points, "points", "/v1/gifts/stock", headers, {"store_id": store}))
        counts = {c["gift_id"]: c for c in held}
        # A coupon has no stock; a gift the store never counted is on the list, to be counted.
        gifts = [g for g in catalogue if g.get("kind", "gift") == "gift"]
    names = _gift_names(request, gifts)
    return page(request, "staff/gift_stock.html", user, store=store, gifts=gifts, counts=counts, names=names,
                field=COUNT_FIELD, counted=request.query_params.get("counted", ""),
                totals=totals(list(counts.values()), ("on_hand", "reserved", "quantity")))


def _gift_names(request: Request, gifts: list[dict[str, Any]]) -> dict[str, str]:
    """Each gift's name in the person's language, by gift id: what the form shows beside its box."""
    english = language_of(request.cookies.get(LANG_COOKIE)) == "en"
    return {g["gift_id"]: g["name_en"] if english else g["name_zh"] for g in gifts}


@router.post("/stock")
async def count_stock(request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """The counts entered, one per gift (a field left empty was not counted). Every count is read
    before any is sent, so a mistyped one changes nothing, and every mistyped one is refused at once,
    by its gift's name; a count is what is on the shelf, so the form sent twice sets the same figures again."""
    store = _store(user, form)
    entered: dict[str, int] = {}
    mistyped: list[str] = []
    for name, values in form.items():
        if not name.startswith(COUNT_FIELD) or not (value := (values or [""])[0].strip()):
            continue
        gift_id = name.removeprefix(COUNT_FIELD)
        # Digits only (a full-width ７ from a Chinese keyboard is one), and few enough to read.
        if not value.isdecimal() or len(value) > len(str(MOST_UNITS)) or int(value) > MOST_UNITS:
            mistyped.append(gift_id)
            continue
        entered[gift_id] = int(value)
    if mistyped:
        raise FormProblems([{"loc": [COUNT_FIELD.rstrip("."), gift_id], "msg": f"a whole number of units from 0 to {MOST_UNITS}",
                             "shown_as": shown} for gift_id, shown in (await _mistyped_named(request, user, mistyped)).items()])
    if not entered:
        raise Invalid("count", "enter the units counted of at least one gift")
    if store != user.principal.store_id:
        await ensure_report_stores(request.app.state.commands, [store])
    points = request.app.state.downstream.points
    for gift_id, units in entered.items():
        await call(points, "points", "PUT", f"/v1/gifts/{segment(gift_id)}/stock/{segment(store)}", user.bearer(),
                   json={"quantity": units})
    back = {"counted": str(len(entered)), **({} if user.principal.store_id else {"store_id": store})}
    return go(request, f"/console/desk/stock?{urlencode(back)}")


async def _mistyped_named(request: Request, user: ConsoleUser, gift_ids: list[str]) -> dict[str, str]:
    """The gifts by the names the form shows them by; a gift the catalogue no longer has, or a
    catalogue points cannot give now, by its id: the counts are refused either way."""
    try:
        names = _gift_names(request, await read(request.app.state.downstream.points, "points", "/v1/gifts", user.bearer()))
    except ServiceError:
        names = {}
    return {gift_id: names.get(gift_id, gift_id) for gift_id in gift_ids}


async def _register(request: Request, user: ConsoleUser, uow: UnitOfWork) -> tuple[str, str, str, GiftRegister]:
    """The store (the desk's own, or the one asked for), the period, and its register with names."""
    store = user.principal.store_id or request.query_params.get("store_id", "").strip()
    if store and store != user.principal.store_id:  # a store asked for, not the desk's own
        await ensure_report_stores(request.app.state.commands, [store])
    first = request.query_params.get("from", "").strip() or today(request).isoformat()
    last = request.query_params.get("to", "").strip() or first
    register = GiftRegister()
    if store:
        points, members = request.app.state.downstream.points, request.app.state.downstream.members
        register.rows = await read(points, "points", "/v1/gift-register", user.bearer(), {"store_id": store, "from": first, "to": last})
        # Names, not ids, on paper: the gifts from the catalogue, the customers from members, the
        # staff who redeemed and handed over each gift from the gateway's own staff accounts (one query).
        register.gifts = {g["gift_id"]: (g["name_zh"], g["name_en"]) for g in await read(points, "points", "/v1/gifts", user.bearer())}
        register.people = await customer_names(members, (r["member_id"] for r in register.rows), user.bearer(),
                                               partial(customer_name, gettext=gettext_of(request)))
        register.staff_names = await display_names(uow, (r.get(k) for r in register.rows for k in ("staff_id", "handed_over_by")))
        # A gift the member reserved in the app was redeemed by no one on the staff.
        register.staff_names[APP_STAFF_ID] = gettext_of(request)("the member, in the app")
    return store, first, last, register


@router.get("/gift-register")
async def gift_register(request: Request, uow: UowDep, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """The store's gift register for a day or a period, to print; a period refused (one that ends
    before it starts) is shown again as typed, with no register read."""
    refused_query_page(request, "staff/gift_register.html", user, register=GiftRegister(), rows=[], totals={},
                       store=user.principal.store_id or request.query_params.get("store_id", "").strip(),
                       first=request.query_params.get("from", "").strip(), last=request.query_params.get("to", "").strip())
    store, first, last, register = await _register(request, user, uow)
    return page(request, "staff/gift_register.html", user, register=register, rows=register.rows, store=store, first=first,
                last=last, totals=totals(register.rows, ("points_kept",)))


@router.get("/gift-register/export")
async def gift_register_export(request: Request, uow: UowDep, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """The same register for Excel: CSV (a byte-order mark, a totals row), or with `format=xlsx` a
    workbook whose card numbers and ids Excel cannot reformat."""
    fmt = download_format(request.query_params.get("format"))
    store, first, last, register = await _register(request, user, uow)
    if not store:
        raise Invalid("store_id", "say which store's register to export")
    gettext = gettext_of(request)
    columns = register.columns(gettext, language_of(request.cookies.get(LANG_COOKIE)), zone_of(request))
    # Its headings are in the person's language, so its totals row is too, not the services' "合计 Total".
    response = render(fmt, title=f"{gettext('Gift register')} {store}", columns=columns, rows=register.rows,
                      json_body=None, filename=f"gift-register-{quote(store, safe='')}-{first}-{last}", totals=("points_kept",),
                      total_label=gettext("Total"))
    keep_cookies(request, response)
    return response
