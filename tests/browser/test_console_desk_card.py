"""A card scanned into the desk's registration form, in a real browser: a barcode scanner types the
number as keystrokes, so a field shorter than the cards members takes (4 to 32 letters or digits)
would cut a long card number short without a word, and the customer would be registered under a
card the till never sends. Members is stood in for: the test reads what the form sent it."""

import json
from dataclasses import replace

import httpx
import pytest

from tests.browser.conftest import chromium, log_in, served
from tests.support.console import account
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = [pytest.mark.browser, pytest.mark.integration]

LONGEST_CARD = "88" + "0123456789" * 3  # 32 characters, the longest card members takes


async def test_a_scanned_card_of_any_length_members_takes_reaches_members_whole(env: TestEnv, database_factory, tmp_path) -> None:
    registered: list[dict[str, object]] = []

    def members(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/members":
            registered.append(json.loads(request.content))
            return httpx.Response(201, json={"id": "m-1"})
        return httpx.Response(404, json={"detail": "no member m-1"})

    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as gateway:
        password = await account(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
        wired = gateway.app.state.downstream
        async with httpx.AsyncClient(transport=httpx.MockTransport(members), base_url="http://members") as stand_in:
            gateway.app.state.downstream = replace(wired, members=stand_in)
            async with served(gateway.app) as base, chromium(tmp_path / "profile") as page:
                await log_in(page, base, "li.fuwutai", password)
                await page.goto(f"{base}/console/desk")
                form = page.locator('form[action="/console/desk/register"]')
                await form.get_by_label("姓名").fill("钱芳")
                await form.get_by_label("电话").fill("13912340001")
                await form.get_by_label("小区").fill("阳光花园")
                await form.get_by_label("地址").fill("阳光花园3幢2单元201室")
                await form.get_by_label("卡号（留空则发新卡）").press_sequentially(LONGEST_CARD)  # as a scanner types it
                await form.get_by_role("button", name="注册").click()
                await page.wait_for_url("**/console/desk/members/m-1?registered=1")
            gateway.app.state.downstream = wired
    assert [body["card_no"] for body in registered] == [LONGEST_CARD]
