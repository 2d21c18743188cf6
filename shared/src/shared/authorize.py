"""The one dependency through which every route enforces the access policy (`shared.policy`).

`Annotated[Grant, Allowed("points.account.read")]` checks the caller's role against the policy table and,
for a route with a `{member_id}` path parameter, whether that customer lies within the caller's
scope, using the facts the service keeps about its customers (`ServiceSpec.member_facts`), read only
for a scope that needs them (a store's, an account manager's, a member's own). Routes
that find the customer elsewhere (in the body, or through a complaint or a redemption) call
`grant.ensure_member(...)` themselves. A member token whose member was erased is refused outright.

Routes open to anyone (health) use `Depends(public)`, and the gateway's pass-through routes, which
forward the caller's token to the service that decides, use `Depends(forwarded)`: so a test can
tell, for every route of every service, which rule guards it.
"""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response

from shared.auth import BearerPrincipal, Principal, Role
from shared.policy import POLICY, AccessDenied, Grant, MemberFacts, NotCustomer, Scope

FactsLookup = Callable[[str], Awaitable[MemberFacts | None]]


class Authorize(BearerPrincipal):
    """Reads the bearer token and grants the action, in one dependency (see `BearerPrincipal`)."""

    def __init__(self, action: str) -> None:
        if action not in POLICY:  # a typo fails when the route is declared, not when it is called
            raise KeyError(f"no action {action!r} in shared.policy.POLICY")
        super().__init__()
        self.action = action

    async def __call__(self, request: Request) -> Grant:  # type: ignore[override]
        principal = await super().__call__(request)
        try:
            return await self._grant(request, principal)
        except AccessDenied as exc:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
        except NotCustomer as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc

    async def _grant(self, request: Request, principal: Principal) -> Grant:
        grant = Grant.of(principal, self.action)
        facts_of: FactsLookup | None = getattr(request.app.state, "member_facts", None)
        member_id = request.path_params.get("member_id")
        if facts_of is None:
            # A service without customer data (the gateway) checks what the token alone tells and
            # leaves the rest to the services that hold the facts.
            if member_id is not None and grant.scope is Scope.SELF:
                grant.ensure_member(None, member_id)
            return grant
        if principal.role == Role.MEMBER and principal.member_id:
            own = await facts_of(principal.member_id)
            if own is not None and own.erased_at is not None:
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this member's account was erased")
            if member_id == principal.member_id:
                grant.ensure_member(own, member_id)
                return grant
        if member_id is not None and not grant.covers_id(member_id):
            # A scope of every customer (the desk, admins, marketing) is decided without facts, so
            # they are not looked up: a transaction of its own on every request to a customer.
            grant.ensure_member(await facts_of(member_id), member_id)
        return grant

    def __repr__(self) -> str:
        return f"Authorize({self.action!r})"


async def public() -> None:
    """Marks a route that needs no token (health checks)."""


# Marks a gateway route that forwards the caller's own token to the service that decides: the
# gateway refuses a request without a valid token before reading or forwarding its body.
forwarded = BearerPrincipal()


def access_error_handlers() -> dict[int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]]:
    async def denied(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_403_FORBIDDEN)

    async def unknown(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status.HTTP_404_NOT_FOUND)

    return {AccessDenied: denied, NotCustomer: unknown}


def Allowed(action: str) -> Any:
    """The dependency that grants the route's action: `grant: Annotated[Grant, Allowed("...")]`.

    Written inside `Annotated` (rather than returning the whole annotation) so that type checkers see
    an ordinary `Grant` parameter."""
    return Depends(Authorize(action))
