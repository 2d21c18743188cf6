"""Query parameters a route does not declare are refused (422 naming each), not ignored.

A caller that misspells a filter (`?q=` for `?phone=`, `?store=` for `?store_id=`) got the whole
unfiltered list back as if it were the answer: a desk searching a customer saw the first customers
of the chain. The route's own parameters (its dependencies' included) are what it takes; anything
else is refused the way FastAPI refuses an unknown body field.

A route whose parameters are checked elsewhere says so with `QUERY_CHECKED_ELSEWHERE`: the
gateway's forwarding routes (the service they forward to checks them) and its console pages (which
read theirs themselves, to answer a bad one with a page).
"""

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel


async def _checked_elsewhere() -> None:
    """The marker's dependency: nothing to do at request time (async: FastAPI runs a plain
    function in its thread pool, a thread hop per request for nothing)."""


QUERY_CHECKED_ELSEWHERE = Depends(_checked_elsewhere)


def _marked(dependant: Dependant) -> bool:
    return dependant.call is _checked_elsewhere or any(map(_marked, dependant.dependencies))


def _names(dependant: Dependant) -> frozenset[str] | None:
    """The query parameters the route declares; None for one whose parameters are checked elsewhere."""
    if _marked(dependant):
        return None
    return _declared_names(dependant)


def _declared_names(dependant: Dependant) -> frozenset[str]:
    names: set[str] = set()
    for param in dependant.query_params:
        names.add(param.alias)
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):  # a query parameter model
            names.update(field.alias or name for name, field in annotation.model_fields.items())
    for sub in dependant.dependencies:
        names |= _declared_names(sub)
    return frozenset(names)


# Per route (by identity: routes compare by value and have no hash), kept with the route so that
# its id is never another's.
_DECLARED: dict[int, tuple[APIRoute, frozenset[str] | None]] = {}


def _declared(route: APIRoute) -> frozenset[str] | None:
    if (known := _DECLARED.get(id(route))) is None or known[0] is not route:
        known = _DECLARED[id(route)] = (route, _names(route.dependant))
    return known[1]


async def refuse_unknown_query(request: Request) -> None:
    """An app-wide dependency of the services (`shared.service`)."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    if (declared := _declared(route)) is None:
        return
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in declared]
    if unknown:
        raise RequestValidationError([
            {"type": "extra_forbidden", "loc": ("query", name), "msg": "Extra inputs are not permitted",
             "input": request.query_params[name]}
            for name in unknown
        ])
