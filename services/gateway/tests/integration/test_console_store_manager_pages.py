"""A store manager's day on the console: the account managers' daily tracking reports reached from
the menu, each account manager's report chosen on the form and kept when another day is shown, the
VIP customers still waiting for an account manager, and the evaluation's rank sum worded as one
(the lower, the better)."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.console import csrf_of, logged_in
from tests.support.identity import MovableClock, answering, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

STAFF = [{"id": "am-017", "name": "陈晓燕", "active": True}, {"id": "am-018", "name": "刘建国", "active": True}]
VIPS = [
    {"member_id": "m-1", "card_no": "8800000000011", "name": "赵敏", "community": "阳光花园", "community_id": "c-1",
     "home_store_id": "S001", "lifetime_spend": "12345.6", "vip_since": "2026-11-30T17:30:00+00:00"},
    {"member_id": "m-2", "card_no": "8800000000022", "name": "钱伟", "community": "明月小区", "community_id": None,
     "home_store_id": "S001", "lifetime_spend": "5000.00", "vip_since": None},
]
EVALUATION = {"period": "2026-12", "stores": {"S001": [
    {"rank": 1, "manager_id": "am-018", "manager_name": "刘建国", "tracked_customers": 20, "purchases": 21, "spend": "8749.50",
     "average_purchase": "416.64", "new_customers": 0, "score": 2, "flagged": False},
]}}


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


@pytest.fixture
async def members(gateway: httpx.AsyncClient) -> AsyncIterator[list[httpx.Request]]:
    """Members answering as for store S001's manager; records what reaches it."""
    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/staff":
            return httpx.Response(200, json=STAFF)
        if path == "/v1/tracking/reports/daily":
            return httpx.Response(200, json={"date": request.url.params["date"], "store_id": "S001",
                                             "manager_id": request.url.params.get("manager_id"), "records": []})
        if path == "/v1/tracking/unassigned-vips":
            return httpx.Response(200, json=VIPS)
        if path == "/v1/evaluations/managers/monthly":
            return httpx.Response(200, json=EVALUATION)
        return httpx.Response(404, json={"detail": "not here"})

    async with answering(gateway, "members", answer) as received:
        yield received


def _menu(html: str) -> list[str]:
    nav = re.search(r"<nav.*?</nav>", html, re.S)
    assert nav, "the page has no menu"
    return re.findall(r'href="([^"]+)"', nav.group(0))


@pytest.mark.parametrize(("role", "extra", "offered", "not_offered"), [
    ("store_manager", {"store_id": "S001"}, ["/console/tracking/report", "/console/tracking/unassigned"], ["/console/tracking"]),
    ("account_manager", {"store_id": "S001", "account_manager_id": "am-017"}, ["/console/tracking"],
     ["/console/tracking/report", "/console/tracking/unassigned"]),
    ("service_desk", {"store_id": "S001"}, [], ["/console/tracking", "/console/tracking/report", "/console/tracking/unassigned"]),
])
async def test_the_menu_offers_the_tracking_pages_each_role_may_read(
    gateway: httpx.AsyncClient, env: TestEnv, role: str, extra: dict[str, str], offered: list[str], not_offered: list[str],
) -> None:
    await logged_in(gateway, env, "someone", role, **extra)
    home = await gateway.get("/console")
    assert home.status_code == 200, home.text
    menu = _menu(home.text)
    for href in offered:
        assert href in menu
    for href in not_offered:
        assert href not in menu


async def test_a_store_manager_chooses_an_account_managers_report_and_the_choice_stays(
    gateway: httpx.AsyncClient, env: TestEnv, members: list[httpx.Request],
) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    report = await gateway.get("/console/tracking/report", params={"date": "2026-12-01", "manager_id": "am-018"})
    assert report.status_code == 200, report.text
    asked = [r for r in members if r.url.path == "/v1/tracking/reports/daily"]
    assert asked[-1].url.params["manager_id"] == "am-018"
    # The form names the store's account managers and keeps the one chosen for the next day shown.
    select = re.search(r'<select id="r-manager" name="manager_id">(.*?)</select>', report.text, re.S)
    assert select, "the report has no choice of account manager"
    assert re.search(r'<option value="am-018" selected>刘建国</option>', select.group(1))
    assert '<option value="am-017">陈晓燕</option>' in select.group(1)
    assert "全部客户经理" in select.group(1)
    staff = [r for r in members if r.url.path == "/v1/staff"]
    assert staff and staff[-1].url.params["role"] == "account_manager"
    # On paper, whose report it is.
    assert re.search(r'class="print-only">门店：S001 · 客户经理：刘建国<', report.text)


async def test_an_account_managers_report_is_their_own_without_a_choice(
    gateway: httpx.AsyncClient, env: TestEnv, members: list[httpx.Request],
) -> None:
    await logged_in(gateway, env, "chen.am", "account_manager", store_id="S001", account_manager_id="am-017")
    report = await gateway.get("/console/tracking/report", params={"date": "2026-12-01"})
    assert report.status_code == 200, report.text
    assert 'name="manager_id"' not in report.text
    assert not [r for r in members if r.url.path == "/v1/staff"]


async def test_a_store_manager_opening_the_tracking_queue_is_sent_to_the_reports(
    gateway: httpx.AsyncClient, env: TestEnv, members: list[httpx.Request],
) -> None:
    # A store manager keeps no queue of their own (members would refuse the call for want of a
    # manager id): the address leads to the reports their menu offers instead.
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    opened = await gateway.get("/console/tracking")
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"] == "/console/tracking/report"
    assert not [r for r in members if r.url.path == "/v1/tracking/queue"]


async def test_a_store_manager_sees_the_vips_without_a_manager_longest_waiting_first(
    gateway: httpx.AsyncClient, env: TestEnv, members: list[httpx.Request],
) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    shown = await gateway.get("/console/tracking/unassigned")
    assert shown.status_code == 200, shown.text
    assert [r.url.path for r in members] == ["/v1/tracking/unassigned-vips"]
    text = shown.text
    assert "<h1>未分配客户经理的 VIP</h1>" in text
    # Members' order (longest waiting first) kept, each linked to the customer's page.
    assert text.index('data-member="m-1"') < text.index('data-member="m-2"')
    assert '<a href="/console/customers/m-1">赵敏</a>' in text
    # Money as money, the VIP date in the chain's local time, a totals row.
    assert "¥12,345.60" in text and "2026-12-01 01:30:00" in text
    assert "合计：2 位客户" in text and "¥17,345.60" in text


async def test_the_vips_page_says_when_every_vip_has_a_manager(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    async with answering(gateway, "members", lambda request: httpx.Response(200, json=[])):
        shown = await gateway.get("/console/tracking/unassigned")
    assert shown.status_code == 200, shown.text
    assert "每位 VIP 客户都已有客户经理。" in shown.text


async def test_the_evaluation_says_its_rank_sum_is_better_lower(
    gateway: httpx.AsyncClient, env: TestEnv, members: list[httpx.Request],
) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    shown = await gateway.get("/console/evaluations")
    assert shown.status_code == 200, shown.text
    assert "名次和（越小越好）" in shown.text and ">得分<" not in shown.text
    # Two with the same sum are not ranked by chance: the page says how (members' rule).
    assert "名次和相同时，平均消费额高者在前，其次新增顾客多者在前。" in shown.text


def _level2(listed: list[dict[str, object]], outside: dict[str, object] | None) -> dict[str, object]:
    return {"community_id": "c-1", "community_name": "明月小区", "items": listed, "total": len(listed), "limit": 1000,
            "offset": 0, "filters": {"store_id": "S001"}, "outside_scope": outside}


CUSTOMER = {"rank": 1, "member_id": "m-1", "card_no": "8800000000011", "name": "赵敏", "tier": "vip", "manager_id": None,
            "manager_name": None, "spend": "1000.00", "purchases": 5, "last_purchase_at": None, "erased": False}


@pytest.mark.parametrize(("listed", "outside", "said"), [
    # Two of the three households are S001's own: the third, another store's customer, bought ¥500 in 4 purchases.
    ([CUSTOMER], {"spend": "500.00", "purchases": 4, "community_spend": "1500.00"},
     "本期该小区 ¥1,500.00 的消费中，有 ¥500.00（4 次购买）来自您无权查看的客户（其他门店的客户）"),
    # None of them the store's own: the list is empty, and says why.
    ([], {"spend": "1500.00", "purchases": 9, "community_spend": "1500.00"},
     "本期该小区 ¥1,500.00 的消费中，有 ¥1,500.00（9 次购买）来自您无权查看的客户（其他门店的客户）"),
    # Every one of them listed: members says nothing is left out, and so does the page.
    ([CUSTOMER, {**CUSTOMER, "rank": 2, "member_id": "m-2", "spend": "500.00", "purchases": 4}], None, None),
])
async def test_level_2_says_what_of_level_1s_figures_it_leaves_out(
    gateway: httpx.AsyncClient, env: TestEnv, listed: list[dict[str, object]], outside: dict[str, object] | None,
    said: str | None,
) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_level2(listed, outside))

    async with answering(gateway, "members", answer) as received:
        shown = await gateway.get("/console/infobase/communities/c-1", params={"from": "2026-11-01"})
    assert shown.status_code == 200, shown.text
    assert [(r.url.path, r.url.params["from"]) for r in received] == [("/v1/infobase/communities/c-1/customers", "2026-11-01")]
    if said is None:
        assert 'id="unlisted"' not in shown.text
    else:
        assert said in shown.text


CATALOGUE = [
    {"gift_id": "pillow", "name_zh": "靠枕", "name_en": "Cushion", "kind": "gift", "prices": {"store": 10000}},
    {"gift_id": "coupon-20", "name_zh": "20元券", "name_en": "¥20 coupon", "kind": "coupon", "prices": {"store": 2000}},
    {"gift_id": "towel", "name_zh": "毛巾", "name_en": "Towel", "kind": "gift", "prices": {"store": 3000}},
]
STOCK = [{"gift_id": "pillow", "store_id": "S001", "quantity": 3, "reserved": 2, "on_hand": 5,
          "updated_at": "2026-12-01T02:00:00+00:00"}]


@pytest.fixture
async def points(gateway: httpx.AsyncClient) -> AsyncIterator[list[httpx.Request]]:
    """Points answering with S001's gift stock; records what reaches it."""
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(200, json={**STOCK[0], "quantity": 1})
        if request.url.path == "/v1/gifts":
            return httpx.Response(200, json=CATALOGUE)
        if request.url.path == "/v1/gifts/stock":
            return httpx.Response(200, json=STOCK)
        return httpx.Response(404, json={"detail": "not here"})

    async with answering(gateway, "points", answer) as received:
        yield received


@pytest.mark.parametrize(("role", "offered"), [("store_manager", True), ("service_desk", False), ("account_manager", False)])
async def test_the_gift_stock_is_in_the_menu_of_those_who_count_it(
    gateway: httpx.AsyncClient, env: TestEnv, role: str, offered: bool,
) -> None:
    await logged_in(gateway, env, "someone", role, store_id="S001", **({"account_manager_id": "am-1"} if role == "account_manager" else {}))
    assert ("/console/desk/stock" in _menu((await gateway.get("/console")).text)) is offered


async def test_a_store_manager_sees_the_gift_stock_and_saves_a_count(
    gateway: httpx.AsyncClient, env: TestEnv, points: list[httpx.Request],
) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    shown = await gateway.get("/console/desk/stock")
    assert shown.status_code == 200, shown.text
    assert dict((r.url.path, r.url.params.get("store_id")) for r in points) == {"/v1/gifts": None, "/v1/gifts/stock": "S001"}
    text = shown.text
    # Every gift kept in stock, a coupon not; one never counted is there to be counted.
    pillow = re.search(r'<tr data-gift="pillow".*?</tr>', text, re.S)
    towel = re.search(r'<tr data-gift="towel".*?</tr>', text, re.S)
    assert pillow and towel and 'data-gift="coupon-20"' not in text
    assert re.findall(r'<td class="num">(\d+)</td>', pillow.group(0)) == ["5", "2", "3"]
    assert "2026-12-01 10:00:00" in pillow.group(0)  # the chain's local time
    assert "尚未盘点" in towel.group(0)

    form = {"csrf": csrf_of(text), "count.pillow": "4", "count.towel": ""}
    points.clear()
    saved = await gateway.post("/console/desk/stock", data=form)
    assert saved.status_code == 303 and saved.headers["location"] == "/console/desk/stock?counted=1", saved.text
    assert [(r.method, r.url.path, r.content) for r in points] == [("PUT", "/v1/gifts/pillow/stock/S001", b'{"quantity":4}')]
    assert "已保存 1 种赠品的盘点数。" in (await gateway.get(saved.headers["location"])).text


async def test_an_account_manager_sees_the_gift_stock_without_a_count_to_save(
    gateway: httpx.AsyncClient, env: TestEnv, points: list[httpx.Request],
) -> None:
    # Points lets every store's staff read its stock, and only its management count it.
    await logged_in(gateway, env, "chen.am", "account_manager", store_id="S001", account_manager_id="am-1")
    shown = await gateway.get("/console/desk/stock")
    assert shown.status_code == 200, shown.text
    assert re.search(r'<tr data-gift="pillow".*?</tr>', shown.text, re.S)
    assert "<input" not in re.search(r'<table id="gift-stock">.*?</table>', shown.text, re.S).group(0)
    assert "本次盘点数" not in shown.text and "保存盘点" not in shown.text


@pytest.mark.parametrize(("counts", "said", "marked"), [
    # Each gift by the name the form shows it by, not its id.
    ({"count.pillow": "4", "count.towel": "-1"}, "本次盘点数 毛巾：须为 0 到 1000000 之间的整数件数", "count.towel"),
    ({"count.pillow": "4", "count.towel": "两"}, "本次盘点数 毛巾：须为 0 到 1000000 之间的整数件数", "count.towel"),
    ({"count.pillow": "99999999999999999999"}, "本次盘点数 靠枕：须为 0 到 1000000 之间的整数件数", "count.pillow"),
    # Every mistyped count at once, each box marked.
    ({"count.pillow": "x", "count.towel": "-1"},
     "本次盘点数 靠枕：须为 0 到 1000000 之间的整数件数；本次盘点数 毛巾：须为 0 到 1000000 之间的整数件数", "count.pillow count.towel"),
    ({"count.pillow": " ", "count.towel": ""}, "本次盘点数：请至少填写一种赠品的盘点件数", "count"),
])
async def test_a_count_that_is_no_number_of_units_changes_nothing(
    gateway: httpx.AsyncClient, env: TestEnv, points: list[httpx.Request], counts: dict[str, str], said: str, marked: str,
) -> None:
    await logged_in(gateway, env, "wang.sm", "store_manager", store_id="S001")
    shown = await gateway.get("/console/desk/stock")
    points.clear()
    refused = await gateway.post("/console/desk/stock", data={"csrf": csrf_of(shown.text), **counts})
    assert refused.status_code == 422, refused.text
    assert said in refused.text and f'data-fields="{marked}"' in refused.text  # the gift's own box is marked
    assert [r for r in points if r.method != "GET"] == []  # not even the counts that were numbers
