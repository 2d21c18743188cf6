"""One HTTP client per downstream service, made at start-up and closed at shutdown.

httpx's API (tests hand the gateway in-process services through httpx's ASGI transport), over
aiohttp's connections: httpx's own transport cost 1.2-3.6 ms of CPU per call on the 2-core
development machine, rising with concurrent calls on one pool, against 0.4 ms with aiohttp's
(bench/customer360.py); the 360 view makes six calls. Connections are all kept alive: at 32 staff
screens the view has 64 calls in flight to members alone, and a pool that keeps fewer opens new
connections all the time.

What the pool does with connections a service closes (`DownstreamTransport`):

- A 500 ends its connection. uvicorn closes the connection after an unhandled exception without
  saying so: Starlette has sent the 500 by the time uvicorn learns of the exception, so the answer
  has no `Connection: close`, and the close reaches the gateway a moment after it. Put back in the
  pool, the connection went to the next call, whose request was written into a socket the service
  was closing: a POST failed (aiohttp resends idempotent methods only), unrun by the service.
- A request that its pooled connection refused before a byte of it was written is sent once more,
  whatever its method: the service cannot have seen it. Any other failure is not resent here, since
  the request may have reached the service and taken effect there (aiohttp itself sends an
  idempotent method once more after a dropped connection, never a POST or a PATCH).
- Answers read their JSON with orjson (`_JsonAnswer`): less than half the standard library's CPU,
  on every section of every 360 view.
- Failures keep their true names. httpx_aiohttp calls every aiohttp connection error (refused,
  reset, "Server disconnected") `ConnectTimeout`, and the routes' 503s repeat the name.
"""

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
import orjson
from aiohttp.connector import Connection
from asgi_correlation_id import correlation_id
from fastapi import FastAPI
from httpx_aiohttp import AiohttpTransport

from gateway.config import Settings
from shared.errors import NotFound, ServiceError
from shared.tls import client_tls

log = logging.getLogger(__name__)


class Unreachable(ServiceError):
    """The service could not be reached: nothing was sent, or nothing reached it."""

    status_code = 503


class TimedOut(ServiceError):
    """The service was reached but did not answer in time: the request may still take effect
    there (the caller checks, or retries what is idempotent)."""

    status_code = 504


@contextlib.contextmanager
def answered_by(service: str, timeout: float) -> Iterator[None]:
    """A call to `service` inside: its transport failures as the caller's 503 or 504."""
    try:
        yield
    except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
        raise TimedOut(f"{service} service did not answer within {timeout}s") from exc
    except httpx.HTTPError as exc:
        raise Unreachable(f"{service} service unavailable: {type(exc).__name__}") from exc


def as_received(value: str) -> bytes:
    """A caller's header value, forwarded as the bytes it sent. Starlette reads header values as
    Latin-1 and httpx writes a `str` as ASCII, so a value with any other byte (an `Accept-Language`
    or `Content-Type` holding 0xFF) was a server error on the way out instead of the service's to judge."""
    return value.encode("latin-1")


def segment(value: str) -> str:
    """A value as one path segment of a downstream URL, whatever the caller sent: `/`, `?` and `#`
    stay data, never syntax. `.` and `..` name nothing (404): a URL resolves them as "this folder"
    and "the one above" (`/v1/complaints/.` is the list of complaints, not a complaint named "."),
    and percent-encoded they are decoded again on the way (aiohttp's URLs normalise `%2E`)."""
    if value in (".", ".."):
        raise NotFound(f"nothing is named {value!r}")
    return quote(value, safe="")


@dataclass
class Downstream:
    members: httpx.AsyncClient
    points: httpx.AsyncClient
    # Optional so that a gateway wired without feedback still serves the 360 view, with its
    # complaints section reported unavailable.
    feedback: httpx.AsyncClient | None = None
    # Optional for the same reason: without it the till's coupon routes answer 503, nothing else.
    campaigns: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        for client in (self.members, self.points, self.feedback, self.campaigns):
            if client is not None:
                await client.aclose()


CONNECTIONS_PER_SERVICE = 100
KEEPALIVE_S = 5.0  # httpx's default keepalive_expiry, which the pool had before it was built here

# aiohttp's connection failures under the names httpx's own transport gives them, most specific
# first: the callers' 503s name them, and ConnectError or ConnectTimeout tells that nothing was sent.
_NAMES: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, unknown host
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),  # closed without (all of) an answer
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientConnectionError, httpx.NetworkError),  # reset and the like, after the request went out
)


class _JsonAnswer(httpx.Response):
    def json(self, **kwargs: Any) -> Any:
        # Strict JSON (no NaN, integers within 64 bits), which is all the services write.
        return orjson.loads(self.content) if not kwargs else super().json(**kwargs)


class _Answer(aiohttp.ClientResponse):
    """An answer that does not give its connection back to the pool when it is a 500."""

    async def start(self, connection: Connection) -> aiohttp.ClientResponse:
        protocol = connection.protocol
        await super().start(connection)
        if self.status == 500 and protocol is not None:
            if self.connection is None:
                # The whole answer had arrived, and aiohttp put the connection back in the pool as
                # it read it; closed, it is dropped from there instead of handed out. (start() does
                # not wait between giving it back and returning, so no other call has taken it.)
                protocol.close()
            else:
                protocol.force_close()  # closed, not pooled, once the body is read
        return self


def _session() -> aiohttp.ClientSession:
    # Made on the transport's first call, inside the running loop, as aiohttp wants; the same
    # connector httpx_aiohttp makes, with the answer above.
    connector = aiohttp.TCPConnector(
        limit=CONNECTIONS_PER_SERVICE, keepalive_timeout=KEEPALIVE_S, ssl=client_tls()
    )
    # No Content-Type of aiohttp's own: a body forwarded without one goes out without one, and the
    # service tells the caller they sent none (not "application/octet-stream", which they never said).
    return aiohttp.ClientSession(connector=connector, response_class=_Answer, skip_auto_headers=("Content-Type",))


class DownstreamTransport(AiohttpTransport):
    def __init__(self) -> None:
        # The process's one TLS context: the transport would load the trusted certificates again
        # for each downstream service (it makes a context even when given the session).
        super().__init__(client=_session, verify=client_tls())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self._send(request)
        return _JsonAnswer(answer.status_code, headers=answer.headers, stream=answer.stream, extensions=answer.extensions)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.TransportError as exc:
            if not (_never_written(exc) and _resendable(request)):
                raise _named(exc) from exc.__cause__
            # Logged, not hidden: a service that keeps closing connections under the gateway shows here.
            log.info(
                "%s %s: the service had closed the kept-alive connection before the request was written; "
                "sending it on another", request.method, request.url.path,
            )
        try:
            return await super().handle_async_request(request)
        except httpx.TransportError as exc:
            raise _named(exc) from exc.__cause__


def _never_written(exc: httpx.TransportError) -> bool:
    """Whether aiohttp refused to write the request at all. Its StreamWriter raises this
    ClientConnectionResetError instead of calling `transport.write` when the connection is already
    closing, and it writes a request's head together with its body (bytes, no `Expect:
    100-continue`, see `_resendable`) in that one write: so not a byte of the request left the
    gateway. For a POST or a PATCH that was the only attempt; an idempotent method aiohttp may have
    sent once already, which that method allows. A reset while writing or reading, or "Server
    disconnected", proves nothing of the kind (the service may have read the request), nor does
    another wording of this error in a later aiohttp: the request is then not resent."""
    cause: BaseException | None = exc.__cause__
    while cause is not None:
        if isinstance(cause, aiohttp.ClientConnectionResetError) and cause.args == ("Cannot write to closing transport",):
            return True
        cause = cause.__cause__
    return False


def _resendable(request: httpx.Request) -> bool:
    try:
        request.content  # noqa: B018 - a streamed body cannot be sent twice, nor is it written in one piece
    except httpx.RequestNotRead:
        return False
    return "expect" not in request.headers  # 100-continue sends the head on its own first


def _named(exc: httpx.TransportError) -> httpx.TransportError:
    if _never_written(exc):  # and not resendable, or refused again
        return httpx.ConnectError("the service closed the connection before the request was sent")
    for aiohttp_error, name in _NAMES:
        if isinstance(exc.__cause__, aiohttp_error):
            return exc if type(exc) is name else name(str(exc))
    return exc


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class _Client(httpx.AsyncClient):
    """A client that keeps no cookies. Its jar would be shared by every caller the gateway forwards
    for: a cookie one caller's answer set would go out with everyone's requests. The services set
    none (callers carry bearer tokens); reading every answer for them cost 6 % of a 360 view's CPU
    in the gateway."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        if cookies:
            raise ValueError("the gateway's downstream clients keep no cookies")


_NO_COOKIES = _NoCookies()


def _client(base_url: str, timeout: float) -> httpx.AsyncClient:
    return _Client(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)),
        transport=DownstreamTransport(),
        event_hooks={"request": [_propagate_correlation_id]},
    )


async def _propagate_correlation_id(request: httpx.Request) -> None:
    cid = correlation_id.get()
    if cid:
        request.headers["X-Correlation-ID"] = cid


async def open_clients(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    if getattr(app.state, "downstream", None) is None:  # tests may inject their own transports
        app.state.downstream = Downstream(
            members=_client(settings.members_url, settings.downstream_timeout_s),
            points=_client(settings.points_url, settings.downstream_timeout_s),
            feedback=_client(settings.feedback_url, settings.downstream_timeout_s),
            campaigns=_client(settings.campaigns_url, settings.downstream_timeout_s),
        )


async def close_clients(app: FastAPI) -> None:
    await app.state.downstream.aclose()
