"""Where the console leads when something is wrong: a search or a report whose address a service
(or the console) refuses comes back as that page, what was typed kept and the refused box marked,
never a dead-end refusal page; a console address no page has is a console page saying so, in
Chinese, not JSON."""

import re
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from shared.auth import Role
from tests.support.console import csrf_of, logged_in
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.marketing_console import gateway_over_campaigns
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

# Members' answers to a search it cannot read, as its query validation words them.
PHONE_REFUSED = {"detail": [{"loc": ["query", "phone"], "msg": "String should match pattern '^1[3-9][0-9]{9}$'",
                             "type": "string_pattern_mismatch", "input": "139123", "ctx": {"pattern": "^1[3-9][0-9]{9}$"}}]}
CARD_REFUSED = {"detail": [{"loc": ["query", "card_no"], "msg": "String should match pattern '^[0-9]{8,20}$'",
                            "type": "string_pattern_mismatch", "input": "!!", "ctx": {"pattern": "^[0-9]{8,20}$"}}]}


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


def refusing(searched: list[httpx.Request], *, away: bool = False) -> httpx.AsyncClient:
    """Members and points refusing what the tests type; `away`, answering 503 to everything."""

    def answer(request: httpx.Request) -> httpx.Response:
        searched.append(request)
        if away:
            return httpx.Response(503, json={"detail": "members is restarting"})
        if request.url.path == "/v1/members":
            return httpx.Response(422, json=PHONE_REFUSED if "phone" in request.url.params else CARD_REFUSED)
        if request.url.path == "/v1/gift-register":
            return httpx.Response(422, json={"detail": "to: must not be before from"})
        return httpx.Response(404, json={"detail": "not here"})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://services")


def area(html: str, area_id: str) -> tuple[str, str]:
    """The field a form's message area names refused (its last part: members locates a query's as
    `query.phone`), and what it says."""
    found = re.search(rf'<div id="{area_id}" role="alert" aria-live="polite"><p class="refusal" data-fields="([^"]*)">(.*?)</p></div>', html, re.S)
    assert found, html
    return found.group(1).split(".")[-1], found.group(2).strip()


@pytest.mark.parametrize(("typed", "field", "said"), [
    ({"phone": "139123"}, "phone", "电话：应为 11 位手机号码"),
    ({"card_no": "!!"}, "card_no", None),
])
async def test_a_desk_search_refused_is_the_desk_page_again_with_what_was_typed(gateway, env, typed, field, said) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    searched: list[httpx.Request] = []
    gateway.app.state.downstream = replace(gateway.app.state.downstream, members=refusing(searched))
    page = await gateway.get("/console/desk", params=typed)
    assert page.status_code == 422
    assert "未完成" not in page.text and 'action="/console/desk"' in page.text  # the search form, not the dead end
    assert area(page.text, "desk-search-message")[0] == field
    if said:
        assert area(page.text, "desk-search-message")[1] == said
    box = re.search(rf'<input id="d-[a-z]+" name="{field}" value="([^"]*)"[^>]*>', page.text)
    assert box and box.group(1) == typed[field]
    assert 'aria-invalid="true" aria-describedby="desk-search-message" autofocus' in box.group(0)
    assert page.text.count("autofocus") == 1  # the refused box, not the card's scanner focus as well
    assert "desk-results" not in page.text  # nothing found is not said: nothing was searched
    assert 'action="/console/desk/register"' in page.text  # the rest of the desk as ever


async def test_a_staff_search_refused_keeps_every_box_as_typed(gateway, env) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    searched: list[httpx.Request] = []
    gateway.app.state.downstream = replace(gateway.app.state.downstream, members=refusing(searched))
    page = await gateway.get("/console/customers", params={"name": "赵", "community": "阳光花园", "phone": "139123"})
    assert page.status_code == 422
    assert area(page.text, "search-message") == ("phone", "电话：应为 11 位手机号码")
    for name, value in (("name", "赵"), ("community", "阳光花园"), ("phone", "139123")):
        assert re.search(rf'name="{name}" value="{value}"', page.text), name
    assert 'name="phone" value="139123" inputmode="tel" aria-invalid="true"' in page.text
    assert 'name="name" value="赵">' in page.text  # only the refused box is marked
    assert 'id="results"' not in page.text

    # A card searched alone after a name is refused with the name still in its box.
    page = await gateway.get("/console/customers", params={"name": "赵", "card_no": "!!"})
    assert page.status_code == 422 and area(page.text, "search-message")[0] == "card_no"
    assert 'name="name" value="赵"' in page.text and 'name="card_no" value="!!"' in page.text

    # The console's own refusal of the query (a page number that is none) comes back the same way.
    page = await gateway.get("/console/customers", params={"name": "赵", "page": "abc"})
    assert page.status_code == 422 and area(page.text, "search-message")[0] == "page"
    assert 'name="name" value="赵"' in page.text


async def test_a_reversed_gift_register_period_is_the_register_page_again(gateway, env) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    searched: list[httpx.Request] = []
    gateway.app.state.downstream = replace(gateway.app.state.downstream, points=refusing(searched))
    page = await gateway.get("/console/desk/gift-register", params={"from": "2026-12-10", "to": "2026-12-01"})
    assert page.status_code == 422
    assert area(page.text, "register-message")[0] == "to"
    assert 'name="from" type="date" value="2026-12-10">' in page.text
    assert 'name="to" type="date" value="2026-12-01" aria-invalid="true" aria-describedby="register-message" autofocus>' in page.text
    # No register was read: no table of no entries, no download of a period refused.
    assert 'id="gift-register"' not in page.text and "/gift-register/export" not in page.text


async def test_an_unknown_store_in_the_information_base_is_its_page_again(gateway, env) -> None:
    await logged_in(gateway, env, "wang.guanli", "admin")
    page = await gateway.get("/console/infobase", params={"store_id": "S404", "from": "2026-11-01"})
    assert page.status_code == 422
    assert area(page.text, "filters-message") == ("store_id", "门店：门店 S404 不存在")
    assert 'name="store_id" value="S404" maxlength="32" aria-invalid="true" aria-describedby="filters-message" autofocus>' in page.text
    assert 'name="from" type="date" value="2026-11-01">' in page.text
    assert 'id="level1"' not in page.text and "/console/infobase/export" not in page.text


async def test_a_tracking_report_of_a_date_members_refuses_is_its_page_again(gateway, env) -> None:
    await logged_in(gateway, env, "zhao.jingli", "store_manager", store_id="S001")

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"detail": [{"loc": ["query", "date"], "msg": "Input should be a valid date",
                                                      "type": "date_from_datetime_parsing", "input": "abc"}]})

    gateway.app.state.downstream = replace(gateway.app.state.downstream,
                                           members=httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://m"))
    page = await gateway.get("/console/tracking/report", params={"date": "abc"})
    assert page.status_code == 422 and area(page.text, "report-message")[0] == "date", page.text
    assert 'name="date" type="date" value="abc" aria-invalid="true" aria-describedby="report-message" autofocus>' in page.text
    assert 'id="report"' not in page.text


async def test_a_service_away_is_still_the_refusal_page(gateway, env) -> None:
    """A search the service could not answer at all is no query to put right: the refusal page says so."""
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    searched: list[httpx.Request] = []
    gateway.app.state.downstream = replace(gateway.app.state.downstream, members=refusing(searched, away=True))
    page = await gateway.get("/console/desk", params={"phone": "13912340001"})
    assert page.status_code == 503 and "未完成" in page.text and 'id="desk-search-message"' not in page.text


async def test_a_console_address_no_page_has_is_a_console_page_saying_so(gateway, env) -> None:
    # Logged out: the same page, which says no more than that the console has none.
    r = await gateway.get("/console/nonexistent")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), r.text
    assert "找不到该页面。" in r.text and '<a href="/console">' in r.text
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    r = await gateway.get("/console/desk/nonexistent/deeper")
    assert r.status_code == 404 and "找不到该页面。" in r.text and "Not Found" not in r.text
    # Off the console, the API's JSON answer stays.
    r = await gateway.get("/identity/v1/nonexistent", headers=env.auth(Role.ADMIN))
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}


async def test_a_round_of_offer_lists_is_told_by_its_days_in_chinese(env, database_factory) -> None:
    """Not campaigns' key of the round (`period:1485`) nor its campaign's English description."""
    async with gateway_over_campaigns(env, database_factory) as (gw, cmp):
        await logged_in(gw, env, "zhao.shichang", "marketing")
        page = await gw.get("/console/promotions")
        key = re.search(r'<form id="promotion-form".*?name="idempotency_key" value="([0-9a-f]{32})"', page.text, re.S)
        shanghai = ZoneInfo("Asia/Shanghai")
        window = {f: (cmp.clock.now + timedelta(days=d)).astimezone(shanghai).strftime("%Y-%m-%dT%H:%M")
                  for f, d in (("valid_from", -1), ("valid_until", 14))}
        listed = await gw.post("/console/promotions", data={
            "csrf": csrf_of(page.text), "idempotency_key": key.group(1), "promotion_title": "乳制品 8折", "promotion_category": "乳制品",
            "percent_off": "20", "max_discount": "5", "promotion_priority": "100", **window})
        assert listed.status_code == 303, listed.text
        assert (await gw.post("/console/offer-lists", data={"csrf": csrf_of(page.text)})).status_code == 303
        [built] = (await cmp.client.get("/v1/offer-lists", headers=cmp.marketing())).json()
        first = datetime.fromisoformat(built["as_of"]).astimezone(shanghai).date()
        last = (datetime.fromisoformat(built["ends_at"]) - timedelta(seconds=1)).astimezone(shanghai).date()

        shown = await gw.get("/console/promotions")
        row = re.search(r'<table id="rounds">.*?<tbody>\s*<tr><td>(.*?)</td>', shown.text, re.S)
        assert row and row.group(1) == f"{first} 至 {last}", row
        assert "period:" not in shown.text

        campaign = await gw.get(f"/console/campaigns/{built['campaign_id']}")
        assert campaign.status_code == 200, campaign.text
        assert f"<p>个人优惠清单，有效期 {first} 至 {last}</p>" in campaign.text
        assert "personal offer lists" not in campaign.text and "period:" not in campaign.text
