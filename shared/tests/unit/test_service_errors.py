"""The one mapping of service refusals to HTTP answers, in the app `build_service_app` makes."""

import sqlite3
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import make_engine, ping
from shared.errors import Conflict, Forbidden, Invalid, NotFound, Overloaded, ServiceError, TooManyRequests
from shared.service import ServiceSpec, build_service_app
from shared.settings import ServiceSettings


class NamedConflict(Conflict):
    """A refusal that names its kind beside the detail, and tries (in vain) to replace the detail."""

    def extra(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "detail": "not this"}


REFUSALS: dict[str, ServiceError] = {
    "not-found": NotFound("no such thing"),
    "conflict": Conflict("already there"),
    "forbidden": Forbidden("not yours"),
    "too-many": TooManyRequests("slow down"),
    "too-many-for-a-while": TooManyRequests("slow down", retry_after_s=42),
    "overloaded": Overloaded("too much at once", retry_after_s=1),
    "invalid": Invalid("quantity", "must be positive"),
    "named": NamedConflict("taken by someone else"),
}


def make_app() -> FastAPI:
    router = APIRouter()

    @router.get("/refuse/{kind}")
    async def refuse(kind: str) -> None:
        raise REFUSALS[kind]

    settings = ServiceSettings(environment="test")
    return build_service_app(settings, ServiceSpec("t", "t", [router], migrations=Path(".")))


async def answer(kind: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(f"/refuse/{kind}")


async def test_each_refusal_is_its_status_with_the_message_as_detail() -> None:
    expected = {
        "not-found": (404, "no such thing"),
        "conflict": (409, "already there"),
        "forbidden": (403, "not yours"),
        "too-many": (429, "slow down"),
        "invalid": (422, "quantity: must be positive"),
    }
    for kind, (status, detail) in expected.items():
        r = await answer(kind)
        assert (r.status_code, r.json()) == (status, {"detail": detail}), kind


async def test_a_refusal_may_answer_extra_fields_beside_its_detail_but_not_replace_it() -> None:
    r = await answer("named")
    assert r.status_code == 409
    assert r.json() == {"detail": "taken by someone else", "error": "NamedConflict"}


async def test_a_throttled_request_is_told_when_to_come_back() -> None:
    r = await answer("too-many-for-a-while")
    assert (r.status_code, r.json(), r.headers["retry-after"]) == (429, {"detail": "slow down"}, "42")
    assert "retry-after" not in (await answer("too-many")).headers


async def test_an_overloaded_service_answers_503_and_when_to_come_back() -> None:
    r = await answer("overloaded")
    assert (r.status_code, r.json(), r.headers["retry-after"]) == (503, {"detail": "too much at once"}, "1")


def database_app(error: Exception | None, engine: AsyncEngine | None = None) -> FastAPI:
    router = APIRouter()

    @router.get("/query")
    async def query() -> None:
        if engine is not None:
            await ping(engine)
        if error is not None:
            raise error

    settings = ServiceSettings(environment="test", service_name="points")
    return build_service_app(settings, ServiceSpec("t", "t", [router], migrations=Path(".")))


async def ask(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/query")


async def test_a_database_that_is_away_is_a_503_naming_it_without_the_statement() -> None:
    away = OperationalError("SELECT * FROM accounts WHERE member_id = ?", ("M-secret",), sqlite3.OperationalError("unable to open database file"))
    r = await ask(database_app(away))
    assert r.status_code == 503
    assert r.json() == {"detail": "the points database is unavailable, retry later (OperationalError: unable to open database file)"}
    assert r.headers["retry-after"] == "5"


async def test_a_database_error_that_is_a_bug_stays_a_500() -> None:
    bug = IntegrityError("INSERT INTO accounts VALUES (?)", ("M-1",), sqlite3.IntegrityError("UNIQUE constraint failed"))
    r = await ask(database_app(bug))
    assert r.status_code == 500


async def test_a_postgresql_that_refuses_connections_is_a_503_and_any_other_oserror_a_500() -> None:
    # asyncpg raises a refused connection as a bare ConnectionRefusedError, which SQLAlchemy does
    # not wrap: it had been a 500 with a traceback while the database was down.
    engine = make_engine("postgresql+asyncpg://points:secret@127.0.0.1:9/points")  # nothing listens there
    try:
        r = await ask(database_app(None, engine))
    finally:
        await engine.dispose()
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert r.json()["detail"].startswith("the points database is unavailable, retry later (ConnectionRefusedError: ")
    assert (await ask(database_app(FileNotFoundError("templates/missing.html")))).status_code == 500
