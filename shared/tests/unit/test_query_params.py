"""A query parameter no route declares is 422 naming it, not ignored (a misspelt filter answered
the whole unfiltered list)."""

from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Query
from pydantic import BaseModel

from shared.query_params import QUERY_CHECKED_ELSEWHERE, refuse_unknown_query

pytestmark = pytest.mark.unit


def paging(limit: int = 20, offset: int = 0) -> tuple[int, int]:
    return limit, offset


class Window(BaseModel):
    since: str | None = None
    until: str | None = None


app = FastAPI(dependencies=[Depends(refuse_unknown_query)])


@app.get("/members")
async def members(page: Annotated[tuple[int, int], Depends(paging)], phone: str | None = None,
                  risk: Annotated[list[str] | None, Query()] = None) -> dict:
    return {"phone": phone, "page": page, "risk": risk}


@app.get("/reports")
async def reports(window: Annotated[Window, Query()]) -> dict:
    return window.model_dump()


@app.get("/forwarded", dependencies=[QUERY_CHECKED_ELSEWHERE])
async def forwarded(phone: str | None = None) -> dict:
    return {"phone": phone}


@pytest.fixture
async def client():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_declared_parameters_and_those_of_dependencies_and_models_pass(client) -> None:
    r = await client.get("/members", params=[("phone", "13800001111"), ("limit", "5"), ("risk", "high"), ("risk", "lost")])
    assert r.status_code == 200 and r.json() == {"phone": "13800001111", "page": [5, 0], "risk": ["high", "lost"]}
    assert (await client.get("/reports", params={"since": "2026-01-01"})).status_code == 200
    assert (await client.get("/members")).status_code == 200


async def test_an_unknown_parameter_is_422_naming_each_once(client) -> None:
    r = await client.get("/members", params=[("q", "13800001111"), ("limit", "5"), ("store", "S1"), ("q", "x")])
    assert r.status_code == 422
    assert [(e["loc"], e["type"]) for e in r.json()["detail"]] == [
        (["query", "q"], "extra_forbidden"), (["query", "store"], "extra_forbidden")]
    assert (await client.get("/reports", params={"from": "2026-01-01"})).status_code == 422


async def test_a_route_whose_parameters_are_checked_elsewhere_takes_any(client) -> None:
    r = await client.get("/forwarded", params={"phone": "13800001111", "risk": "high"})
    assert r.status_code == 200 and r.json() == {"phone": "13800001111"}
