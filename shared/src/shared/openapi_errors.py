"""The refusals every route may give, in each service's OpenAPI document.

FastAPI documents what a route declares; 401 and 403 come from the access policy's dependencies,
413 and 415 from the skeleton's body checks, so a client generated from `/openapi.json` (or a
reader of `/docs`) never heard of them. Here every operation that takes a bearer token lists 401
and 403, and every one that takes a body lists 413, 415 and 422, each with the `{"detail": ...}`
body they come with. A route's own description of a code wins over these."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

_REFUSAL = {"application/json": {"schema": {"type": "object", "properties": {"detail": {}}, "required": ["detail"]}}}
WITH_TOKEN = {
    "401": "No bearer token, or one that is expired, revoked or not ours",
    "403": "The token's role, store or customer may not do this",
}
WITH_BODY = {
    "413": "The body is larger than the service takes (CRM_MAX_BODY_BYTES)",
    "415": "The body was not sent as application/json",
    "422": "A field of the body is missing or wrong: each named, with why",
}


def _add_refusals(schema: dict[str, Any]) -> None:
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            common = ({**WITH_TOKEN} if operation.get("security") else {}) | (WITH_BODY if "requestBody" in operation else {})
            for code, description in common.items():
                responses.setdefault(code, {"description": description, "content": _REFUSAL})


def document_refusals(app: FastAPI) -> None:
    """Adds the common refusals to `app`'s OpenAPI document, once, when it is first asked for."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        first = app.openapi_schema is None
        schema = generate()
        if first:
            _add_refusals(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
