"""Staff pages of the console: customer search, the customer-360 page (profile as the
person's role may see it, points ledger, purchases, coupons, complaints, messages), and the copy of
a customer's data handed over on their request and their erasure (for whoever handles privacy
requests).

The search reads members' `GET /v1/members` and the page the gateway's own
`GET /api/v1/customers/{id}/360`, both with the person's token: the services decide what the
person may see, the policy unchanged."""

import logging
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.clients import segment
from gateway.api.console.i18n import LANG_COOKIE, language_of
from gateway.api.console.ledger_reasons import ledger_reason, named
from gateway.api.console.message_reasons import message_reason
from gateway.api.console.refusals import sentence
from gateway.api.console.render import gettext_of, go, keep_cookies, page, refused_query_page, today
from gateway.api.console.services import service_clients
from gateway.api.console.session import Console, ConsoleUser, Form, one
from gateway.domain.ledger_wording import Names
from gateway.domain.refusals import problems
from gateway.service_layer.app import store_names
from gateway.service_layer.console_people import StaffDirectory, display_names
from gateway.service_layer.console_reads import ServiceRefused, call, read
from shared.deps import UowDep
from shared.errors import Invalid, ServiceError
from shared.policy import POLICY, Grant, MemberFacts
from shared.query_params import QUERY_CHECKED_ELSEWHERE
from shared.reports import attachment
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

router = APIRouter(prefix="/console/customers", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
# What a search may ask members: the card number, the name, the community, or (for the roles that
# may, and rate-limited by members) the phone.
SEARCH_FIELDS = ("card_no", "name", "community", "phone")
PAGE = 50  # customers a page of results shows
MOST_PAGES = 20_000  # a million customers: members pages no further
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,4}")


@dataclass(frozen=True, slots=True)
class Pages:
    """Where a page of results stands among the others, with the links to its neighbours."""

    page: int
    count: int
    previous: str | None
    next: str | None


def _page(request: Request) -> int:
    text = request.query_params.get("page", "").strip()
    if not text:
        return 1
    if not _PAGE_NUMBER.fullmatch(text) or int(text) > MOST_PAGES:
        raise Invalid("page", f"a page number from 1 to {MOST_PAGES}")
    return int(text)


def _pages(asked: dict[str, str], page: int, total: int) -> Pages | None:
    count = min(MOST_PAGES, -(-total // PAGE))
    if count <= 1 and page == 1:
        return None

    def link(n: int) -> str:
        return "/console/customers?" + urlencode({**asked, "page": n})

    # A page past the end (the list shrank since the link was made) leads back to the last one.
    return Pages(page, count, link(max(1, min(page - 1, count))) if page > 1 else None, link(page + 1) if page < count else None)


@router.get("")
async def search(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    asked = {k: v.strip() for k, v in request.query_params.items() if k in SEARCH_FIELDS and v.strip()}
    # Refused, the search comes back as the person typed it, every box (the card too) as it was.
    refused_query_page(request, "staff/customer_search.html", user, asked=asked, found=None, pages=None)
    # A card names one customer: searched alone, as at the desk. A card scanned after a search by
    # name is sent with the name the form still holds, and would otherwise find no one.
    if "card_no" in asked:
        asked = {"card_no": asked["card_no"]}
    found = pages = None
    if asked:
        number = _page(request)
        found = await read(request.app.state.downstream.members, "members", "/v1/members", user.bearer(),
                           {**asked, "limit": str(PAGE), "offset": str((number - 1) * PAGE)})
        pages = _pages(asked, number, found["total"])
    return page(request, "staff/customer_search.html", user, asked=asked, found=found, pages=pages)


@router.get("/{member_id}")
async def customer(member_id: str, request: Request, uow: UowDep, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    async with service_clients(request) as clients:
        try:
            view = await read(clients["gateway"], "gateway", f"/api/v1/customers/{segment(member_id)}/360", user.bearer())
        except ServiceRefused as refused:
            raise _once(refused) from None
    profile = view.get("member") or {}
    contacts = await _contacts(request, user, member_id)
    managers = [profile.get("manager_id"), *(c.get("manager_id") for c in contacts or [])]
    directory = StaffDirectory(request.app.state.downstream.members, user.principal, user.bearer())
    names = await _ledger_names(request, uow, user, (view.get("points") or {}).get("entries") or [])
    english = language_of(request.cookies.get(LANG_COOKIE)) == "en"
    return page(request, "staff/customer_360.html", user, view=view, profile=profile,
                staff_names=await display_names(uow, managers, directory), contacts=contacts,
                reads_contacts=user.may("members.tracking.read"),
                recent_purchases=[_after_returns(p) for p in _rows(view.get("recent_purchases"))], complaints=_rows(view.get("complaints")),
                coupons=_rows(view.get("coupons")), messages=_rows(view.get("messages")), member_id=member_id,
                may_export=user.may("gateway.privacy.export"),
                may_erase=user.may("gateway.privacy.erase"), notice=request.query_params.get("notice", ""),
                tracks=_tracks(user, member_id, profile),
                away={u["section"] for u in view.get("unavailable") or []},
                message_reason=lambda reason: message_reason(reason, gettext_of(request)),
                ledger_reason=lambda reason: ledger_reason(reason, gettext_of(request), names, english=english))


@router.post("/{member_id}/export")
async def export(member_id: str, request: Request, _: Form, user: Annotated[ConsoleUser, Console("gateway.privacy.export")]) -> Response:
    """The gateway's `POST /api/v1/customers/{id}/export` as a file to save and hand over: a form
    (with the CSRF token), since members records every export in the customer's access log."""
    async with service_clients(request) as clients:
        answer = await call(clients["gateway"], "gateway", "POST", f"/api/v1/customers/{segment(member_id)}/export", user.bearer())
    name = f"customer-{quote(member_id, safe='')}-{today(request).isoformat()}.json"
    response = Response(answer.content, media_type="application/json", headers=attachment(name))
    keep_cookies(request, response)
    return response


@router.post("/{member_id}/erasure")
async def erase(member_id: str, request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.privacy.erase")]) -> Response:
    """The gateway's `POST /api/v1/customers/{id}/erasure`, once the person has ticked that the
    customer asked for it: it cannot be undone."""
    if one(form, "confirm") != "yes":
        raise Invalid("confirm", "tick the box to confirm that the customer asked for the erasure")
    async with service_clients(request) as clients:
        await call(clients["gateway"], "gateway", "POST", f"/api/v1/customers/{segment(member_id)}/erasure", user.bearer())
    return go(request, f"/console/customers/{quote(member_id, safe='')}?notice=erased")


async def _ledger_names(request: Request, uow: UnitOfWork, user: ConsoleUser, entries: list[dict[str, Any]]) -> Names:
    """The names of the stores and gifts the ledger's reasons name, as the member app's ledger has
    them: the stores from the gateway's own table, the gifts from points' catalogue, each read once
    for the page (the catalogue only when a reason names a gift)."""
    store_ids, gift_ids = named(str(e.get("reason") or "") for e in entries)
    gifts = await _gift_names(request, user) if gift_ids else {}
    return Names(await store_names(uow.session, store_ids), gifts)


async def _gift_names(request: Request, user: ConsoleUser) -> dict[str, tuple[str, str]]:
    """gift id -> (Chinese, English) names from points' whole catalogue, gifts no longer on offer
    too. When points cannot give it, the gifts are shown by id: the ledger shows either way."""
    try:
        catalogue = await read(request.app.state.downstream.points, "points", "/v1/gifts", user.bearer())
    except ServiceError as refusal:
        log.warning("gift names for the console's ledger unavailable (%s); gifts shown by id", refusal)
        return {}
    return {g["gift_id"]: (g["name_zh"], g["name_en"]) for g in catalogue}


async def _contacts(request: Request, user: ConsoleUser, member_id: str) -> list[dict[str, Any]] | None:
    """The customer's latest tracking contacts, for those whose work reads them (account managers,
    store managers); None when members cannot answer now, so the page says so and shows the rest,
    as the 360 view does with a section whose service is away."""
    if user.principal.role not in POLICY["members.tracking.read"]:
        return None
    try:
        return list(await read(request.app.state.downstream.members, "members",
                               f"/v1/tracking/members/{segment(member_id)}/records", user.bearer(), {"limit": "20"}))
    except ServiceError:
        return None


def _tracks(user: ConsoleUser, member_id: str, profile: dict[str, Any]) -> bool:
    """Whether the person records contacts with this customer (the customer's own account manager,
    as members decides on the form): the page then leads to the tracking form."""
    if user.principal.role not in POLICY["members.tracking.record"] or not profile or profile.get("erased"):
        return False
    facts = MemberFacts(member_id, profile.get("home_store_id"), profile.get("manager_id"))
    return Grant.of(user.principal, "members.tracking.record").covers(facts)


def _rows(section: Any) -> list[Any]:
    """A section's rows, whether the service answered a list or a page of `items`."""
    if isinstance(section, dict):
        return list(section.get("items") or [])
    return list(section or [])


def _after_returns(purchase: dict[str, Any]) -> dict[str, Any]:
    """A recent purchase as the page lists it: what was paid for it, each return with its share of
    the sale's discount, and, when it has returns, what the sale came to after them (`net`). The
    profile's spend counts what was paid less what returns gave back, so the list shows the same
    figures, worked out here in Decimal from the amounts the services send as strings."""
    total, discount = Decimal(str(purchase["total"])), Decimal(str(purchase["discount"]))
    returns = []
    for r in purchase.get("returns") or []:
        amount, refunded = Decimal(str(r["amount"])), Decimal(str(r["refunded"]))
        # A return of a discounted sale gives back less than its lines' amount: the difference is
        # the discount it keeps, no longer taken off the sale.
        returns.append({**r, "amount": amount, "refunded": refunded, "kept": amount - refunded})
    net = None
    if returns:
        net = {"amount": total - sum((r["amount"] for r in returns), Decimal(0)),
               "discount": discount - sum((r["kept"] for r in returns), Decimal(0)),
               "paid": total - discount - sum((r["refunded"] for r in returns), Decimal(0))}
    return {**purchase, "paid": total - discount, "returns": returns, "net": net}


def _once(refused: ServiceRefused) -> ServiceRefused:
    """The 360 view is refused whole when any service refuses the customer, naming each section
    ("member: ...; points: ...; complaints: ..."), and the services refuse for the same reason: the
    person is told it once, not once per section under the label of a form field that shares the
    section's name ("points", the compensation in points). Each service names its own action, so
    the reasons are compared as the person reads them; differing ones are kept as they came."""
    named = problems(refused.said) if isinstance(refused.said, str) else []
    if named and len({sentence(why, str) or why for _, why in named}) == 1:
        reason = named[0][1]
        return ServiceRefused("gateway", refused.status_code, reason, reason)
    return refused
