"""The admins' pages of the console for staff accounts: the accounts listed (by role and store, the
deactivated ones on request), an account's page with its audit trail, and the forms that add an
account, change its name, role, store or staff-directory id, set a new password, deactivate and
reactivate it, and remove its second factor.

The accounts are the gateway's own: the pages call the service layer the staff API calls
(`api/routes/staff.py`), in the request's unit of work and under the API's policy actions
(`gateway.staff.read`, `gateway.staff.write`), and read each form as the API's own body (`StaffIn`,
`StaffUpdate`, `PasswordIn`), so a form is held to exactly the rules a JSON client is and its
refusal names the field as the API's would. A generated password is shown once, in the answer to
the form (after the change has committed), and never put in an address, where a browser's history
or a proxy's log would keep it."""

import secrets
from typing import Annotated, get_args
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response

from gateway.api.console.render import go, page, shown_once
from gateway.api.console.session import CHECKED, Console, ConsoleUser, Form, as_body, filled, form_key, one
from gateway.api.staff_schemas import PasswordIn, StaffIn, StaffRole, StaffUpdate
from gateway.domain.refusals import FormProblems
from gateway.domain.staff import MIN_PASSWORD_CHARS, SECOND_FACTOR_ROLES
from gateway.service_layer import second_factor, staff
from gateway.service_layer.app import store_names
from gateway.service_layer.console_people import display_names
from gateway.service_layer.identity import Actor
from gateway.service_layer.stores import ensure_store
from shared.auth import Role
from shared.deps import ReadUowDep, UowDep
from shared.errors import NotOneOf
from shared.query_params import QUERY_CHECKED_ELSEWHERE
from shared.validation_errors import summarise

router = APIRouter(prefix="/console/accounts", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
Reader = Annotated[ConsoleUser, Console("gateway.staff.read")]
Writer = Annotated[ConsoleUser, Console("gateway.staff.write")]
ROLES: tuple[str, ...] = get_args(StaffRole)
# What an account's page confirms after a step, by the `done` of its address.
DONE = ("changed", "deactivated", "reactivated", "second_factor_removed")


def _writes(user: ConsoleUser) -> bool:
    """Whether the page offers its forms: a reader who may not change accounts is not shown forms
    that would only be refused."""
    return user.may("gateway.staff.write")


def _account_page(staff_id: str, done: str) -> str:
    return f"/console/accounts/{quote(staff_id, safe='')}?done={done}"


@router.get("")
async def accounts(request: Request, uow: ReadUowDep, user: Reader) -> HTMLResponse:
    """The accounts by login, narrowed as the API's list is: by role, by store (one the chain has
    or had), with or without the deactivated ones."""
    role = request.query_params.get("role", "").strip()
    store = request.query_params.get("store_id", "").strip()
    everyone = request.query_params.get("include_deactivated") == "yes"
    if role and role not in ROLES:
        raise NotOneOf("role", ROLES)
    if store:  # a store the chain never had would be an empty list, as if nobody worked there
        await ensure_store(uow.session, store, closed_too=True)
    rows = await staff.listing(uow, role=Role(role) if role else None, store_id=store or None, include_deactivated=everyone)
    stores = await store_names(uow.session, {r.store_id for r in rows if r.store_id})
    return page(request, "accounts/list.html", user, accounts=rows, roles=ROLES, role=role, store=store, everyone=everyone,
                stores=stores, writes=_writes(user))


@router.get("/new")
async def new_account(request: Request, user: Writer) -> HTMLResponse:
    return page(request, "accounts/new.html", user, roles=ROLES, min_password=MIN_PASSWORD_CHARS, key=secrets.token_hex(16))


@router.post("")
async def create(request: Request, form: Form, uow: UowDep, user: Writer) -> HTMLResponse:
    """The new account, and its generated password where none was typed, shown this once: htmx
    puts the answer in place of the form (a second click has no form left to send), a browser
    without scripts gets it as a page. The form's key, made with the page, makes the form sent
    again after a lost answer show the account, with another generated password, not "login taken"."""
    # A box left empty is left out, for the API's rules to name it as required (not as too short);
    # the login, name and role are refused together, for the admin to fill them in at once.
    try:
        body = as_body(StaffIn, filled(form, "login", "name", "role", "store_id", "account_manager_id", "password",
                                       as_typed={"password"}))
    except RequestValidationError as exc:
        raise FormProblems(summarise(exc.errors())) from None
    row, generated, _ = await staff.create(
        uow, Actor.of(user.principal), login=body.login, name=body.name, role=Role(body.role), store_id=body.store_id,
        account_manager_id=body.account_manager_id, password=body.password, key=form_key(form),
    )
    return shown_once(request, user, "accounts/_created.html", "accounts/created.html", replaces_page=True,
                      account=row, generated=generated)


@router.get("/{staff_id}")
async def account(staff_id: str, request: Request, uow: ReadUowDep, user: Reader) -> HTMLResponse:
    """The account, its audit trail (newest first, by the names of those who acted) and, for those
    who may change it, its forms."""
    row = await staff.get(uow, staff_id)
    trail = await staff.audit_trail(uow, staff_id)
    names = await display_names(uow, [entry.actor for entry in trail])
    stores = await store_names(uow.session, {row.store_id} if row.store_id else set())
    done = request.query_params.get("done", "")
    return page(request, "accounts/account.html", user, account=row, trail=list(reversed(trail)), staff_names=names,
                stores=stores, roles=ROLES, writes=_writes(user), min_password=MIN_PASSWORD_CHARS,
                has_second_factor_role=Role(row.role) in SECOND_FACTOR_ROLES, done=done if done in DONE else "")


@router.post("/{staff_id}")
async def change(staff_id: str, request: Request, form: Form, uow: UowDep, user: Writer) -> Response:
    """The form's name, role, store and directory id, as the API's patch: only what differs from the
    account is sent (a store closed since is not checked again when only the name changes), and a
    store or directory id emptied is cleared."""
    row = await staff.get(uow, staff_id)
    typed = {"name": one(form, "name"), "role": one(form, "role"), "store_id": one(form, "store_id").strip() or None,
             "account_manager_id": one(form, "account_manager_id").strip() or None}
    current = {"name": row.name, "role": row.role, "store_id": row.store_id, "account_manager_id": row.account_manager_id}
    body = as_body(StaffUpdate, {name: value for name, value in typed.items() if value != current[name]})
    sent = body.model_fields_set
    what = staff.StaffChange(
        name=body.name, role=Role(body.role) if body.role else None, store_id=body.store_id,
        clear_store="store_id" in sent and body.store_id is None, account_manager_id=body.account_manager_id,
        clear_account_manager="account_manager_id" in sent and body.account_manager_id is None,
    )
    await staff.change(uow, Actor.of(user.principal), staff_id, what)
    return go(request, _account_page(staff_id, "changed"))


@router.post("/{staff_id}/password")
async def set_password(staff_id: str, request: Request, form: Form, uow: UowDep, user: Writer) -> HTMLResponse:
    """A new password, the one typed or (left empty) a generated one shown this once in the form's
    message area; every session of the account ends."""
    body = as_body(PasswordIn, filled(form, "password", as_typed={"password"}))
    generated = await staff.set_password(uow, Actor.of(user.principal), staff_id, body.password)
    return shown_once(request, user, "accounts/_password_set.html", "accounts/password_set.html",
                      account=await staff.get(uow, staff_id), generated=generated)


@router.post("/{staff_id}/deactivate", dependencies=CHECKED)
async def deactivate(staff_id: str, request: Request, uow: UowDep, user: Writer) -> Response:
    """No more logins; every session ends. Sent twice, it changes nothing the second time."""
    await staff.deactivate(uow, Actor.of(user.principal), staff_id)
    return go(request, _account_page(staff_id, "deactivated"))


@router.post("/{staff_id}/reactivate", dependencies=CHECKED)
async def reactivate(staff_id: str, request: Request, uow: UowDep, user: Writer) -> Response:
    await staff.reactivate(uow, Actor.of(user.principal), staff_id)
    return go(request, _account_page(staff_id, "reactivated"))


@router.post("/{staff_id}/second-factor/remove", dependencies=CHECKED)
async def remove_second_factor(staff_id: str, request: Request, uow: UowDep, user: Writer) -> Response:
    """For a lost phone: logging in needs the password only, until a second factor is enrolled again
    (through the API, which answers the new seed for the person's authenticator app)."""
    await second_factor.remove(uow, Actor.of(user.principal), staff_id)
    return go(request, _account_page(staff_id, "second_factor_removed"))
