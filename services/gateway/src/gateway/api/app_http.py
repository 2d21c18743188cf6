"""HTTP conventions of the member app API, kept in one place for every `/app/v1` route:

- a GET answered 200 carries a strong ETag (a digest of the exact body bytes); a request whose
  `If-None-Match` names it is answered 304 with no body, so the app re-downloads only what changed.
  Answers are per member, so they are marked `Cache-Control: private, no-cache` (a shared cache must
  not keep them; the app revalidates each time) and vary by `Authorization` and `Accept-Language`.
- every other answer (a POST, PUT or PATCH, a refusal) is `Cache-Control: no-store`: it is the
  member's personal data too (the export of all of it, a profile just changed, a reservation, a
  refusal naming their records) and, with no ETag to revalidate by, nothing may keep a copy.
- every refusal (4xx, 5xx with a JSON body), whether the gateway's own (token, access policy,
  validation) or a service's relayed one, gets the customer's messages of `domain.app_messages`,
  and every 422 its one shape there (the list of request validation, whoever refused).

The routes the app signs in and up by (`/identity/v1/members/...`) and the survey link it opens
(`/surveys/...`) are not `/app/v1`, but the customer reads their refusals too: those refusals get
the same messages (and `Content-Language`); their other answers pass as the routes give them.

A pure ASGI middleware rather than per-route code: refusals are produced by the shared exception
handlers after a route has given up, and only the finished answer shows them.
"""

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.domain.app_messages import localised, preferred_language

PREFIX = "/app/v1"
# Outside the app API, where only a refusal is the app's: signing in and up, and the survey link.
SIGN_IN, SURVEY_LINK = "/identity/v1/members/", "/surveys/"
REFUSALS_ONLY = (SIGN_IN, SURVEY_LINK)


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match for GET: `*` or any listed tag, compared weakly (W/ ignored)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


class AppHttpMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith((PREFIX, *REFUSALS_ONLY)):
            await self.app(scope, receive, send)
            return
        refusals_only = not scope["path"].startswith(PREFIX)
        request_headers = Headers(scope=scope)
        query: bytes = scope.get("query_string", b"")
        start: Message | None = None
        passing = False
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start, passing
            if message["type"] == "http.response.start":
                start = message
                if refusals_only and message["status"] < 400:
                    passing = True
                    await send(message)
            elif passing:
                await send(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    assert start is not None
                    finish = self._finish_refusal if refusals_only else self._finish
                    await finish(scope["method"], request_headers, query, start, b"".join(chunks), send)
            else:
                await send(message)

        await self.app(scope, receive, buffer)

    async def _finish(self, method: str, request: Headers, query: bytes, start: Message, body: bytes, send: Send) -> None:
        status: int = start["status"]
        headers = MutableHeaders(raw=list(start.get("headers", [])))
        headers["Vary"] = "Authorization, Accept-Language"
        body = self._localise_refusal(status, headers, request, query, body)
        if method == "GET" and status == 200:
            etag = strong_etag(body)
            headers["ETag"] = etag
            headers["Cache-Control"] = "private, no-cache"
            if etag_matches(request.get("if-none-match"), etag):
                status, body = 304, b""
                for name in ("content-type", "content-length"):
                    if name in headers:
                        del headers[name]
        else:
            headers["Cache-Control"] = "no-store"
        if status != 304:
            headers["Content-Length"] = str(len(body))
        await send({"type": "http.response.start", "status": status, "headers": headers.raw})
        await send({"type": "http.response.body", "body": body})

    async def _finish_refusal(self, method: str, request: Headers, query: bytes, start: Message, body: bytes, send: Send) -> None:
        """A refusal of a route outside the app API: the messages added, the rest as it was."""
        headers = MutableHeaders(raw=list(start.get("headers", [])))
        body = self._localise_refusal(start["status"], headers, request, query, body)
        headers.add_vary_header("Accept-Language")
        headers["Content-Length"] = str(len(body))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers.raw})
        await send({"type": "http.response.body", "body": body})

    def _localise_refusal(self, status: int, headers: MutableHeaders, request: Headers, query: bytes, body: bytes) -> bytes:
        """A refusal's JSON body with the customer's messages (`Content-Language` saying in which
        language `message` is); any other answer as it is."""
        if status < 400 or not headers.get("content-type", "").startswith("application/json"):
            return body
        headers["Content-Language"] = preferred_language(request.get("accept-language"))
        return self._localise(status, body, request.get("accept-language"), query, headers.get("retry-after"))

    @staticmethod
    def _localise(status: int, body: bytes, accept_language: str | None, query: bytes, retry_after: str | None) -> bytes:
        try:
            parsed: Any = json.loads(body)
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        # Where a 422's field was sent: a query parameter's is located in the query, any other in the body.
        sent = {name for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)} if status == 422 else set()
        return json.dumps(localised(status, parsed, accept_language, sent, retry_after), ensure_ascii=False).encode()
