"""Members' sign-in to the app by a one-time SMS code, and sign-up from the app. Public routes:
the code is the proof (gateway.service_layer.member_sign_in)."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from gateway.adapters.member_accounts import MemberAccounts
from gateway.api.member_sign_in_schemas import (
    CodeRequest,
    CodeRequested,
    MemberTokenOut,
    RefreshRequest,
    SignInRequest,
    SignUpRequest,
)
from gateway.config import Settings
from gateway.domain.identity import NoSigningKey
from gateway.service_layer import member_sign_in, member_tokens
from gateway.service_layer.member_sign_in import SignIn
from gateway.service_layer.member_tokens import MemberToken, Tokens
from shared.auth import Role
from shared.authorize import public
from shared.deps import CommandsDep, NowDep

router = APIRouter(prefix="/identity/v1/members", tags=["identity"], dependencies=[Depends(public)])

# The gateway's own token for its calls to members and campaigns: minted per call, short-lived.
SERVICE_TOKEN_TTL = timedelta(minutes=5)
_REFUSED: dict[int | str, dict[str, Any]] = {401: {"description": "The code is wrong, expired, used or used up (one answer for all)"},
            429: {"description": "Too many wrong codes from this address; see Retry-After"}}


async def _tokens(request: Request, commands: CommandsDep) -> Tokens:
    issuer = request.app.state.token_issuer
    if issuer is None:
        raise NoSigningKey()
    settings: Settings = request.app.state.settings
    return Tokens(
        commands=commands, issuer=issuer, revoked=request.app.state.revoked_members,
        token_ttl=timedelta(seconds=settings.member_token_ttl_s),
        refresh_ttl=timedelta(seconds=settings.member_refresh_token_ttl_s),
        retry_grace=timedelta(seconds=settings.member_refresh_retry_grace_s),
    )


TokensDep = Annotated[Tokens, Depends(_tokens)]


async def _sign_in(request: Request, commands: CommandsDep, tokens: TokensDep) -> SignIn:
    settings: Settings = request.app.state.settings
    downstream = request.app.state.downstream
    issuer = tokens.issuer
    accounts = MemberAccounts(
        downstream.members, downstream.campaigns, lambda: issuer.mint("gateway", Role.SERVICE, ttl=SERVICE_TOKEN_TTL),
        timeout_s=settings.forward_timeout_s,
    )
    return SignIn(
        commands=commands, accounts=accounts, guard=request.app.state.sign_in_guard,
        pepper=settings.resolved_pepper(), tokens=tokens, stores=request.app.state.open_stores,
    )


SignInDep = Annotated[SignIn, Depends(_sign_in)]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _answer(response: Response, issued: MemberToken) -> MemberTokenOut:
    # A token must not be kept by caches on the way (RFC 6749 §5.1).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return MemberTokenOut(
        access_token=issued.access_token, expires_in=issued.expires_in, refresh_token=issued.refresh_token,
        refresh_expires_in=issued.refresh_expires_in, member_id=issued.member_id,
    )


@router.post("/code", status_code=status.HTTP_202_ACCEPTED, summary="Send a sign-in code to a phone by SMS",
             responses={429: {"description": "Too many codes for this phone or from this address; see Retry-After"},
                        503: {"description": "The SMS could not be sent; ask again"}})
async def ask_code(body: CodeRequest, request: Request, now: NowDep, s: SignInDep) -> CodeRequested:
    """Sends a 6-digit code, valid 5 minutes for 5 tries, to the phone; a new code replaces the one
    before. The answer is the same whether or not the phone is a member's."""
    settings: Settings = request.app.state.settings
    ttl = await member_sign_in.ask_code(s, phone=body.phone, address=_address(request), now=now,
                                        language=settings.member_code_language or None)
    return CodeRequested(expires_in=ttl)


@router.post("/token", summary="Sign in with the SMS code: a member token",
             responses={**_REFUSED, 404: {"description": "The code is right but the phone is no member's: sign up"}})
async def sign_in(body: SignInRequest, request: Request, response: Response, now: NowDep,
                  s: SignInDep) -> MemberTokenOut:
    issued = await member_sign_in.sign_in(s, phone=body.phone, code=body.code, address=_address(request), now=now)
    return _answer(response, issued)


@router.post("/register", summary="Sign up from the app with the SMS code: registers the customer, a member token",
             responses=_REFUSED)
async def sign_up(body: SignUpRequest, request: Request, response: Response, now: NowDep,
                  s: SignInDep) -> MemberTokenOut:
    """Registers the customer (consents recorded with channel `app`). A phone that is a member's
    already answers that member's token, as a sign-in would."""
    issued = await member_sign_in.sign_up(s, registration=body.registration(), code=body.code,
                                          address=_address(request), now=now)
    return _answer(response, issued)


@router.post("/refresh", summary="Trade a refresh token for a new member token and the next refresh token",
             responses={401: {"description": "Unknown, expired, revoked or reused (reuse revokes the whole family)"}})
async def refresh(body: RefreshRequest, response: Response, now: NowDep, tokens: TokensDep) -> MemberTokenOut:
    """Each refresh token works once: the answer carries the next one. Presenting a used one again
    ends every refresh token of its sign-in; the member then signs in with a new code."""
    return _answer(response, await member_tokens.refresh(tokens, body.refresh_token, now))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End the sign-in of a refresh token")
async def logout(body: RefreshRequest, now: NowDep, tokens: TokensDep) -> None:
    """No refresh token of this sign-in works again; the same 204 for a token that is unknown.
    The member token already issued lives out its lifetime."""
    await member_tokens.logout(tokens, body.refresh_token, now)
