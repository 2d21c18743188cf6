"""The admins' pages of the console for the identity clients, tills and the platform's services: the
clients listed (by kind and store, the revoked ones on request) with the form that enrols one, and a
client's page with its audit trail and the forms that change its secret and revoke it.

The clients are the gateway's own: the pages call the service layer the client API calls
(`api/routes/identity_clients.py`), in the request's unit of work and under the API's policy
actions (`gateway.identity_client.read`, `gateway.identity_client.write`), and read the enrol form
as the API's own body (`ClientIn`), so a form is held to exactly the rules a JSON client is and its
refusal names the field as the API's would. A secret is shown once, in the answer to the form
(after the change has committed), and never put in an address, where a browser's history or a
proxy's log would keep it. Revoking goes through the same `identity.revoke` as the API, which makes
this replica refuse a revoked till's tokens at once."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.api.console.render import go, page, shown_once
from gateway.api.console.session import CHECKED, Console, ConsoleUser, Form, as_body, one
from gateway.api.schemas import ClientIn
from gateway.domain.identity import DOWNSTREAM_SERVICES, ClientKind
from gateway.service_layer import identity
from gateway.service_layer.app import store_names
from gateway.service_layer.console_people import display_names
from gateway.service_layer.identity import Actor
from gateway.service_layer.stores import ensure_store
from shared.deps import ReadUowDep, UowDep
from shared.errors import Invalid, NotOneOf
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(prefix="/console/clients", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
Reader = Annotated[ConsoleUser, Console("gateway.identity_client.read")]
Writer = Annotated[ConsoleUser, Console("gateway.identity_client.write")]
KINDS: tuple[str, ...] = tuple(kind.value for kind in ClientKind)
# What a client's page confirms after a step, by the `done` of its address.
DONE = ("revoked",)


def _writes(user: ConsoleUser) -> bool:
    """Whether the page offers its forms: a reader who may not change clients is not shown forms
    that would only be refused."""
    return user.may("gateway.identity_client.write")


def _client_page(client_id: str) -> str:
    return f"/console/clients/{quote(client_id, safe='')}"


@router.get("")
async def clients(request: Request, uow: ReadUowDep, user: Reader) -> HTMLResponse:
    """The clients, oldest first, narrowed as the API's list is: by kind, by store (one the chain
    has or had), with or without the revoked ones; and, for those who may, the enrol form."""
    kind = request.query_params.get("kind", "").strip()
    store = request.query_params.get("store_id", "").strip()
    revoked_too = request.query_params.get("include_revoked") == "yes"
    if kind and kind not in KINDS:
        raise NotOneOf("kind", KINDS)
    if store:  # a store the chain never had would be an empty list, as if it had no till
        await ensure_store(uow.session, store, closed_too=True)
    rows = await identity.listing(uow, kind=ClientKind(kind) if kind else None, store_id=store or None,
                                  include_revoked=revoked_too)
    stores = await store_names(uow.session, {r.store_id for r in rows if r.store_id})
    return page(request, "clients/list.html", user, clients=rows, kinds=KINDS, kind=kind, store=store,
                revoked_too=revoked_too, stores=stores, writes=_writes(user), services=DOWNSTREAM_SERVICES)


@router.post("")
async def enrol(request: Request, form: Form, uow: UowDep, user: Writer) -> HTMLResponse:
    """The new till or service and its secret, shown this once: htmx puts the answer in place of
    the page's content (a second click has no form left to send), a browser without scripts gets it
    as a page. A field left empty is left out, as a JSON client leaves out what its kind does not name."""
    filled = {name: one(form, name).strip() for name in ("store_id", "service", "label") if one(form, name).strip()}
    body = as_body(ClientIn, {"kind": one(form, "kind"), **filled})
    row, secret = await identity.enroll(uow, Actor.of(user.principal), body.kind, store_id=body.store_id, service=body.service,
                                        label=body.label)
    stores = await store_names(uow.session, {row.store_id} if row.store_id else set())
    return shown_once(request, user, "clients/_enrolled.html", "clients/enrolled.html", replaces_page=True,
                      client=row, secret=secret, stores=stores)


@router.get("/{client_id}")
async def client(client_id: str, request: Request, uow: ReadUowDep, user: Reader) -> HTMLResponse:
    """The client, its audit trail (newest first, by the names of those who acted) and, for those
    who may change it, its forms."""
    row = await identity.get(uow, client_id)
    trail = await identity.audit_trail(uow, client_id)
    names = await display_names(uow, [entry.actor for entry in trail])
    stores = await store_names(uow.session, {row.store_id} if row.store_id else set())
    done = request.query_params.get("done", "")
    return page(request, "clients/client.html", user, client=row, trail=list(reversed(trail)), staff_names=names,
                stores=stores, writes=_writes(user), done=done if done in DONE else "")


@router.post("/{client_id}/rotate", dependencies=CHECKED)
async def rotate(client_id: str, request: Request, uow: UowDep, user: Writer) -> HTMLResponse:
    """A new secret, shown this once in the form's message area; the old one stops working at once."""
    row, secret = await identity.rotate(uow, Actor.of(user.principal), client_id)
    return shown_once(request, user, "clients/_rotated.html", "clients/rotated.html", client=row, secret=secret)


@router.post("/{client_id}/revoke")
async def revoke(client_id: str, request: Request, form: Form, uow: UowDep, user: Writer) -> Response:
    """No new token for this client, ever, once the admin has ticked that they mean it: a till's
    tokens are refused at once, so it stops selling with points. Sent twice, it changes nothing the
    second time."""
    if one(form, "confirm") != "yes":
        raise Invalid("confirm", "tick the box to confirm that the till or service is to be revoked")
    await identity.revoke(uow, Actor.of(user.principal), client_id, request.app.state.revoked_tills)
    return go(request, f"{_client_page(client_id)}?done=revoked")
