"""Staff log in with their password, swap refresh tokens, and log out. Public routes: the password
or the refresh token is the proof."""

from fastapi import APIRouter, Depends, Request, Response, status

from gateway.api.staff_schemas import LoginIn, PasswordChangeIn, RefreshIn, SessionOut
from gateway.domain.identity import NoSigningKey
from gateway.service_layer import staff_sessions
from gateway.service_layer.staff_sessions import SessionLifetimes, SessionTokens
from shared.auth import TokenIssuer
from shared.authorize import public
from shared.deps import CommandsDep, UowDep

router = APIRouter(prefix="/identity/v1", tags=["identity"], dependencies=[Depends(public)])


def _issuer(request: Request) -> TokenIssuer:
    issuer: TokenIssuer | None = request.app.state.token_issuer
    if issuer is None:
        raise NoSigningKey()
    return issuer


def _lifetimes(request: Request) -> SessionLifetimes:
    return staff_sessions.lifetimes(request.app.state.settings)


def _answer(response: Response, issued: SessionTokens) -> SessionOut:
    # Tokens must not be kept by caches on the way (RFC 6749 §5.1).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return SessionOut(
        access_token=issued.access_token, expires_in=issued.expires_in, refresh_token=issued.refresh_token,
        refresh_expires_in=issued.refresh_expires_in, staff_id=issued.staff_id, role=issued.role.value,
        store_id=issued.store_id,
    )


@router.post("/login")
async def login(body: LoginIn, request: Request, response: Response, uow: UowDep) -> SessionOut:
    """An access token (a minute) and a refresh token for a staff member's login and password (and
    `totp_code` where a second factor is enrolled). Unknown login, wrong password and deactivated
    account are the same 401; too many failures per login name or address are 429 with
    `Retry-After`. A right password without a needed code is 401 with `error: totp_required`."""
    issued = await staff_sessions.login(
        uow, _issuer(request), request.app.state.login_guard, _lifetimes(request), login=body.login,
        password=body.password, totp_code=body.totp_code,
        address=request.client.host if request.client else "unknown",
    )
    return _answer(response, issued)


@router.post("/password")
async def change_password(body: PasswordChangeIn, request: Request, response: Response, uow: UowDep) -> SessionOut:
    """A staff member changes their own password, proving it as a login does (the same 401s and
    429s, counted with the logins' failures). Every session of the account ends, as after an
    admin's reset, and the answer is a new session, as a login's: whoever else held one is out. A
    new password that is too short, too long, framed by spaces or the same as the current one is
    422 naming `new_password`."""
    issued = await staff_sessions.change_password(
        uow, _issuer(request), request.app.state.login_guard, _lifetimes(request), login=body.login,
        password=body.password, new_password=body.new_password, totp_code=body.totp_code,
        address=request.client.host if request.client else "unknown",
    )
    return _answer(response, issued)


@router.post("/refresh")
async def refresh(body: RefreshIn, request: Request, response: Response, commands: CommandsDep) -> SessionOut:
    """The next refresh token of the session and a fresh access token; the one sent is used up. A
    used-up token sent again ends the whole session (someone else holds a copy), and so does a token
    not used within `CRM_STAFF_IDLE_TIMEOUT_S` of being issued (the session was left alone): 401
    for each, the same answer."""
    issued = await staff_sessions.refresh(commands, _issuer(request), _lifetimes(request), body.refresh_token)
    return _answer(response, issued)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshIn, commands: CommandsDep) -> None:
    """Ends the session of this refresh token; its access tokens expire within a minute. 204
    whatever the token, so this cannot be used to test tokens."""
    await staff_sessions.logout(commands, body.refresh_token)
