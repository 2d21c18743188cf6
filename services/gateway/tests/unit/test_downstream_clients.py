"""The gateway's downstream clients over real sockets: what forwarding and the 360 view rely on
(a service that does not answer in time is a read timeout, 504; one that cannot be reached is a
connection failure, 503; the correlation id travels with every call; a connection the service
closes is not used again, and a request is sent twice only if the service cannot have seen it)."""

import asyncio
import contextlib
import itertools
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import httpx
import pytest
from asgi_correlation_id import correlation_id

from gateway.adapters.clients import _client, segment
from shared.errors import NotFound

pytestmark = pytest.mark.unit


# Read back as the standard library reads it (the clients decode with orjson).
BODY = '{"ok": true, "name": "王小明", "spend": "1234.50", "count": 9007199254740993, "lines": [{"qty": 0.5}]}'.encode()


async def _server(answer: bool, seen: list[bytes]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # keep-alive: one request after another on the same connection
            head = await reader.readuntil(b"\r\n\r\n")
            seen.append(head)
            if not answer:
                await asyncio.sleep(30)
                return
            body = BODY
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_answers_come_back_over_kept_alive_connections_with_the_correlation_id() -> None:
    seen: list[bytes] = []
    server = await _server(True, seen)
    port = server.sockets[0].getsockname()[1]
    client = _client(f"http://127.0.0.1:{port}", 2.0)
    token = correlation_id.set("corr-123")
    try:
        answers = [await client.get("/v1/members/M1", headers={"Authorization": "Bearer t"}) for _ in range(3)]
    finally:
        correlation_id.reset(token)
        await client.aclose()
        server.close()
    assert [(a.status_code, a.json()) for a in answers] == [(200, json.loads(BODY))] * 3
    assert all(b"x-correlation-id: corr-123" in head.lower() and b"authorization: bearer t" in head.lower() for head in seen)
    assert len(seen) == 3


async def test_a_body_goes_out_with_the_content_type_its_caller_gave_and_none_when_they_gave_none() -> None:
    """A forwarded body keeps its caller's Content-Type; one sent without is forwarded without, so
    the service tells the caller they sent none (aiohttp would call it application/octet-stream)."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError):  # the client hung up at the end
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                seen.append(head.lower())
                await reader.readexactly(int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    client = _client(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", 2.0)
    try:
        await client.post("/v1/members", content=b'{"name": "x"}')
        await client.post("/v1/members", content=b'{"name": "x"}', headers={"Content-Type": "text/plain"})
        await client.post("/v1/members", json={"name": "x"})
    finally:
        await client.aclose()
        server.close()
    kinds = [[line for line in head.split(b"\r\n") if line.startswith(b"content-type:")] for head in seen]
    assert kinds == [[], [b"content-type: text/plain"], [b"content-type: application/json"]]


async def test_a_cookie_one_answer_sets_is_not_sent_with_anyone_elses_request() -> None:
    """The clients are shared by every caller the gateway forwards for: a cookie jar would hand one
    caller's cookie to all the others."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            seen.append(await reader.readuntil(b"\r\n\r\n"))
            writer.write(b"HTTP/1.1 200 OK\r\nset-cookie: session=caller-1; Path=/\r\ncontent-length: 2\r\n\r\n{}")
            await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    client = _client(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", 2.0)
    try:
        first = await client.get("/v1/members/M1")
        await client.get("/v1/members/M2")
        with pytest.raises(ValueError, match="keep no cookies"):
            client.cookies = {"session": "x"}
    finally:
        await client.aclose()
        server.close()
    assert first.headers["set-cookie"].startswith("session=caller-1")  # the answer itself is intact
    assert len(seen) == 2 and all(b"cookie:" not in head.lower() for head in seen)


async def test_a_service_that_does_not_answer_in_time_is_a_read_timeout() -> None:
    server = await _server(False, [])
    port = server.sockets[0].getsockname()[1]
    client = _client(f"http://127.0.0.1:{port}", 0.3)
    try:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/v1/members/M1")
    finally:
        await client.aclose()
        server.close()


async def test_a_service_that_cannot_be_reached_is_a_connection_failure_not_a_read_timeout() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = _client(f"http://127.0.0.1:{port}", 0.5)
    try:
        with pytest.raises(httpx.HTTPError) as raised:
            await client.get("/v1/members/M1")
    finally:
        await client.aclose()
    # Forwarding answers 503 for it (never reached), not 504 (reached, may still take effect), and
    # the 503 names it: httpx_aiohttp had called it a ConnectTimeout.
    assert type(raised.value) is httpx.ConnectError
    assert "Connect call failed" in str(raised.value)


# A scripted service: `answer(connection number, request line, writer)` answers a request (already
# read, body and all) and says whether to read the next one on the same connection; if not, the
# connection is closed. Every request read is recorded as (connection number, request line).
Answer = Callable[[int, str, asyncio.StreamWriter], Awaitable[bool]]
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}"


async def _scripted(answer: Answer, seen: list[tuple[int, str]]) -> asyncio.Server:
    numbers = itertools.count(1)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = next(numbers)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
                length = next((int(line.split(":")[1]) for line in head.split("\r\n") if line.startswith("content-length:")), 0)
                await reader.readexactly(length)
                line = head.split("\r\n")[0].removesuffix(" http/1.1")
                seen.append((number, line))
                if not await answer(number, line, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


@asynccontextmanager
async def _client_of(answer: Answer, seen: list[tuple[int, str]]) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway's downstream client to a scripted service, both closed afterwards."""
    server = await _scripted(answer, seen)
    client = _client(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", 2.0)
    try:
        yield client
    finally:
        await client.aclose()
        server.close()


async def test_after_a_500_the_next_post_goes_out_on_a_new_connection() -> None:
    """As uvicorn does after an unhandled exception: the 500 says nothing of closing, and the
    connection closes a moment later (uvicorn logs the traceback first) with whatever was sent on it
    meanwhile unread. The POST used to be written there and fail: 503 "unavailable: ConnectTimeout"."""
    seen: list[tuple[int, str]] = []

    async def answer(number: int, line: str, writer: asyncio.StreamWriter) -> bool:
        if line.startswith("post /v1/accounts/"):
            writer.write(b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: 21\r\n\r\n"
                         b"Internal Server Error")
            await writer.drain()
            await asyncio.sleep(0.05)
            return False
        writer.write(OK)
        await writer.drain()
        return True

    async with _client_of(answer, seen) as client:
        broken = await client.post("/v1/accounts/M1/adjustments", json={"points": 5, "reason": "   "})
        after = await client.post("/v1/redemptions", json={"gift_id": "G1"})
    assert (broken.status_code, after.status_code) == (500, 200)
    assert seen == [(1, "post /v1/accounts/m1/adjustments"), (2, "post /v1/redemptions")]


async def _close_as_it_is_handed_out(client: httpx.AsyncClient, service_end: asyncio.StreamWriter) -> None:
    """When the pool hands out a kept-alive connection, the service closes its end of it
    (`service_end`), and the call goes on ahead of the loop reading the close: the request then
    meets a connection that is closing. In production this is a race, met when the close lands in
    the same turn of the loop as the call taking the connection (on Python 3.11, where aiohttp
    writes a body from a task of its own); the report's POSTs after a 500 met it that way."""
    async def close_now(*_: object) -> None:
        service_end.get_extra_info("socket").shutdown(socket.SHUT_WR)
        time.sleep(0.05)  # noqa: ASYNC251 - the close reaches the socket while the loop is held
        await asyncio.sleep(0)

    trace = aiohttp.TraceConfig()
    trace.on_connection_reuseconn.append(close_now)
    trace.freeze()
    session = client._transport.client  # type: ignore[attr-defined]  # aiohttp's, made by the first call
    session._trace_configs.append(trace)


async def test_a_post_its_kept_alive_connection_refused_before_writing_is_sent_once_on_another() -> None:
    """The service closes a kept-alive connection without saying so (its keep-alive timeout, a
    restart) as the pool hands it to a POST. aiohttp then writes nothing (the connection is
    closing), so the service cannot have seen the POST: it goes out once more, on a new connection,
    instead of failing."""
    seen: list[tuple[int, str]] = []
    ends: dict[int, asyncio.StreamWriter] = {}

    async def answer(number: int, line: str, writer: asyncio.StreamWriter) -> bool:
        ends[number] = writer
        writer.write(OK)
        await writer.drain()
        return True

    async with _client_of(answer, seen) as client:
        first = await client.post("/v1/redemptions", json={"gift_id": "G1"})
        await _close_as_it_is_handed_out(client, ends[1])
        second = await client.post("/v1/redemptions", json={"gift_id": "G2"})
    assert (first.status_code, second.status_code) == (200, 200)
    assert seen == [(1, "post /v1/redemptions"), (2, "post /v1/redemptions")]


async def test_a_post_that_reached_the_service_is_not_sent_again_nor_called_a_connect_timeout() -> None:
    """The service read the POST and closed the connection without answering (it died, say): the
    POST may have taken effect, so it is not sent again, and the failure is named for what happened,
    not a ConnectTimeout (which says nothing was sent)."""
    seen: list[tuple[int, str]] = []

    async def answer(number: int, line: str, writer: asyncio.StreamWriter) -> bool:
        if "g2" in line:
            return False
        writer.write(OK)
        await writer.drain()
        return True

    async with _client_of(answer, seen) as client:
        assert (await client.post("/v1/redemptions?gift=G1", json={})).status_code == 200
        with pytest.raises(httpx.HTTPError) as raised:
            await client.post("/v1/redemptions?gift=G2", json={})
    assert seen == [(1, "post /v1/redemptions?gift=g1"), (1, "post /v1/redemptions?gift=g2")]
    assert type(raised.value) is httpx.RemoteProtocolError and str(raised.value) == "Server disconnected"


@pytest.mark.parametrize(("value", "sent"), [("m-1", "m-1"), ("a/b", "a%2Fb"), ("x?y#z", "x%3Fy%23z"), ("...", "..."), ("a.b", "a.b")])
def test_a_value_is_one_path_segment_that_no_url_resolves_away(value: str, sent: str) -> None:
    assert segment(value) == sent
    url = httpx.URL(f"http://members/v1/members/{segment(value)}/overview")
    assert url.raw_path == f"/v1/members/{sent}/overview".encode()


@pytest.mark.parametrize("value", [".", ".."])
def test_dots_alone_name_nothing_and_are_never_sent(value: str) -> None:
    # Percent-encoded, aiohttp's URL would decode them and resolve them away all the same.
    with pytest.raises(NotFound):
        segment(value)
