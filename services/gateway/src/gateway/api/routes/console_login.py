"""The console's way in and out: the login form (posting to the same staff login as
`POST /identity/v1/login`), logging out, a person's own password (as `POST /identity/v1/password`),
the start page, the language switch and the static files."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from gateway.api.console.i18n import LANG_COOKIE, LANGUAGES
from gateway.api.console.render import CurrentPasswordWrong, go, on_the_console, page
from gateway.api.console.session import (
    PATH,
    SESSION_COOKIE,
    Console,
    ConsoleUser,
    Form,
    one,
    remember_session,
    secure_cookies,
    start_session,
)
from gateway.console import STATIC
from gateway.domain.identity import NoSigningKey
from gateway.domain.staff import MIN_PASSWORD_CHARS, SECOND_FACTOR_ROLES, LoginFailed, SecondFactorNeeded
from gateway.service_layer import console_people, staff_sessions
from shared.auth import Role
from shared.authorize import public
from shared.deps import UowDep
from shared.errors import Invalid, NotFound
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
YEAR_S = 365 * 24 * 3600


@router.get("/login", dependencies=[Depends(public)])
async def login_form(request: Request) -> HTMLResponse:
    """The login form; `next`, the console page to go on to once logged in (where a session that
    ended was going), and `ended=idle` when it ended for being left unused, which the page says."""
    going = request.query_params.get("next", PATH)
    idle = None
    if request.query_params.get("ended") == "idle":
        # From the setting, never from the address: a link cannot make the page say anything else.
        idle = max(1, round(request.app.state.settings.staff_idle_timeout_s / 60))
    return page(request, "login.html", next=going if on_the_console(going) else PATH, idle_minutes=idle)


@router.post("/login", dependencies=[Depends(public)])
async def login(request: Request, form: Form, uow: UowDep) -> Response:
    """The staff login itself (`staff_sessions.login`, throttles and second factor included); its
    tokens go into the session cookie instead of a JSON answer, and the browser goes on to the
    page the form names in `next` (a console page only)."""
    issuer = request.app.state.token_issuer
    if issuer is None:
        raise NoSigningKey()
    code = one(form, "totp_code").strip()
    issued = await staff_sessions.login(
        uow, issuer, request.app.state.login_guard, staff_sessions.lifetimes(request.app.state.settings),
        login=one(form, "login"), password=one(form, "password"), totp_code=code or None,
        address=request.client.host if request.client else "unknown",
    )
    start_session(request, issued)
    going = one(form, "next", PATH)
    return go(request, going if on_the_console(going) else PATH)


@router.post("/logout")
async def logout(request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> Response:
    """Ends the session at the gateway (its access tokens lapse within their minute) and forgets
    the cookie."""
    _, _, refresh = (request.cookies.get(SESSION_COOKIE) or "").partition("|")
    if session := getattr(request.state, "console_session", None):  # refreshed by this very request
        refresh = session[0].partition("|")[2]
        request.state.console_session = None
    await staff_sessions.logout(request.app.state.commands, refresh)
    response = go(request, "/console/login")
    response.delete_cookie(SESSION_COOKIE, path=PATH, secure=secure_cookies(request), httponly=True, samesite="strict")
    return response


@router.get("")
async def home(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    return page(request, "home.html", user)


@router.get("/password")
async def password_form(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")], uow: UowDep) -> HTMLResponse:
    """Any staff member's own password: the form, and after a change the word that it was made;
    for admins and store managers, their second factor (`console_second_factor`)."""
    account = await console_people.own_account(uow, user.principal.subject)
    second_factor = None
    if account is not None and Role(account.role) in SECOND_FACTOR_ROLES:
        second_factor = "on" if account.totp_enabled else "off"
    return page(request, "password.html", user, login=account.login if account else None,
                changed=request.query_params.get("changed") == "1", min_password=MIN_PASSWORD_CHARS,
                second_factor=second_factor, turned_on=request.query_params.get("second_factor") == "on")


@router.post("/password")
async def change_password(
    request: Request, form: Form, user: Annotated[ConsoleUser, Console("gateway.console.use")], uow: UowDep,
) -> Response:
    """`staff_sessions.change_password` for the account of this session (never a login the form
    names): proven by the current password, throttled as logins are. Every session of the account
    ends; this browser goes on with the new one the change answered."""
    issuer = request.app.state.token_issuer
    if issuer is None:
        raise NoSigningKey()
    login = await console_people.own_login(uow, user.principal.subject)
    if login is None:
        raise NotFound("this session is not a staff account's: there is no password to change")
    new_password = one(form, "new_password")
    if one(form, "repeat_password") != new_password:  # a typo here would lock the person out
        raise Invalid("repeat_password", "is not the same as the new password")
    code = one(form, "totp_code").strip()
    try:
        issued = await staff_sessions.change_password(
            uow, issuer, request.app.state.login_guard, staff_sessions.lifetimes(request.app.state.settings), login=login,
            password=one(form, "password"), new_password=new_password, totp_code=code or None,
            address=request.client.host if request.client else "unknown",
        )
    except LoginFailed as failed:
        if isinstance(failed, SecondFactorNeeded):  # the code asked for, or wrong: said as at login
            raise
        raise CurrentPasswordWrong() from None
    remember_session(request, issued)
    return go(request, f"{PATH}/password?changed=1")


@router.post("/language", dependencies=[Depends(public)])
async def language(request: Request, form: Form) -> Response:
    """Switches the console's language; a preference, kept a year in this browser."""
    chosen = one(form, "lang")
    back = one(form, "next", PATH)
    if not on_the_console(back):  # never a redirect off the console
        back = PATH
    response = go(request, back)
    if chosen in LANGUAGES:
        response.set_cookie(LANG_COOKIE, chosen, max_age=YEAR_S, path=PATH, samesite="strict",
                            secure=secure_cookies(request), httponly=True)
    return response


@router.get("/static/{name}", dependencies=[Depends(public)])
async def static(name: str) -> Response:
    files = {p.name: p for p in STATIC.iterdir() if p.suffix in STATIC_TYPES}
    if name not in files:
        raise NotFound(f"no static file {name}")
    found = files[name]
    return Response(found.read_bytes(), media_type=STATIC_TYPES[found.suffix], headers={"Cache-Control": "max-age=3600"})
