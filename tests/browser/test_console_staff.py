"""An account manager's day on the console, in a real browser against the real stack: drill the
information base from level 1 to level 3, find the customer and open their 360 page, find the VIP
in the tracking queue, fill in and submit the daily tracking form, open the day's report to print,
then resolve the customer's complaint with compensation points. Their store manager then prints
level 2 of the community, and reads the value analytics and the managers' evaluation. Screenshots
under screenshots/."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shared.auth import Role
from tests.browser.conftest import chromium, log_in, served
from tests.support.factories import keyed, member_body, sale_body, spend_line
from tests.support.platform import TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]

MANAGER = "am-li"


async def test_an_account_manager_drills_the_information_base_and_records_a_visit(
    env: TestEnv, database_factory, screenshots, tmp_path,
) -> None:
    async with platform(env, database_factory) as p:
        gw, admin = p.gateway, env.auth(Role.ADMIN)
        assert (await gw.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=admin)).status_code == 200
        r = await gw.post("/api/members/v1/staff", headers=admin, json={
            "id": MANAGER, "name": "李经理", "work_phone": "0571-88881234", "store_id": "S001", "role": "account_manager"})
        assert r.status_code == 201, r.text
        r = await gw.post("/api/v1/members", json=member_body(name="赵敏", community="阳光花园小区"),
                          headers=env.auth(Role.SERVICE_DESK, store_id="S001"))
        assert r.status_code == 201, r.text
        member = r.json()
        assert (await gw.put(f"/api/members/v1/staff/{MANAGER}/communities/{member['community_id']}", headers=admin)).status_code == 200
        pos = env.auth(Role.POS, store_id="S001")
        # The second with the member-day promotion: 2,000.00 paid, 5,000.00 in all, the VIP threshold.
        for amount, discounts in (("3000.00", []), ("2200.00", [{"amount": "200.00", "label": "会员日"}])):
            sale = sale_body(member={"card_no": member["card_no"]}, lines=[spend_line(amount)], discounts=discounts)
            r = await gw.post("/pos/v1/purchases", json=sale, headers=pos)
            assert r.status_code == 202, r.text

        async def promoted() -> bool:
            profile = (await gw.get(f"/api/v1/members/{member['id']}", headers=admin)).json()
            return bool(profile["tier"] == "vip" and profile["manager_id"] == MANAGER)
        await eventually(promoted, timeout=60, what="a VIP with the community's account manager")

        async def earned() -> bool:
            return bool((await p.points.get(f"/v1/accounts/{member['id']}", headers=admin)).json().get("balance") == 5000)
        await eventually(earned, timeout=60, what="the points of both sales")
        r = await gw.post("/identity/v1/staff", headers=admin, json={
            "login": "wang.dianzhang", "name": "王店长", "role": "store_manager", "store_id": "S001"})
        assert r.status_code == 201, r.text
        manager_password = r.json()["password"]
        r = await gw.post("/identity/v1/staff", headers=admin, json={
            "login": "li.jingli", "name": "李经理", "role": "account_manager", "store_id": "S001", "account_manager_id": MANAGER})
        assert r.status_code == 201, r.text
        password = r.json()["password"]

        async with served(p.apps["gateway"]) as base, chromium(tmp_path / "profile", viewport={"width": 1024, "height": 768}) as page:
            await log_in(page, base, "li.jingli", password)

            await page.get_by_role("link", name="客户信息库").first.click()
            level1 = page.locator("#level1 tbody tr")
            assert await level1.count() == 1 and "阳光花园小区" in await level1.first.inner_text()
            assert "¥5,000.00" in await page.locator("#level1 tfoot").inner_text()
            await page.screenshot(path=screenshots / "11-level1.png", full_page=True)
            await level1.first.get_by_role("link", name="阳光花园小区").click()
            level2 = await page.locator("#level2 tbody").inner_text()
            assert "赵敏" in level2 and "VIP" in level2  # the tier by its name, not its code
            await page.screenshot(path=screenshots / "12-level2.png", full_page=True)
            await page.locator("#level2 tbody").get_by_role("link", name="赵敏").click()
            # Two lines and the promotion's row: the page adds up to what level 1 counts.
            assert await page.locator("#level3 tbody tr").count() == 3
            assert "优惠券与促销折扣" in await page.locator("#level3 tbody").inner_text()
            assert "¥5,000.00" in await page.locator("#level3 tfoot").inner_text()
            async with page.expect_download() as download:
                await page.get_by_role("link", name="下载 CSV").click()
            assert (await download.value).suggested_filename.endswith(".csv")
            await page.screenshot(path=screenshots / "13-level3.png", full_page=True)

            await page.get_by_role("link", name="客户查询").first.click()
            await page.get_by_label("姓名").fill("赵敏")
            await page.get_by_role("button", name="查询").click()
            await page.locator("#results").get_by_role("link", name="赵敏").click()
            await page.wait_for_url(f"{base}/console/customers/{member['id']}")
            assert await page.locator("#purchases tbody tr").count() == 2
            # The ledger's entries read in Chinese, not as points' codes.
            assert [t.strip() for t in await page.locator("#ledger tbody tr td:nth-child(2)").all_inner_texts()] == ["消费积分"] * 2
            assert "阳光花园小区" in await page.locator("#profile").inner_text()
            assert "VIP" in await page.locator("#profile").inner_text()
            assert member["phone"] in await page.locator("#profile").inner_text()  # account managers call their customers
            await page.screenshot(path=screenshots / "14-customer-360.png", full_page=True)

            await page.get_by_role("link", name="客户跟踪").first.click()
            assert "赵敏" in await page.locator("#queue tbody").inner_text()
            await page.get_by_label("客户", exact=True).select_option(member["id"])
            await page.get_by_label("联系对象").fill("本人")
            await page.get_by_label("方式").select_option("home_visit")
            await page.get_by_label("备注").fill("介绍了上门回收余料服务")
            await page.screenshot(path=screenshots / "15-tracking-form.png", full_page=True)
            await page.get_by_role("button", name="保存").click()
            await page.wait_for_url("**/console/tracking?recorded=1")
            assert "跟踪记录已保存。" in await page.content()

            await page.get_by_role("link", name="今日报表（打印）").click()
            report = await page.locator("#report tbody").inner_text()
            assert "赵敏" in report and "上门" in report and "介绍了上门回收余料服务" in report
            today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
            assert today in report
            await page.emulate_media(media="print")
            await page.screenshot(path=screenshots / "16-daily-report-print.png", full_page=True)

            # The customer complains in the app; the complaint reaches the manager's queue.
            r = await p.feedback.post("/v1/complaints", headers=keyed(env.auth(Role.MEMBER, member_id=member["id"])), json={
                "store_id": "S001", "category": "product_quality", "severity": "high", "description": "电饭锅不通电"})
            assert r.status_code == 201 and r.json()["assignee"] == MANAGER, r.text
            await page.emulate_media(media="screen")
            await page.goto(f"{base}/console/complaints")
            row = page.locator(f'tr[data-complaint="{r.json()["id"]}"]')
            assert await row.get_attribute("data-urgency") in ("soon", "later")
            # category, severity and state read in Chinese, not as feedback's codes
            assert [c.strip() for c in await row.locator("td").all_inner_texts()][2:5] == ["商品质量", "高", "已登记"]
            await page.screenshot(path=screenshots / "17-complaints.png", full_page=True)
            # The row leads to the complaint by its deadline; the customer's name leads to the customer.
            await row.locator(f'a[href="/console/complaints/{r.json()["id"]}"]').click()
            csrf = await page.locator('input[name="csrf"]').first.input_value()
            await page.get_by_role("button", name="确认受理").click()
            await page.wait_for_url(f"**/console/complaints/{r.json()['id']}")
            # A second click (the form sent twice) finds it done: the page says so, not a refusal.
            again = await page.request.post(f"{base}/console/complaints/{r.json()['id']}/step",
                                            form={"csrf": csrf, "action": "acknowledge"})
            assert again.ok and again.url.endswith("?already=acknowledge") and "该投诉已被确认受理。" in await again.text()
            await page.get_by_label("处理说明").fill("上门更换并致歉")
            await page.get_by_label("补偿积分").fill("300")
            await page.get_by_label("补偿优惠券面值").fill("10.00")
            await page.get_by_role("button", name="处理完成").click()
            await page.wait_for_url("**?done=1")
            assert (await page.locator("#status").inner_text()).strip() == "已解决"
            # The next person to open it sees what was promised and why.
            assert (await page.locator("#resolution-note").inner_text()).strip() == "上门更换并致歉"
            assert (await page.locator("#compensation").inner_text()).strip() == "300 积分；面值 10.00 元的优惠券"

            async def compensated() -> bool:
                account = (await p.points.get(f"/v1/accounts/{member['id']}", headers=admin)).json()
                return bool(account.get("balance") == 5300)
            await eventually(compensated, timeout=30, what="the compensation points booked")

            # The store manager: level 2 on paper, the value analytics, the managers' evaluation.
            r = await gw.post("/api/members/v1/jobs/value-analytics/run", headers=admin)
            assert r.status_code == 200, r.text
            await page.get_by_role("button", name="退出登录").click()
            await page.wait_for_url(f"{base}/console/login")
            await page.get_by_label("登录名").fill("wang.dianzhang")
            await page.get_by_label("密码", exact=True).fill(manager_password)
            await page.get_by_role("button", name="登录").click()
            await page.wait_for_url(f"{base}/console")
            await page.goto(f"{base}/console/infobase/communities/{member['community_id']}")
            assert "赵敏" in await page.locator("#level2 tbody").inner_text()
            await page.emulate_media(media="print")
            await page.screenshot(path=screenshots / "18-level2-print.png", full_page=True)
            await page.emulate_media(media="screen")
            await page.get_by_role("link", name="价值分析").first.click()
            assert await page.locator("#pareto polyline").count() == 1
            assert "1" in await page.locator("#rfm tbody").inner_text()
            await page.screenshot(path=screenshots / "19-analytics.png", full_page=True)
            await page.get_by_role("link", name="考核").first.click()
            assert "李经理" in await page.locator('section[data-store="S001"]').inner_text()
            await page.screenshot(path=screenshots / "20-evaluation.png", full_page=True)
