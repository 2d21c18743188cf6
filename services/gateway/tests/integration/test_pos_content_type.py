"""A sale sent as anything but JSON is told so (415), not refused as if its fields were wrong."""

import json

import pytest

from shared.auth import Role
from tests.support.factories import sale_body
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_sale_not_sent_as_json_is_415_naming_the_content_type(gateway, env: TestEnv, content_type) -> None:
    headers = env.auth(Role.POS, store_id="S001") | ({"Content-Type": content_type} if content_type else {})
    r = await gateway.post("/pos/v1/purchases", content=json.dumps(sale_body()).encode(), headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["detail"].startswith("Content-Type: send the body as application/json")
    # Sent as JSON, the same bytes are a sale.
    headers["Content-Type"] = "application/json; charset=utf-8"
    assert (await gateway.post("/pos/v1/purchases", content=json.dumps(sale_body()).encode(), headers=headers)).status_code == 202


async def test_a_sale_not_in_utf8_is_422_naming_the_byte_and_where(gateway, env: TestEnv) -> None:
    headers = env.auth(Role.POS, store_id="S001") | {"Content-Type": "application/json"}
    sale = sale_body()
    gbk = json.dumps(sale, ensure_ascii=False).encode("gbk")  # as a till set to the Windows code page writes it
    at = gbk.index("金龙鱼大米".encode("gbk"))  # the product's name, the sale's first Chinese
    r = await gateway.post("/pos/v1/purchases", content=gbk, headers=headers)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", at], "json_invalid")
    assert error["msg"] == f"body: not UTF-8 (byte 0x{gbk[at]:02x} at position {at}); send JSON in UTF-8"
    # The same sale in UTF-8 is taken.
    utf8 = json.dumps(sale, ensure_ascii=False).encode()
    assert (await gateway.post("/pos/v1/purchases", content=utf8, headers=headers)).status_code == 202
