"""What every service does with oversized and invalid requests, before any route logic runs:
the app is the one `build_service_app` makes, driven in-process without its lifespan."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, Field, StringConstraints

from shared.authorize import Allowed
from shared.policy import Grant
from shared.service import ServiceSpec, build_service_app
from shared.settings import ServiceSettings
from shared.text import Text

LIMIT = 1024


class Note(BaseModel):
    title: str = Field(max_length=20)
    count: int
    # Text with its own length: a constraint after a validator, which pydantic checks as a length.
    remark: Annotated[Text, StringConstraints(min_length=1, max_length=5)] = "ok"
    tags: list[str] = Field(default_factory=list, max_length=2)


def make_app(limit: int = LIMIT) -> tuple[FastAPI, list[str]]:
    reached: list[str] = []
    router = APIRouter()

    @router.post("/notes")
    async def post_note(note: Note) -> Note:
        reached.append(note.title)
        return note

    @router.get("/items/{item_id}")
    async def get_item(item_id: str, q: str = "") -> dict[str, str]:
        reached.append(item_id)
        return {"item_id": item_id, "q": q}

    @router.patch("/items/{item_id}")
    async def patch_item(item_id: str) -> dict[str, str]:
        return {"item_id": item_id}

    @router.post("/refused")
    async def post_refused() -> None:
        # A route's own 400, even one that met a decoding error, is answered as it says.
        raise HTTPException(400, "code: unreadable", headers={"X-Refused": "yes"}) from UnicodeDecodeError("utf-8", b"\xff", 0, 1, "x")

    @router.post("/guarded")
    async def post_guarded(note: Note, _: Annotated[Grant, Allowed("jobs.run")]) -> Note:
        reached.append(note.title)
        return note

    settings = ServiceSettings(environment="test", max_body_bytes=limit)
    return build_service_app(settings, ServiceSpec("t", "t", [router], migrations=Path("."))), reached


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read() -> None:
    app, reached = make_app()
    sent: list[dict] = []

    async def receive() -> dict:
        raise AssertionError("the body was read")

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/guarded", "raw_path": b"/guarded", "query_string": b"", "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(50 * 1024 * 1024).encode())],
        "client": ("127.0.0.1", 1), "server": ("test", 80),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert b"1024 bytes" in sent[1]["body"]
    assert reached == []


async def test_a_chunked_body_is_cut_off_with_413_once_it_passes_the_limit() -> None:
    app, reached = make_app()
    chunks_read = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal chunks_read
        yield b'{"title": "x", "count": 1, "pad": "'
        for _ in range(1000):  # 100 kB if it were all read
            chunks_read += 1
            yield b"a" * 100
        yield b'"}'

    async with client(app) as c:
        r = await c.post("/notes", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "exceeds the limit of 1024 bytes" in r.json()["detail"]
    assert "content-length" not in {k.lower() for k in r.request.headers}  # it really was chunked
    assert reached == []
    assert chunks_read < 20


async def test_an_unauthenticated_oversized_body_is_413_not_a_token_error() -> None:
    app, _ = make_app()
    async with client(app) as c:
        r = await c.post("/guarded", content=b"x" * (LIMIT + 1), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


async def test_a_body_within_the_limit_goes_through() -> None:
    app, reached = make_app()
    body = json.dumps({"title": "ok", "count": 2, "pad": "a" * (LIMIT - 60)})
    assert len(body) <= LIMIT
    async with client(app) as c:
        r = await c.post("/notes", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and reached == ["ok"]


async def test_a_content_length_that_is_not_a_number_is_400() -> None:
    app, _ = make_app()
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/notes", "raw_path": b"/notes", "query_string": b"", "root_path": "",
        "headers": [(b"content-length", b"lots")], "client": ("127.0.0.1", 1), "server": ("test", 80),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 400


async def test_a_json_body_that_is_not_utf8_is_422_naming_the_body_the_byte_and_its_position() -> None:
    app, reached = make_app()
    async with client(app) as c:
        # A till writing GBK: 你 is c4 e3.
        gbk = '{"title": "ok", "count": 1, "remark": "你"}'.encode("gbk")
        r = await c.post("/notes", content=gbk, headers={"Content-Type": "application/json"})
        utf16 = await c.post("/notes", content='{"title": "ok"}'.encode("utf-16-le") + b"}", headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json() == {"detail": [{
        "loc": ["body", 39], "msg": "body: not UTF-8 (byte 0xc4 at position 39); send JSON in UTF-8",
        "type": "json_invalid", "ctx": {"error": "invalid continuation byte"}}]}
    assert gbk[39] == 0xC4
    assert utf16.status_code == 422
    assert utf16.json()["detail"][0]["msg"] == "body: not UTF-8 (byte 0x7d at position 30, read as utf-16-le); send JSON in UTF-8"
    assert reached == []


async def test_other_http_errors_are_answered_as_fastapi_answers_them() -> None:
    app, _ = make_app()
    async with client(app) as c:
        refused = await c.post("/refused")
        missing = await c.get("/nowhere")
    assert (refused.status_code, refused.json(), refused.headers["X-Refused"]) == (400, {"detail": "code: unreadable"}, "yes")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})


async def test_a_422_names_the_field_and_reason_without_echoing_the_whole_input() -> None:
    app, _ = make_app(limit=1024 * 1024)
    long_title = "长" * 200_000
    async with client(app) as c:
        r = await c.post("/notes", json={"title": long_title, "count": 1})
    assert r.status_code == 422
    assert len(r.content) < 2_000
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "title"]
    assert error["type"] == "string_too_long" and "at most 20 characters" in error["msg"]
    assert error["input"].startswith("长" * 100) and len(error["input"]) <= 101
    assert error["ctx"] == {"max_length": 20}


async def test_a_422_for_a_wrong_body_type_does_not_echo_the_body() -> None:
    app, _ = make_app(limit=1024 * 1024)
    async with client(app) as c:
        r = await c.post("/notes", json=["x" * 500_000])
    assert r.status_code == 422 and len(r.content) < 1_000
    assert r.json()["detail"][0]["loc"] == ["body"]


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb" * 10])
async def test_a_422_whose_input_holds_a_lone_surrogate_is_still_answered(text: str) -> None:
    app, _ = make_app()
    body = json.dumps({"title": text, "count": 1})  # ASCII-escaped, as a client would send it
    async with client(app) as c:
        r = await c.post("/notes", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "title"] and error["type"] == "string_unicode"


@pytest.mark.parametrize(("url", "loc"), [
    ("/items/a%00b", ["path"]),
    ("/items/a?q=%00", ["query", "q"]),
    ("/items/a?q=ok&x%1Fy=1", ["query", "x\\x1fy"]),
])
async def test_nul_or_control_characters_in_the_url_are_422_naming_where(url: str, loc: list) -> None:
    app, reached = make_app()
    async with client(app) as c:
        r = await c.get(url)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == loc and "must not contain control character" in error["msg"]
    assert reached == []


async def test_ordinary_unicode_in_the_url_goes_through() -> None:
    app, _ = make_app()
    async with client(app) as c:
        r = await c.get("/items/阳光花园", params={"q": "王 小明\t"})
    assert r.status_code == 200 and r.json() == {"item_id": "阳光花园", "q": "王 小明\t"}


@pytest.mark.parametrize(("field", "value", "type_", "msg", "ctx"), [
    ("remark", "too long", "string_too_long", "String should have at most 5 characters", {"max_length": 5}),
    ("remark", "", "string_too_short", "String should have at least 1 character", {"min_length": 1}),
    ("tags", ["a", "b", "c"], "too_long", "List should have at most 2 items after validation, not 3", None),
])
async def test_a_length_is_told_in_characters_for_text_and_in_items_for_a_list(field, value, type_, msg, ctx) -> None:
    app, reached = make_app()
    async with client(app) as c:
        r = await c.post("/notes", json={"title": "t", "count": 1, field: value})
    assert r.status_code == 422 and reached == []
    [error] = r.json()["detail"]
    assert (error["loc"], error["type"], error["msg"]) == (["body", field], type_, msg)
    if ctx is not None:  # the limit, under the name a plain string field's error gives it
        assert error["ctx"] == ctx


async def test_a_method_the_path_does_not_take_is_405_naming_every_method_it_takes() -> None:
    """A path with a route per method (GET and PATCH of an item): the first route's alone hid the rest."""
    app, _ = make_app()
    async with client(app) as c:
        r = await c.put("/items/a1", json={})
        assert r.status_code == 405 and r.headers["allow"] == "GET, PATCH", r.headers
        r = await c.delete("/notes")
        assert r.status_code == 405 and r.headers["allow"] == "POST", r.headers
        assert (await c.put("/nothing/here")).status_code == 404


async def test_the_openapi_document_names_the_refusals_of_tokens_and_bodies() -> None:
    """401 and 403 where a token is taken, 413, 415 and 422 where a body is: what the skeleton
    answers, not the route, which FastAPI alone leaves out."""
    app, _ = make_app()
    async with client(app) as c:
        paths = (await c.get("/openapi.json")).json()["paths"]
    codes = {(path, method): sorted(op["responses"]) for path, ops in paths.items() for method, op in ops.items()}
    assert codes[("/guarded", "post")] == ["200", "401", "403", "413", "415", "422"]
    assert codes[("/notes", "post")] == ["200", "413", "415", "422"]
    assert codes[("/items/{item_id}", "get")] == ["200", "422"]
    assert paths["/guarded"]["post"]["responses"]["403"]["content"]["application/json"]["schema"]["required"] == ["detail"]
