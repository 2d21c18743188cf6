"""Paths and query strings get the same rule as free text in bodies (`shared.text`): no NUL, no
control characters. Path and query values reach database queries as ids and search terms in
every service; a `%00` there is a server error on PostgreSQL. One check in front of every route
answers 422 naming where the character was, in the shape of any other validation error.
"""

from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.text import clean_text


class CleanUrlMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (error := _url_error(scope)):
            await JSONResponse({"detail": [error]}, 422)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _url_error(scope: Scope) -> dict[str, Any] | None:
    try:
        clean_text(scope["path"])
    except ValueError as exc:
        return {"loc": ["path"], "msg": str(exc), "type": "value_error"}
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        try:
            clean_text(name)
            clean_text(value)
        except ValueError as exc:
            return {"loc": ["query", clean_name(name)], "msg": str(exc), "type": "value_error"}
    return None


def clean_name(name: str) -> str:
    """The parameter's name as it can be shown: its forbidden characters escaped, at most 100."""
    return name.encode("unicode_escape").decode("ascii")[:100]
