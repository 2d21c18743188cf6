"""Which methods a path takes, for the `Allow` of a 405.

Starlette answers a method a path does not take with the methods of the first route whose path
matched, and a path often has several routes (GET and PATCH of one member are two): `PUT
/v1/members/{id}` said `Allow: GET`, hiding the PATCH. Here every route is asked."""

from collections.abc import Iterable

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> list[str]:
    """The methods of `METHODS` some route takes at the request's path, in that order."""
    routes = list(routes)
    return [method for method in METHODS
            if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)]
