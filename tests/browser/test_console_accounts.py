"""An admin adds a staff account and deactivates it, in a real browser against the gateway: the
menu's link, the form refused first naming its field (marked on the form, in Chinese), the
generated password shown once in place of the form, then the account's page, where deactivating
it ends its logins. Screenshots are left under pytest's base temp directory (screenshots/)."""

import pytest
from playwright.async_api import expect

from tests.browser.conftest import chromium, log_in, served
from tests.support.console import account
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_an_admin_adds_a_desk_account_and_deactivates_it(env: TestEnv, database_factory, screenshots, tmp_path) -> None:
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as gateway:
        password = await account(gateway, env, "admin.wang", "admin")
        async with served(gateway.app) as base, chromium(tmp_path / "profile") as page:
            await log_in(page, base, "admin.wang", password)

            await page.get_by_role("navigation").get_by_role("link", name="员工账号").click()
            await page.wait_for_url(f"{base}/console/accounts")
            await page.get_by_role("link", name="添加员工账号").click()
            await page.wait_for_url(f"{base}/console/accounts/new")
            await page.get_by_label("登录名").fill("desk.li")
            await page.get_by_label("姓名").fill("李服务")
            await page.get_by_label("角色").select_option("service_desk")

            # A desk works for one store: refused in the form's message area, the store field marked.
            await page.get_by_role("button", name="添加账号").click()
            refused = page.locator("#new-account-message .refusal")
            await expect(refused).to_have_text("门店：服务台在一家门店工作：请填写门店")
            store = page.get_by_label("门店")
            await expect(store).to_have_attribute("aria-invalid", "true")
            await expect(store).to_be_focused()
            await page.screenshot(path=screenshots / "accounts-01-refused.png", full_page=True)

            await store.fill("S001")
            await page.get_by_role("button", name="添加账号").click()
            await expect(page.get_by_role("status")).to_have_text("账号 desk.li（李服务，服务台）已添加。")
            generated = (await page.locator("#generated-password").inner_text()).strip()
            assert len(generated) >= 12
            await expect(page.locator("#new-account")).to_have_count(0)  # no form left to send twice
            # The answer took the page's place: its heading has the focus and names the page.
            await expect(page.get_by_role("heading", name="员工账号已添加")).to_be_focused()
            assert (await page.title()).startswith("员工账号已添加 · ")
            await page.screenshot(path=screenshots / "accounts-02-added.png", full_page=True)
            r = await gateway.post("/identity/v1/login", json={"login": "desk.li", "password": generated})
            assert r.status_code == 200, r.text

            await page.get_by_role("link", name="打开账号").click()
            await page.wait_for_url(f"{base}/console/accounts/stf_*")
            await expect(page.locator("#status")).to_have_text("在用")
            await page.get_by_role("button", name="停用").click()
            await page.wait_for_url("**?done=deactivated")
            await expect(page.get_by_role("status")).to_contain_text("账号已停用")
            await expect(page.locator("#status")).to_contain_text("已停用")
            await expect(page.locator('#audit tr[data-action="deactivated"]')).to_contain_text("admin.wang")
            await expect(page.get_by_role("button", name="重新启用")).to_be_visible()
            await page.screenshot(path=screenshots / "accounts-03-deactivated.png", full_page=True)

            r = await gateway.post("/identity/v1/login", json={"login": "desk.li", "password": generated})
            assert r.status_code == 401, r.text
            await page.get_by_role("link", name="员工账号").first.click()
            await page.wait_for_url(f"{base}/console/accounts")
            await expect(page.locator('tr[data-account="desk.li"]')).to_have_count(0)
            await page.get_by_label("包括已停用的账号").check()
            await page.get_by_role("button", name="筛选").click()
            await expect(page.locator('tr[data-account="desk.li"]')).to_contain_text("已停用")
