"""Non-finite and huge JSON numbers, and NUL in a line's text, make a sale a 422 naming the field.
(NaN used to be a 500: the 422 answer echoed it, and JSON cannot carry it; a NUL was accepted and
later refused by PostgreSQL in the consumers that store the line.)"""

import json

import pytest

from gateway.config import Settings
from gateway.main import create_app
from shared.auth import Role
from tests.support.factories import sale_body
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with service(create_app(env.settings(Settings, await database_factory("gateway")))) as client:
        yield client


@pytest.mark.parametrize("field", ["qty", "unit_price", "amount"])
@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e309"])
async def test_a_non_finite_number_in_a_sale_line_is_422_naming_it(gateway, env: TestEnv, field: str, raw: str) -> None:
    body = sale_body()
    body["lines"][0][field] = "__RAW__"
    content = json.dumps(body).replace('"__RAW__"', raw)
    r = await gateway.post("/pos/v1/purchases", content=content,
                           headers={**env.auth(Role.POS, store_id="S001"), "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert ["body", "lines", 0, field] in [e["loc"] for e in r.json()["detail"]]


@pytest.mark.parametrize("field", ["sku", "name", "category"])
async def test_nul_in_a_sale_line_is_422_naming_it(gateway, env: TestEnv, field: str) -> None:
    body = sale_body()
    body["lines"][0][field] = "米\u0000"
    r = await gateway.post("/pos/v1/purchases", content=json.dumps(body),
                           headers={**env.auth(Role.POS, store_id="S001"), "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "lines", 0, field]
