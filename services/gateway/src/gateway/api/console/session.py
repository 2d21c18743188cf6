"""The console's browser session: the staff tokens in a cookie, refreshed by the server, and the
CSRF check of every form.

The access token (a minute) and the refresh token of the staff login live in one cookie that
scripts cannot read (HttpOnly), sent only to /console, only from the console's own pages
(SameSite=Strict) and only over https when the console is served over https or its public address
is https (`secure_cookies`). A page whose access token has expired (or is about to) swaps the
refresh token for new ones, exactly as a client of `POST /identity/v1/refresh` would, and sends
the new cookie back. A session left unused for the idle time is refused there like any API
client's (`gateway.domain.sessions`); the login page then says why, and goes on to the page that
was asked for once the person has logged in again.

Forms carry a token that must equal the value of a second cookie (double submit): with
SameSite=Strict, a cross-site form post already arrives without cookies, and the token refuses one
from a same-site page that is not the console's (another application on a sibling host). Such a
host can set a cookie of the same name for the whole domain, which the browser then sends beside
the console's own; a form that comes with two is refused, whichever of them it carries."""

import asyncio
import hmac
import secrets
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl

import jwt
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from gateway.domain.sessions import RETRY_GRACE, RefreshFailed, SessionIdle
from gateway.service_layer import console_people, staff_sessions
from gateway.service_layer.staff_sessions import SessionTokens, lifetimes
from shared.auth import Principal
from shared.authorize import Authorize
from shared.errors import Forbidden, Invalid, NotOneOf
from shared.idempotency import is_idempotency_key
from shared.policy import POLICY, Grant

BodyModel = TypeVar("BodyModel", bound=BaseModel)

SESSION_COOKIE = "crm_console"
CSRF_COOKIE = "crm_console_csrf"
CSRF_FIELD = "csrf"
PATH = "/console"
# An access token this close to its end is swapped before the page calls the services with it, so
# that a page's calls never start with a token that lapses half-way.
REFRESH_AHEAD_S = 10
# A form of the console has a few fields; a selection of dead letters has at most a page of them.
MAX_FORM_FIELDS = 500
# How long a swapped refresh token's successor is handed to concurrent requests that came with the
# old one (a page and its htmx fragments), the grace in which identity takes them for retries.
SUCCESSOR_GRACE_S = RETRY_GRACE.total_seconds()


class LoginNeeded(Exception):
    """No session, or one that ended: the browser is sent to the login page, which says so when
    the session ended for being left unused (`idle`)."""

    def __init__(self, *, idle: bool = False) -> None:
        super().__init__("log in to the console")
        self.idle = idle


class FormExpired(Forbidden):
    """The form's CSRF token is missing or is not this browser's."""

    def __init__(self) -> None:
        super().__init__("the form has expired or did not come from the console: reload the page and try again")


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    grant: Grant
    access_token: str
    # The staff account's name, for the header; the token's subject when there is no account
    # (a token minted with `crm token`).
    name: str = ""

    @property
    def principal(self) -> Principal:
        return self.grant.principal

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def may(self, action: str) -> bool:
        """Whether the person's role may take `action` at all (`shared.policy`): a page offers only
        the forms, buttons and links whose answer would not be a refusal of the role. Which
        customers and stores remain the services' to judge."""
        return self.principal.role in POLICY[action]


def cookie_value(tokens: SessionTokens) -> str:
    return f"{tokens.access_token}|{tokens.refresh_token}"


def remember_session(request: Request, tokens: SessionTokens) -> None:
    """The new tokens go back to the browser with the page being rendered (`render.page`). The
    cookie lasts as long as the session could, not only the refresh token's idle time: a browser
    that comes back after the idle time still sends it, and is told why it must log in again."""
    request.state.console_session = (cookie_value(tokens), tokens.session_expires_in)


class Successors:
    """The successor of each refresh token this replica swapped lately (see SUCCESSOR_GRACE_S):
    the requests of one browser that reach this replica with the old token all get the same one.
    Those that reach another replica are retries to identity, which gives each its own successor
    (`gateway.domain.sessions`); the browser keeps whichever came last, and all of them work."""

    def __init__(self) -> None:
        self._issued: dict[str, tuple[float, SessionTokens]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def swap(self, request: Request, refresh_token: str) -> SessionTokens:
        lock = self._locks.setdefault(refresh_token, asyncio.Lock())
        async with lock:
            now = time.monotonic()
            self._issued = {k: v for k, v in self._issued.items() if now - v[0] < SUCCESSOR_GRACE_S}
            if refresh_token in self._issued:
                return self._issued[refresh_token][1]
            issuer = request.app.state.token_issuer
            if issuer is None:
                raise LoginNeeded()
            try:
                tokens = await staff_sessions.refresh(
                    request.app.state.commands, issuer, lifetimes(request.app.state.settings), refresh_token,
                )
            except SessionIdle:
                raise LoginNeeded(idle=True) from None
            except RefreshFailed:
                raise LoginNeeded() from None
            finally:
                self._locks.pop(refresh_token, None)
            self._issued[refresh_token] = (now, tokens)
            return tokens


async def console_principal(request: Request) -> tuple[Principal, str]:
    """The logged-in staff member and a live access token, refreshing it when it has (nearly)
    expired; LoginNeeded without a session."""
    access, _, refresh = (request.cookies.get(SESSION_COOKIE) or "").partition("|")
    if not access or not refresh:
        raise LoginNeeded()
    verifier = request.app.state.verifier
    try:
        principal: Principal = verifier.verify(access)
        expires = jwt.decode(access, options={"verify_signature": False})["exp"]
        if expires - time.time() > REFRESH_AHEAD_S:
            return principal, access
    except (jwt.PyJWTError, ValueError):
        pass  # expired (or otherwise unusable): the refresh token decides
    successors: Successors = request.app.state.console_successors
    tokens = await successors.swap(request, refresh)
    remember_session(request, tokens)
    try:
        return verifier.verify(tokens.access_token), tokens.access_token
    except (jwt.PyJWTError, ValueError):
        raise LoginNeeded() from None


class ConsoleAuthorize(Authorize):
    """`Authorize` for the console's pages: the caller is the staff member of the browser session
    (the cookie) rather than of a bearer token, held to the same policy table."""

    async def __call__(self, request: Request) -> ConsoleUser:  # type: ignore[override]
        principal, access = await console_principal(request)
        grant = Grant.of(principal, self.action)  # AccessDenied: a page saying so (render.py)
        async with request.app.state.commands() as uow:
            name = await console_people.display_name(uow, principal.subject)
        return ConsoleUser(grant, access, name or principal.subject)


def Console(action: str) -> ConsoleUser:
    """The dependency of a console page: `user: Annotated[ConsoleUser, Console("...")]`."""
    return Depends(ConsoleAuthorize(action))


def secure_cookies(request: Request) -> bool:
    """Whether the console's cookies go over https only: when it is served over https, which
    behind a proxy that ends TLS the request alone may not show, or when its public address is."""
    return request.url.scheme == "https" or request.app.state.settings.public_base.startswith("https://")


def csrf_token(request: Request) -> str:
    """This browser's CSRF token, made (and sent back with the page) on its first visit."""
    token = getattr(request.state, "console_csrf", None) or request.cookies.get(CSRF_COOKIE)
    if not token or len(token) != 64:
        token = secrets.token_hex(32)
        request.state.console_csrf = token
    return token


def start_session(request: Request, tokens: SessionTokens) -> None:
    """A login's tokens, and a new CSRF token with them: the one the login form came with was
    made before anyone was logged in, and may be known to others (a sibling host can set the
    cookie for the whole domain before the console ever set its own, and then knows its value);
    the session does not take it over."""
    remember_session(request, tokens)
    request.state.console_csrf = secrets.token_hex(32)


async def console_form(request: Request) -> dict[str, list[str]]:
    """The posted form, once its CSRF token matched the cookie's (FormExpired otherwise)."""
    body = (await request.body()).decode("utf-8", "replace")
    try:
        pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise Invalid("body", f"not a form, or more than {MAX_FORM_FIELDS} fields") from None
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    sent, kept = (form.get(CSRF_FIELD) or [""])[0], request.cookies.get(CSRF_COOKIE) or ""
    if not kept or _copies(request, CSRF_COOKIE) > 1 or not hmac.compare_digest(sent.encode(), kept.encode()):
        raise FormExpired()
    return form


def _copies(request: Request, name: str) -> int:
    """How many cookies called `name` the browser sent: `request.cookies` keeps only the last."""
    return sum(part.partition("=")[0].strip() == name for part in request.headers.get("cookie", "").split(";"))


Form = Annotated[dict[str, list[str]], Depends(console_form)]
# The CSRF check of a form that carries nothing else (a button): `dependencies=CHECKED`.
CHECKED = [Depends(console_form)]


def as_body(model: type[BodyModel], values: dict[str, Any]) -> BodyModel:
    """A form read as the JSON API reads its body (`model`, the API's own), so a form is held to
    exactly its rules: what the API's validation would refuse is refused the same way, naming the
    field (`render.validation_handler` shows it on the form)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


def one(form: dict[str, list[str]], name: str, default: str = "") -> str:
    return (form.get(name) or [default])[0]


def filled(form: dict[str, list[str]], *names: str, as_typed: Collection[str] = ()) -> dict[str, str]:
    """The optional fields filled in, stripped: one left empty is left out, for the API to take its
    default or to name it as missing. Those `as_typed` (a password) keep their spaces, for the API
    to refuse: stripped, a password was set that was not the one typed."""
    values = {name: one(form, name) if name in as_typed else one(form, name).strip() for name in names}
    return {name: value for name, value in values.items() if value}


def chosen(form: dict[str, list[str]], name: str, choices: Collection[str]) -> str:
    """A field whose value the page chooses among `choices` (a button's hidden field, a select):
    any other is bad input naming the field, never passed on."""
    value = one(form, name)
    if value not in choices:
        raise NotOneOf(name, choices)
    return value


def form_key(form: dict[str, list[str]]) -> str:
    """The form's own Idempotency-Key (a hidden field made with the page), so that a form sent
    twice, by a double click or a retry, takes effect once."""
    key = one(form, "idempotency_key")
    if not is_idempotency_key(key):  # sent on as a header: never one that breaks it
        raise Invalid("idempotency_key", "missing or damaged: reload the form")
    return key


def keyed(user: ConsoleUser, form: dict[str, list[str]]) -> dict[str, str]:
    """The user's headers with the form's Idempotency-Key, for a call to a service."""
    return {**user.bearer(), "Idempotency-Key": form_key(form)}
