"""The console names the staff who did something: the ids a page lists (staff ids, or account
managers' directory ids) are looked up in one query, and an id without an account stays an id.
The gift register names who redeemed and who handed over each gift on screen (which is what
prints) and in its CSV."""

import csv
import io
import json
import re

import httpx
import pytest
from sqlalchemy import event

from gateway.adapters.clients import Downstream
from gateway.service_layer.console_people import display_names
from shared.identifiers import APP_STAFF_ID
from tests.support.console import log_in
from tests.support.identity import MovableClock, admin, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


async def account(gateway: httpx.AsyncClient, env: TestEnv, **body: str) -> str:
    r = await gateway.post("/identity/v1/staff", json=body, headers=admin(env))
    assert r.status_code == 201, r.text
    return str(r.json()["staff_id"])


async def test_the_names_of_a_page_come_from_one_query_and_unknown_ids_stay_ids(gateway, env) -> None:
    desk = await account(gateway, env, login="li.fuwutai", name="李服务台", role="service_desk", store_id="S001")
    await account(gateway, env, login="zhou.am", name="周经理", role="account_manager", store_id="S001", account_manager_id="am-017")
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = gateway.app.state.engine.sync_engine
    async with gateway.app.state.commands() as uow:
        event.listen(engine, "before_cursor_execute", count)
        try:
            names = await display_names(uow, [desk, "am-017", "stf_left_long_ago", None, desk])
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert await display_names(uow, [None, ""]) == {}
    assert names == {desk: "李服务台", "am-017": "周经理"}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def _points_and_members(desk: str) -> Downstream:
    """Points' register and catalogue and members' customers as those services answer them."""
    register = [
        {"redemption_id": "r1", "member_id": "m-1", "gift_id": "cushion", "kind": "physical", "coupon_template_id": None,
         "store_id": "S001", "channel": "desk", "points": 10000, "points_kept": 10000, "status": "handed_over", "staff_id": desk,
         "redeemed_at": "2026-12-01T02:00:00Z", "handed_over_at": "2026-12-01T02:05:00Z", "handed_over_by": desk,
         "cancelled_at": None, "cancelled_by": None, "cancel_reason": None},
        {"redemption_id": "r2", "member_id": "m-1", "gift_id": "cushion", "kind": "physical", "coupon_template_id": None,
         "store_id": "S001", "channel": "desk", "points": 5000, "points_kept": 5000, "status": "reserved", "staff_id": "stf_left_long_ago",
         "redeemed_at": "2026-12-01T03:00:00Z", "handed_over_at": None, "handed_over_by": None,
         "cancelled_at": None, "cancelled_by": None, "cancel_reason": None},
        {"redemption_id": "r3", "member_id": "m-1", "gift_id": "cushion", "kind": "physical", "coupon_template_id": None,
         "store_id": "S001", "channel": "desk", "points": 3000, "points_kept": 0, "status": "cancelled", "staff_id": desk,
         "redeemed_at": "2026-12-01T04:00:00Z", "handed_over_at": None, "handed_over_by": None,
         "cancelled_at": "2026-12-01T04:10:00Z", "cancelled_by": desk, "cancel_reason": "changed mind"},
    ]

    def points(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/gift-register":
            assert request.url.params["store_id"] == "S001"
            return httpx.Response(200, json=register)
        if request.url.path == "/v1/gifts":
            return httpx.Response(200, json=[{"gift_id": "cushion", "name_zh": "靠垫", "name_en": "Cushion", "points": 5000}])
        if request.url.path == "/v1/members/m-1/gifts":  # the customer's home store is S002
            return httpx.Response(200, json={"gifts": [
                {"gift_id": "cushion", "name_zh": "靠垫", "name_en": "Cushion", "kind": "gift", "points": 5000, "stock_at_home_store": 3},
                {"gift_id": "kettle", "name_zh": "水壶", "name_en": "Kettle", "kind": "gift", "points": 6000, "stock_at_home_store": 9},
                {"gift_id": "coupon-10", "name_zh": "十元券", "name_en": "10 yuan coupon", "kind": "coupon", "points": 1000,
                 "stock_at_home_store": None}]})
        if request.url.path == "/v1/gifts/stock":
            assert request.url.params["store_id"] == "S001"
            return httpx.Response(200, json=[{"gift_id": "cushion", "store_id": "S001", "quantity": 2, "updated_at": "2026-12-01T00:00:00Z"}])
        if request.url.path == "/v1/members/m-1/redemptions":
            return httpx.Response(200, json=register)
        if request.url.path == "/v1/entitlements/m-1":
            return httpx.Response(200, json=[{"kind": "leftover_collection_visit", "granted": 1, "used": 0, "remaining": 1}])
        if request.url.path == "/v1/accounts/m-1":
            return httpx.Response(200, json={"balance": 12000})
        return httpx.Response(404, json={"detail": "not here"})

    def members(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/members/m-1"
        return httpx.Response(200, content=json.dumps({"id": "m-1", "name": "钱芳", "card_no": "8800001"}))

    return Downstream(members=httpx.AsyncClient(transport=httpx.MockTransport(members), base_url="http://members"),
                      points=httpx.AsyncClient(transport=httpx.MockTransport(points), base_url="http://points"))


async def logged_in_desk(gateway: httpx.AsyncClient, env) -> str:
    """A desk account of S001 made by an admin and logged in on the console; its staff id."""
    r = await gateway.post("/identity/v1/staff", headers=admin(env),
                           json={"login": "li.fuwutai", "name": "李服务台", "role": "service_desk", "store_id": "S001"})
    assert r.status_code == 201, r.text
    assert (await log_in(gateway, "li.fuwutai", r.json()["password"])).status_code == 303
    return str(r.json()["staff_id"])


async def test_the_gift_register_names_the_staff_on_screen_and_in_its_csv(gateway, env) -> None:
    desk_id = await logged_in_desk(gateway, env)
    gateway.app.state.downstream = _points_and_members(desk_id)

    page = await gateway.get("/console/desk/gift-register", params={"from": "2026-12-01"})
    assert page.status_code == 200, page.text
    rows = re.findall(r"<tr><td>(.*?)</tr>", page.text.split('id="gift-register"')[1], re.S)
    assert len(rows) == 3
    # A cancelled entry gave its points back: the total is of the points kept, as points' own register's.
    assert re.search(r'<td class="num">15,000</td>', page.text.split("<tfoot>")[1])
    assert "李服务台" in rows[0] and desk_id not in rows[0] and "钱芳 (8800001)" in rows[0] and "靠垫" in rows[0]
    # the status is worded for the reader, never the code points stores it under
    assert "<td>已发放</td>" in rows[0] and "<td>待领取</td>" in rows[1] and "handed_over</td>" not in page.text
    assert "stf_left_long_ago" in rows[1]  # no account: the id is what there is to show
    assert "兑换经办人" in page.text and "发放经办人" in page.text
    assert "/console/desk/gift-register/export?store_id=S001&amp;from=2026-12-01&amp;to=2026-12-01" in page.text

    exported = await gateway.get("/console/desk/gift-register/export", params={"from": "2026-12-01"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert 'filename="gift-register-S001-2026-12-01-2026-12-01.csv"' in exported.headers["content-disposition"]
    assert exported.text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert table[0] == ["时间", "客户", "赠品", "积分", "状态", "实扣积分", "发放时间", "兑换经办人", "发放经办人"]
    assert table[1] == ["2026-12-01 10:00", "钱芳 (8800001)", "靠垫", "10000", "已发放", "10000", "2026-12-01 10:05", "李服务台", "李服务台"]
    assert table[2] == ["2026-12-01 11:00", "钱芳 (8800001)", "靠垫", "5000", "待领取", "5000", "", "stf_left_long_ago", ""]
    assert table[3][3:6] == ["3000", "已取消", "0"]
    # The totals row in the headings' language, as they are: the services' bilingual reports say "合计 Total".
    assert table[4][0] == "合计 (3)" and table[4][5] == "15000"

    gateway.cookies.set("crm_console_lang", "en")
    english = await gateway.get("/console/desk/gift-register/export", params={"from": "2026-12-01"})
    header, *_, total = csv.reader(io.StringIO(english.text.lstrip("\ufeff")))
    assert header[-2:] == ["Redeemed by", "Handed over by"]
    assert total[0] == "Total (3)" and total[5] == "15000"
    assert "Cushion" in english.text
    assert "Handed over" in next(line for line in english.text.splitlines() if "Cushion" in line and "10000" in line)


async def test_the_gift_register_says_a_gift_reserved_in_the_app_was_the_member_s_own(gateway, env) -> None:
    desk_id = await logged_in_desk(gateway, env)
    downstream = _points_and_members(desk_id)
    # The member reserved the cushion in the app, the desk handed it over: points records the
    # app's staff id, which is nobody's account.
    reserved_in_app = {"redemption_id": "r4", "member_id": "m-1", "gift_id": "cushion", "kind": "physical",
                       "coupon_template_id": None, "store_id": "S001", "channel": "retail", "points": 10000,
                       "points_kept": 10000, "status": "handed_over", "staff_id": APP_STAFF_ID,
                       "redeemed_at": "2026-12-01T05:00:00Z", "handed_over_at": "2026-12-01T06:00:00Z",
                       "handed_over_by": desk_id, "cancelled_at": None, "cancelled_by": None, "cancel_reason": None}

    def points(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/gift-register":
            return httpx.Response(200, json=[reserved_in_app])
        return httpx.Response(200, json=[{"gift_id": "cushion", "name_zh": "靠垫", "name_en": "Cushion", "points": 5000}])

    gateway.app.state.downstream = Downstream(members=downstream.members, points=httpx.AsyncClient(
        transport=httpx.MockTransport(points), base_url="http://points"))

    page = await gateway.get("/console/desk/gift-register", params={"from": "2026-12-01"})
    assert page.status_code == 200, page.text
    [row] = re.findall(r"<tr><td>(.*?)</tr>", page.text.split('id="gift-register"')[1], re.S)
    assert "<td>会员本人（App）</td><td>李服务台</td>" in row and APP_STAFF_ID not in page.text

    exported = await gateway.get("/console/desk/gift-register/export", params={"from": "2026-12-01"})
    table = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert table[1][-2:] == ["会员本人（App）", "李服务台"]

    gateway.cookies.set("crm_console_lang", "en")
    english = await gateway.get("/console/desk/gift-register/export", params={"from": "2026-12-01"})
    assert next(csv.reader(io.StringIO(english.text.lstrip("\ufeff").splitlines()[1])))[-2:] == ["the member, in the app", "李服务台"]


async def test_the_desk_words_a_customer_s_gift_states_and_visits_in_the_person_s_language(gateway, env) -> None:
    r = await gateway.post("/identity/v1/staff", headers=admin(env),
                           json={"login": "li.fuwutai", "name": "李服务台", "role": "service_desk", "store_id": "S001"})
    assert r.status_code == 201, r.text
    assert (await log_in(gateway, "li.fuwutai", r.json()["password"])).status_code == 303
    gateway.app.state.downstream = _points_and_members(r.json()["staff_id"])

    page = await gateway.get("/console/desk/members/m-1")
    assert page.status_code == 200, page.text
    entries = page.text.split('id="entries"')[1].split("</table>")[0]
    assert '<tr data-redemption="r1">' in entries and "<td>已发放</td>" in entries and "<td>待领取</td>" in entries
    assert "handed_over" not in entries and "<td>reserved</td>" not in entries
    # Units left at the desk's own store (S001), where it hands the gift over, not at the home store:
    # none of the kettle there, so it cannot be chosen; a coupon has no stock.
    options = re.findall(r"<option [^>]*>[^<]*</option>", page.text.split('id="g-gift"')[1].split("</select>")[0])
    assert options == ['<option value="cushion">靠垫 · 5,000 积分 · 剩 2 件</option>',
                       '<option value="kettle" disabled>水壶 · 6,000 积分 · 剩 0 件</option>',
                       '<option value="coupon-10">十元券 · 1,000 积分</option>']
    visits = page.text.split('id="entitlements"')[1].split("</table>")[0]
    assert "<td>上门回收余料</td>" in visits and "leftover_collection_visit</td>" not in visits

    gateway.cookies.set("crm_console_lang", "en")
    english = await gateway.get("/console/desk/members/m-1")
    assert "<td>Handed over</td>" in english.text and "<td>Reserved</td>" in english.text
    assert "<td>Leftover-material collection visit</td>" in english.text


async def test_a_gift_waiting_behind_twenty_newer_entries_can_still_be_handed_over(gateway, env) -> None:
    r = await gateway.post("/identity/v1/staff", headers=admin(env),
                           json={"login": "li.fuwutai", "name": "李服务台", "role": "service_desk", "store_id": "S001"})
    assert r.status_code == 201, r.text
    assert (await log_in(gateway, "li.fuwutai", r.json()["password"])).status_code == 303
    downstream = _points_and_members(r.json()["staff_id"])
    waiting = {"redemption_id": "old-gift", "member_id": "m-1", "gift_id": "cushion", "kind": "physical", "coupon_template_id": None,
               "store_id": "S001", "channel": "desk", "points": 5000, "points_kept": 5000, "status": "reserved", "staff_id": "x",
               "redeemed_at": "2026-10-01T03:00:00Z", "handed_over_at": None, "handed_over_by": None,
               "cancelled_at": None, "cancelled_by": None, "cancel_reason": None}
    newer = [{**waiting, "redemption_id": f"coupon-{n}", "status": "completed", "redeemed_at": f"2026-11-{n + 1:02d}T03:00:00Z"}
             for n in range(20)]

    async def points(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/members/m-1/redemptions":
            return httpx.Response(200, json=[waiting] if request.url.params.get("status") == "reserved" else newer[::-1])
        return await downstream.points._transport.handle_async_request(request)  # type: ignore[union-attr]

    gateway.app.state.downstream = Downstream(members=downstream.members,
                                              points=httpx.AsyncClient(transport=httpx.MockTransport(points), base_url="http://points"))
    page = await gateway.get("/console/desk/members/m-1")
    assert page.status_code == 200, page.text
    entries = page.text.split('id="entries"')[1].split("</table>")[0]
    assert entries.count("<tr data-redemption=") == 21
    last = entries.split('<tr data-redemption="old-gift">')[1]
    assert "/hand-over" in last


async def test_a_customer_registered_a_moment_ago_is_shown_while_points_opens_the_account(gateway, env) -> None:
    """Points opens the account on the registration event, after members answered: the desk lands
    on the customer's page before that, and sees the customer with the account still opening."""
    r = await gateway.post("/identity/v1/staff", headers=admin(env),
                           json={"login": "li.fuwutai", "name": "李服务台", "role": "service_desk", "store_id": "S001"})
    assert r.status_code == 201, r.text
    assert (await log_in(gateway, "li.fuwutai", r.json()["password"])).status_code == 303
    downstream = _points_and_members(r.json()["staff_id"])

    def points_not_yet(request: httpx.Request) -> httpx.Response:
        if request.url.path in ("/v1/accounts/m-1", "/v1/members/m-1/gifts"):
            return httpx.Response(404, json={"detail": "no points account for member m-1"})
        return httpx.Response(200, json=[])

    gateway.app.state.downstream = Downstream(members=downstream.members,
                                              points=httpx.AsyncClient(transport=httpx.MockTransport(points_not_yet), base_url="http://points"))
    page = await gateway.get("/console/desk/members/m-1", params={"registered": "1"})
    assert page.status_code == 200, page.text
    assert "钱芳" in page.text and "会员已注册。" in page.text
    assert 'id="opening"' in page.text and "积分账户正在开通" in page.text
    assert '<strong id="balance">0</strong>' in page.text

    gateway.app.state.downstream = _points_and_members(r.json()["staff_id"])
    ready = await gateway.get("/console/desk/members/m-1")
    assert ready.status_code == 200 and 'id="opening"' not in ready.text and '<strong id="balance">12,000</strong>' in ready.text


async def test_head_office_is_asked_for_a_store_before_a_register_is_shown(gateway, env) -> None:
    """An admin has no store of their own: the register page without one read nothing, and says so,
    rather than showing an empty register as if the chain had handed over no gift that day."""
    r = await gateway.post("/identity/v1/staff", headers=admin(env), json={"login": "li.admin", "name": "李总部", "role": "admin"})
    assert r.status_code == 201, r.text
    assert (await log_in(gateway, "li.admin", r.json()["password"])).status_code == 303
    gateway.app.state.downstream = _points_and_members(r.json()["staff_id"])

    page = await gateway.get("/console/desk/gift-register")
    assert page.status_code == 200, page.text
    assert '<p class="notice" id="choose-store">请填写要查看哪家门店的登记簿。</p>' in page.text
    assert "此期间没有兑换" not in page.text and 'id="gift-register"' not in page.text
    assert re.search(r"<h1>赠品发放登记 · \d{4}-\d{2}-\d{2}</h1>", page.text), page.text
    page = await gateway.get("/console/desk/gift-register", params={"store_id": "S001", "from": "2026-12-01"})
    assert len(re.findall(r"<tr><td>", page.text.split('id="gift-register"')[1])) == 3
