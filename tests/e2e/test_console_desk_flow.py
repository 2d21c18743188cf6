"""The service desk on the console, through the gateway's pages against the real stack: a member
registered with the form (twice sent, registered once), a gift redeemed with the points of a sale
(a double-sent form redeems once) and handed over, the day's gift register (and its CSV) naming
the customer, the gift and the staff, and a leftover-material visit recorded once the customer's spend earned one."""

import re
from datetime import UTC, datetime

import httpx
import pytest

from shared.auth import Role
from tests.support.factories import line, sale_body
from tests.support.platform import TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


@pytest.fixture
def backend() -> str:
    return "sqlite"


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, name
    return found.group(1)


async def test_the_desk_registers_a_member_then_redeems_and_hands_over_a_gift(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        gw, admin = p.gateway, env.auth(Role.ADMIN)
        assert (await gw.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=admin)).status_code == 200
        assert (await gw.put("/api/v1/stores/S002", json={"name": "翠苑社区超市"}, headers=admin)).status_code == 200
        assert (await gw.put("/api/points/v1/gifts/cushion/stock/S001", json={"quantity": 3}, headers=admin)).status_code == 200
        r = await gw.post("/identity/v1/staff", headers=admin, json={"login": "li.fuwutai", "name": "李服务台", "role": "service_desk",
                                                                     "store_id": "S001"})
        assert r.status_code == 201, r.text
        form = await gw.get("/console/login")
        r = await gw.post("/console/login", data={"csrf": field(form.text, "csrf"), "login": "li.fuwutai", "password": r.json()["password"]})
        assert r.status_code == 303

        desk = await gw.get("/console/desk")
        assert desk.status_code == 200 and "会员注册" in desk.text
        registration = {"csrf": field(desk.text, "csrf"), "idempotency_key": field(desk.text, "idempotency_key"), "name": "钱芳",
                        "phone": "13912340001", "community": "阳光花园", "address": "阳光花园3幢2单元201室", "consent_sms": "yes"}
        first, again = [await gw.post("/console/desk/register", data=registration) for _ in range(2)]
        assert first.status_code == 303 and again.headers["location"] == first.headers["location"]  # one member, not two
        found = (await gw.get("/api/v1/members", params={"phone": "13912340001"}, headers=admin)).json()
        assert found["total"] == 1
        member = found["items"][0]
        assert member["home_store_id"] == "S001"
        bad = await gw.post("/console/desk/register", data={**registration, "idempotency_key": "another-key-0002", "phone": "123"})
        assert bad.status_code == 422 and "电话：应为 11 位手机号码" in bad.text
        # The form's key travels on as a header: a damaged one is refused here, not sent to break it.
        bad = await gw.post("/console/desk/register", data={**registration, "idempotency_key": "key-0003\r\nX-Evil: 1"})
        assert bad.status_code == 422 and "表单已损坏或已过期" in bad.text

        sale = sale_body(member={"card_no": member["card_no"]}, lines=[line(qty="2", unit_price="6000.00")],
                         occurred_at=datetime.now(UTC).isoformat())
        assert (await gw.post("/pos/v1/purchases", json=sale, headers=env.auth(Role.POS, store_id="S001"))).status_code == 202

        async def credited() -> bool:
            account = await p.points.get(f"/v1/accounts/{member['id']}", headers=admin)
            return account.status_code == 200 and account.json()["balance"] == 12_000
        await eventually(credited, timeout=40, what="the sale's points")

        page = await gw.get(first.headers["location"])
        assert page.status_code == 200 and 'id="balance">12,000<' in page.text
        redeem = {"csrf": field(page.text, "csrf"), "idempotency_key": field(page.text, "idempotency_key"), "gift_id": "cushion"}
        for _ in range(2):  # a double tap: redeemed once
            r = await gw.post(f"/console/desk/members/{member['id']}/redeem", data=redeem)
            assert r.status_code == 303, r.text
        page = await gw.get(f"/console/desk/members/{member['id']}")
        entries = re.findall(r'data-redemption="([^"]+)"', page.text)
        assert len(entries) == 1 and 'id="balance">2,000<' in page.text
        r = await gw.post(f"/console/desk/members/{member['id']}/hand-over", data={"csrf": redeem["csrf"], "redemption_id": entries[0]})
        assert r.status_code == 303
        entries_table = (await gw.get(f"/console/desk/members/{member['id']}")).text.split('id="entries"')[1].split("</table>")[0]
        assert f'<tr data-redemption="{entries[0]}">' in entries_table and "<td>已发放</td>" in entries_table

        register = await gw.get("/console/desk/gift-register")
        assert register.status_code == 200
        row = re.search(r'<tbody>\s*<tr>(.*?)</tr>', register.text, re.S)
        assert row and f"钱芳 ({member['card_no']})" in row.group(1) and "cushion" not in row.group(1)
        assert "合计：1 条" in register.text
        assert "李服务台" in row.group(1) and "stf_" not in row.group(1)  # who redeemed and handed over, by name
        exported = await gw.get("/console/desk/gift-register/export")
        assert exported.status_code == 200 and "钱芳" in exported.text and exported.text.count("李服务台") == 2

        # The customer moves to S002: to S001's store manager a walk-in customer of another store,
        # listed in the register by id (the profile is S002's), the page still theirs to print.
        moved = await gw.patch(f"/api/members/v1/members/{member['id']}", json={"home_store_id": "S002"}, headers=admin)
        assert moved.status_code == 200, moved.text
        r = await gw.post("/identity/v1/staff", headers=admin, json={"login": "wang.dianzhang", "name": "王店长",
                                                                     "role": "store_manager", "store_id": "S001"})
        assert r.status_code == 201, r.text
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=p.apps["gateway"]), base_url="http://test") as manager:
            form = await manager.get("/console/login")
            signed_in = await manager.post("/console/login", data={"csrf": field(form.text, "csrf"), "login": "wang.dianzhang",
                                                                   "password": r.json()["password"]})
            assert signed_in.status_code == 303
            register = await manager.get("/console/desk/gift-register")
            assert register.status_code == 200, register.text
            row = re.search(r'<tbody>\s*<tr>(.*?)</tr>', register.text, re.S)
            assert row and member["id"] in row.group(1) and "钱芳" not in row.group(1)

        # Lifetime spend reaching 30,000 yuan earns one free leftover-material visit (members'
        # spend milestone, points' CRM_LEFTOVER_VISITS_BY_MILESTONE default).
        big = sale_body(member={"card_no": member["card_no"]}, lines=[line(qty="3", unit_price="6000.00")],
                        occurred_at=datetime.now(UTC).isoformat())
        assert (await gw.post("/pos/v1/purchases", json=big, headers=env.auth(Role.POS, store_id="S001"))).status_code == 202

        async def visit_granted() -> bool:
            granted = await p.points.get(f"/v1/entitlements/{member['id']}", headers=admin)
            return granted.status_code == 200 and any(e["remaining"] == 1 for e in granted.json())
        await eventually(visit_granted, timeout=40, what="the leftover-material visit")

        page = await gw.get(f"/console/desk/members/{member['id']}")
        visit_url = f"/console/desk/members/{member['id']}/visit"
        assert visit_url in page.text
        visit = {"csrf": field(page.text, "csrf"), "idempotency_key": field(page.text, "idempotency_key") + "-leftover_collection_visit",
                 "kind": "leftover_collection_visit", "used_on": datetime.now(UTC).date().isoformat()}
        assert f'value="{visit["idempotency_key"]}"' in page.text  # the key the page's visit form carries
        for _ in range(2):  # a double tap: one visit
            r = await gw.post(visit_url, data=visit)
            assert r.status_code == 303 and r.headers["location"].endswith("?notice=visited"), r.text
        [entitlement] = (await p.points.get(f"/v1/entitlements/{member['id']}", headers=admin)).json()
        assert (entitlement["kind"], entitlement["granted"], entitlement["used"], entitlement["remaining"]) == (
            "leftover_collection_visit", 1, 1, 0)
        assert entitlement["uses"][0]["store_id"] == "S001"
        after = await gw.get(r.headers["location"])
        assert after.status_code == 200 and 'class="notice" role="status"' in after.text
        assert visit_url not in after.text  # nothing left to record


async def test_the_desk_pages_are_not_for_marketing(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        gw = p.gateway
        r = await gw.post("/identity/v1/staff", headers=env.auth(Role.ADMIN), json={"login": "zhao.sc", "name": "赵", "role": "marketing"})
        form = await gw.get("/console/login")
        await gw.post("/console/login", data={"csrf": field(form.text, "csrf"), "login": "zhao.sc", "password": r.json()["password"]})
        home = await gw.get("/console")
        assert "/console/desk" not in home.text
        refused: httpx.Response = await gw.post("/console/desk/register", data={
            "csrf": field(home.text, "csrf"), "idempotency_key": "desk-key-0001", "name": "x", "phone": "13912340002", "community": "c", "address": "a"})
        assert refused.status_code == 403 and "您的角色（市场营销）无权执行此操作。" in refused.text
