"""Staff and member screens reach every service through the gateway's one public address.

`/api/<service>/<path>` is forwarded to `<path>` on that service with the caller's own token: the
service checks identity and permissions itself, the gateway adds no rights of its own. Reports
(CSV, printable HTML) pass through with their content type and download name. A member's token
reads here, but changes nothing: the member app's API (`/app/v1`) is where a member's changes are
checked for what no one service can tell (`gateway.services.change`).

A `store_id` in the query (a report's or a list's filter), anywhere in a JSON body (a staff member's
store, a complaint's, each sale's of an import, a return's `sale_store_id`, each home store a
segment's rule names) or in the path (a gift's stock at a store, `STORE_IN_PATH`) must name a store
the chain has or had: the gateway keeps the stores, the services do not, and would answer a store nobody has with zeros or an empty list, as if it had sold nothing,
or record staff at it (`service_layer/stores.ensure_report_stores`). A
`home_store_id` in a JSON body (a registration, a profile edit) must name a store open for
business, as an app sign-up's must: a customer homed at a store nobody has is outside every store
manager's reach and can never pick up a gift.
"""

import json
import re
from urllib.parse import unquote, urlsplit

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from gateway.adapters.clients import answered_by, as_received, segment
from gateway.domain.identity import DOWNSTREAM_SERVICES
from gateway.domain.rule_stores import rule_stores
from gateway.service_layer.stores import ensure_had, ensure_report_stores
from shared.authorize import Allowed, forwarded
from shared.errors import InvalidBodyField
from shared.identifiers import StoreId
from shared.methods import allowed_methods
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(tags=["services"], dependencies=[QUERY_CHECKED_ELSEWHERE])
# A read is forwarded with any valid token, the service deciding; a change only with a token whose
# role may change things here at all (`gateway.services.change`: not a member's, whose changes go
# through the app API), the service deciding the rest.
GUARDS = {"GET": Depends(forwarded), **dict.fromkeys(("POST", "PUT", "PATCH", "DELETE"), Allowed("gateway.services.change"))}

FORWARDED_REQUEST = ("authorization", "content-type", "accept", "accept-language", "idempotency-key")
FORWARDED_RESPONSE = ("content-type", "content-disposition", "retry-after")
SERVICES = DOWNSTREAM_SERVICES
# The keys naming a store of the chain in a body, at any depth down to `STORE_DEPTH` (an import's
# `sales[].store_id` is at 2).
STORE_KEYS = ("store_id", "sale_store_id")
STORE_DEPTH = 4
# The services' routes that name a store in their path, with the store as `store_id`.
STORE_IN_PATH = {"points": re.compile(r"/v1/gifts/[^/]+/stock/(?P<store_id>[^/]+)")}


async def forward(request: Request, service: str, path: str, timeout: float | None = None, content: bytes | None = None) -> Response:
    """`timeout` defaults to the forwarding budget (`forward_timeout_s`). A service that cannot be
    reached is 503; one that was reached but did not answer in time is 504, since the request may
    still take effect there (the caller should check or retry an idempotent request). `content`: a
    JSON body sent in place of the request's (the till's coupon calls name a customer found by
    phone by their member id); by default the request's body, as it came."""
    if service not in SERVICES:
        # A method the gateway's own route at this path does not take (`DELETE /api/v1/stores`) is
        # that route's 405, not a service called "v1" nobody has.
        own = (route for route in request.app.router.routes if getattr(route, "original_router", None) is not router)
        if allowed := allowed_methods(own, request.scope):  # answered here: the app's 405 would count this route in
            return JSONResponse({"detail": "Method Not Allowed"}, status.HTTP_405_METHOD_NOT_ALLOWED, headers={"Allow": ", ".join(allowed)})
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no service {service!r}; known: {', '.join(SERVICES)}")
    client: httpx.AsyncClient | None = getattr(request.app.state.downstream, service, None)
    if client is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{service} service unavailable: not configured")
    headers = {as_received(k): as_received(v) for k, v in request.headers.items() if k.lower() in FORWARDED_REQUEST}
    if timeout is None:
        timeout = request.app.state.settings.forward_timeout_s
    # Every value: a service reads the last of a repeated parameter, and none may slip past unchecked.
    store_ids = request.query_params.getlist("store_id")
    if (pattern := STORE_IN_PATH.get(service)) and (named := pattern.fullmatch(path)) and (
            in_path := _store_id(unquote(named["store_id"]))):  # one that is no store id at all: the service's 422
        store_ids.append(in_path)
    if store_ids:
        await ensure_report_stores(request.app.state.commands, store_ids)
    body = await request.body() if content is None else content
    if content is not None:
        headers = {k: v for k, v in headers.items() if k.lower() != b"content-type"} | {b"content-type": b"application/json"}
    home, in_body = _stores_named(body)
    if home is not None:
        await request.app.state.open_stores.ensure(request.app.state.commands, home, field="home_store_id", kind=InvalidBodyField)
    if unseen := request.app.state.open_stores.unseen(in_body):
        await ensure_had(request.app.state.commands, unseen, kind=InvalidBodyField)
    with answered_by(service, timeout):
        upstream = await client.request(
            request.method, path, content=body, headers=headers,
            # Every value of a repeated parameter (?risk=high&risk=lost), not just the last.
            params=tuple(request.query_params.multi_items()),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)),
        )
    kept = {k: v for k, v in upstream.headers.items() if k.lower() in FORWARDED_RESPONSE}
    if (location := upstream.headers.get("location")) and (here := _relocated(request.url.path, path, location, client.base_url.netloc)):
        kept["location"] = here
    return Response(upstream.content, upstream.status_code, headers=kept)


def _relocated(asked: str, forwarded: str, location: str, service: bytes) -> str | None:
    """A service's redirect (`/v1/gifts/` to `/v1/gifts`, the trailing slash dropped) as the
    gateway's own address of where it points: the service's address is no caller's to reach, and
    without one the redirect led nowhere. None where the gateway's path does not end in the one
    it forwarded to, or the redirect leaves the service."""
    target = urlsplit(location)
    if not asked.endswith(forwarded) or not target.path.startswith("/") or target.netloc not in ("", service.decode()):
        return None
    return asked.removesuffix(forwarded) + target.path + (f"?{target.query}" if target.query else "")


def _stores_named(body: bytes) -> tuple[str | None, list[tuple[str, str]]]:
    """The `home_store_id` a JSON body names at its top, and each store id it names anywhere
    (`STORE_KEYS`) with its place (`sales.3.store_id`), in the body's order; a body that is not
    JSON, or a value that is no store id at all, is the service's to refuse (422 naming the field).
    The body is parsed whatever its bytes: a key may be written with escapes (`home\\u005fstore_id`).
    And whatever its Content-Type: FastAPI reads a body as JSON without one, or with
    `application/JSON`, and a check that trusted the header was passed by leaving it out or writing
    it in capitals."""
    if not body:
        return None, []
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return None, []
    named: list[tuple[str, str]] = []
    places: list[tuple[tuple[str | int, ...], object]] = [((), data)]
    while places:
        path, node = places.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if key in STORE_KEYS and (store := _store_id(value)) is not None:
                named.append((".".join(map(str, (*path, key))), store))
            elif isinstance(value, dict | list) and len(path) < STORE_DEPTH:
                places.append(((*path, key), value))
    if not isinstance(data, dict):
        return None, named
    # A segment's rule names stores in its conditions, at any depth (`domain.rule_stores`).
    named += rule_stores(data.get("rule"))
    return _store_id(data.get("home_store_id")), named


def _store_id(value: object) -> str | None:
    try:
        return _STORE_ID.validate_python(value)
    except ValidationError:
        return None


_STORE_ID = TypeAdapter(StoreId)


async def passthrough(service: str, path: str, request: Request) -> Response:
    return await forward(request, service, "/" + "/".join(segment(part) for part in path.split("/")))


for _method, _guard in GUARDS.items():
    # One route per method, so each has its own operation id in the OpenAPI document.
    router.add_api_route(
        "/api/{service}/{path:path}", passthrough, methods=[_method], operation_id=f"passthrough_{_method.lower()}",
        dependencies=[_guard],
        summary="Forward a request to a service (members, points, feedback, campaigns) with the caller's token",
    )
