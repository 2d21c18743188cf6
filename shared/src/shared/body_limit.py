"""A ceiling on request bodies, enforced before anything reads them.

Without it an unauthenticated client can make a service (or the gateway, which forwards bodies)
buffer any amount of memory: routes read the body before the token is even checked. A declared
`Content-Length` over the limit is answered 413 without reading a byte; a body sent without one
(chunked) is counted as it streams in and cut off with 413 as soon as it passes the limit.

Pure ASGI rather than a Starlette `BaseHTTPMiddleware`, so the body is never buffered here either.
"""

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from `receive` while the app reads the body. An HTTPException, so that FastAPI's body
    parsing re-raises it (it turns other errors into 400) and its exception handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds the limit of {limit} bytes")


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await JSONResponse({"detail": "Content-Length is not a number"}, 400)(scope, receive, send)
            return
        if declared is not None and declared > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            # Reaches here only where no exception handler answered it (e.g. a plain Starlette
            # route); once a response has begun, the connection can only be dropped.
            if started:
                raise
            await _too_large(self.max_bytes)(scope, receive, send)


def _too_large(limit: int) -> JSONResponse:
    # "close": the rest of the body is never read, so the connection cannot be reused.
    return JSONResponse(
        {"detail": f"request body exceeds the limit of {limit} bytes"}, 413, headers={"Connection": "close"}
    )


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when absent, -1 when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return -1
            return length if length >= 0 else -1
    return None
