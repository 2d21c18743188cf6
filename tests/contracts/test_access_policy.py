"""Every route of every service names the rule that guards it, and that rule is in the policy table.

A route with no `Authorize(action)`, `public` or `forwarded` dependency fails the build: access is
never left to whoever writes the next route. Which roles and customers each action admits is
tested per service (members' `test_policy_routes.py`, points' `test_access.py`, feedback's
`test_access.py` and `test_access_matrix.py`).
"""

import re
from importlib import import_module
from pathlib import Path

import pytest
from fastapi import FastAPI

from shared.auth import generate_keypair
from shared.authorize import Authorize
from shared.policy import POLICY
from tests.support.policy import api_routes, guards

SERVICES = ("members", "points", "feedback", "campaigns", "gateway")
# Actions every service may name besides its own.
COMMON = ("jobs.",)


def app_of(service: str, tmp_path: Path) -> FastAPI:
    settings_cls = import_module(f"{service}.config").Settings
    _, public_key = generate_keypair()
    settings = settings_cls(environment="test", data_dir=tmp_path, jwt_public_key=public_key)
    return import_module(f"{service}.main").create_app(settings)


def openapi_operations(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    }


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_is_guarded_by_exactly_one_rule_from_the_policy(service, tmp_path) -> None:
    app = app_of(service, tmp_path)
    unguarded, doubly, foreign = [], [], []
    covered: set[tuple[str, str]] = set()
    for route in api_routes(app):
        found = list(guards(route.dependant))
        name = f"{','.join(sorted(route.methods))} {route.path}"
        if not found:
            unguarded.append(name)
        elif len(found) > 1:
            doubly.append(f"{name}: {found}")
        elif isinstance(found[0], Authorize):
            action = found[0].action
            assert action in POLICY
            if not action.startswith((f"{service}.", *COMMON)):
                foreign.append(f"{name}: {action}")
        covered |= {(m, re.sub(r":\w+}", "}", route.path)) for m in route.methods}  # {path:path} -> {path}
    assert not unguarded, f"routes with no access rule: {unguarded}"
    assert not doubly, f"routes with more than one access rule: {doubly}"
    assert not foreign, f"routes naming another service's action: {foreign}"
    # Everything the OpenAPI document offers is one of the routes checked above.
    assert openapi_operations(app) <= covered


def test_every_action_in_the_table_guards_some_route(tmp_path) -> None:
    """An action no route names is a rule nobody enforces: remove it or use it."""
    named = set()
    for service in SERVICES:
        for route in api_routes(app_of(service, tmp_path)):
            named |= {g.action for g in guards(route.dependant) if isinstance(g, Authorize)}
    unused = set(POLICY) - named - INSIDE_ROUTES
    assert not unused, f"actions in shared.policy.POLICY that no route names: {sorted(unused)}"


# Actions checked inside a route rather than as its dependency (a second right some requests need).
INSIDE_ROUTES = {"members.member.search_by_phone", "members.member.register_backdated"}
