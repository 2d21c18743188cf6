"""The gateway's downstream clients over real sockets: what forwarding and the 360 view rely on
(a service that does not answer in time is a read timeout, 504; one that cannot be reached is a
connection failure, 503; the correlation id travels with every call)."""

import asyncio
import socket

import httpx
import pytest
from asgi_correlation_id import correlation_id

from gateway.adapters.clients import _client

pytestmark = pytest.mark.unit


async def _server(answer: bool, seen: list[bytes]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # keep-alive: one request after another on the same connection
            head = await reader.readuntil(b"\r\n\r\n")
            seen.append(head)
            if not answer:
                await asyncio.sleep(30)
                return
            body = b'{"ok": true}'
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
    assert [(a.status_code, a.json()) for a in answers] == [(200, {"ok": True})] * 3
    assert all(b"x-correlation-id: corr-123" in head.lower() and b"authorization: bearer t" in head.lower() for head in seen)
    assert len(seen) == 3


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
    # Forwarding answers 503 for it (never reached), not 504 (reached, may still take effect).
    assert not isinstance(raised.value, httpx.ReadTimeout | httpx.WriteTimeout)
    assert "Connect call failed" in str(raised.value)
