"""Walks a service's routes as the app serves them, to check each against the access policy."""

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import RouteContext, iter_route_contexts

from shared.auth import Role
from shared.authorize import Authorize, forwarded, public
from shared.policy import POLICY, Scope


def api_routes(app: FastAPI) -> Iterator[RouteContext]:
    """Every route as the app serves it, with the dependencies of the routers it was included by."""
    for route in iter_route_contexts(app.routes):
        if getattr(route, "dependant", None) is not None:
            yield route  # not /docs, /openapi.json or /metrics: they carry no customer data


def guards(dependant: Dependant) -> Iterator[object]:
    for dep in dependant.dependencies:
        if isinstance(dep.call, Authorize) or dep.call in (public, forwarded):
            yield dep.call
        yield from guards(dep)


def action_of(route: RouteContext) -> str | None:
    return next((g.action for g in guards(route.dependant) if isinstance(g, Authorize)), None)


def customer_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path, action) of every route that names a customer in its path."""
    return sorted(
        (method, route.path, action)
        for route in api_routes(app)
        if "{member_id}" in route.path and (action := action_of(route)) is not None
        for method in route.methods
    )


def expected_access(action: str, role: Role) -> tuple[bool, bool]:
    """(may act on an in-scope customer, may act on an out-of-scope one) for tokens made by
    `principal_for`: the in-scope customer is of store S001 and managed by am-1."""
    scope = POLICY[action].get(role)
    if scope is None:
        return False, False
    return True, scope is Scope.ALL


def principal_claims(role: Role, in_scope_member: str) -> dict[str, str]:
    """Claims of the test token for a role: bound to store S001, account manager am-1, and for a
    member, the in-scope customer themself."""
    claims = {"subject": "am-1" if role == Role.ACCOUNT_MANAGER else f"test-{role.value}"}
    if role in (Role.SERVICE_DESK, Role.STORE_MANAGER, Role.POS, Role.ACCOUNT_MANAGER):
        claims["store_id"] = "S001"
    if role == Role.MEMBER:
        claims["member_id"] = in_scope_member
    return claims

