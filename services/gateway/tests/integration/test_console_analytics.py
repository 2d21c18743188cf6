"""The value-analytics page: its figures agree with the run's summary, and a person who sees part of
the customers is told which figures are the whole chain's."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.console import logged_in
from tests.support.identity import MovableClock, answering, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

SUMMARY = {"as_of": "2026-12-05T22:00:00+00:00", "window_days": 365, "members_total": 9, "top_fraction": "0.20",
           "top_share": "0.3000"}
# The store's seven customers of the chain's nine: their top fifth is two customers (1.4 rounded
# up, as members counts `top_share`), 130 of 280.
SPENDS = ["70.00", "60.00", "50.00", "40.00", "30.00", "20.00", "10.00"]


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


@pytest.fixture
async def members(gateway: httpx.AsyncClient) -> AsyncIterator[None]:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/analytics/value-classes":
            items = [{"window_spend": s} for s in SPENDS]
            return httpx.Response(200, json={"summary": SUMMARY, "counts": {"key": 7}, "total": 7, "items": items})
        if request.url.path == "/v1/analytics/rfm":
            return httpx.Response(200, json={"recency": {}, "frequency": {}, "monetary": {}, "cells": []})
        return httpx.Response(200, json={"total": 0, "items": []})

    async with answering(gateway, "members", answer):
        yield


async def test_a_store_managers_curve_counts_the_top_fifth_as_the_run_and_the_chains_share_says_so(
    gateway: httpx.AsyncClient, env: TestEnv, members: None,
) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    gateway.cookies.set("crm_console_lang", "en", path="/console")
    page = await gateway.get("/console/analytics")
    assert page.status_code == 200, page.text[page.text.find("<main"):]
    assert "the top fifth brings 46.4%." in page.text
    assert "over 365 days, across the whole chain: the top 20% of customers bring 30.0% of the spend." in page.text


async def test_a_chart_s_figures_are_in_its_name_for_a_screen_reader(gateway: httpx.AsyncClient, env: TestEnv, members: None) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    page = await gateway.get("/console/analytics")
    assert page.status_code == 200
    names = re.findall(r'<svg[^>]*role="img" aria-label="([^"]*)"', page.text)
    assert any(name.startswith("各价值等级的客户数：") and "重点客户 7" in name for name in names), names


@pytest.mark.parametrize(("language", "label"), [("en", "No net spend in the window"), ("zh-CN", "统计窗口内无净消费")])
async def test_the_value_class_of_customers_without_spend_is_named_for_what_it_is(
    gateway: httpx.AsyncClient, env: TestEnv, language: str, label: str,
) -> None:
    # Value class "none" is the customers with no net spend in the window (docs/members.md): its bar
    # shown as "None" / "无" read as customers with no value class at all.
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/analytics/value-classes":
            return httpx.Response(200, json={"summary": SUMMARY, "counts": {"key": 1, "none": 2}, "total": 3,
                                             "items": [{"window_spend": "70.00"}]})
        if request.url.path == "/v1/analytics/rfm":
            return httpx.Response(200, json={"recency": {}, "frequency": {}, "monetary": {}, "cells": []})
        return httpx.Response(200, json={"total": 0, "items": []})

    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    gateway.cookies.set("crm_console_lang", language, path="/console")
    async with answering(gateway, "members", answer):
        page = await gateway.get("/console/analytics")
    assert page.status_code == 200, page.text[page.text.find("<main"):]
    classes = page.text[page.text.find('<figure class="chart">'):]  # the first bar chart: the value classes
    classes = classes[:classes.find("</figure>")]
    assert re.findall(r'<text x="110"[^>]*>(.*?)</text>', classes) == [{"en": "Key", "zh-CN": "重点客户"}[language], label]
    assert f"{label} 2" in re.findall(r'aria-label="([^"]*)"', classes)[0]
