"""An admin enrols a till and revokes it, in a real browser against the gateway: the menu's link,
the enrol form refused first naming its field (marked on the form, in Chinese), the secret shown
once in place of the page, good for a token the till sells with, then the client's page, where
revoking it (once the box is ticked) makes the gateway refuse that token at once. Screenshots are
left under pytest's base temp directory (screenshots/)."""

import base64
import re

import pytest
from playwright.async_api import expect

from tests.browser.conftest import chromium, log_in, served
from tests.support.console import account
from tests.support.factories import sale_body
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_an_admin_enrols_a_till_sees_its_secret_once_and_revokes_it(env: TestEnv, database_factory, screenshots, tmp_path) -> None:
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as gateway:
        password = await account(gateway, env, "admin.wang", "admin")
        async with served(gateway.app) as base, chromium(tmp_path / "profile") as page:
            await log_in(page, base, "admin.wang", password)

            await page.get_by_role("navigation").get_by_role("link", name="收银机与服务").click()
            await page.wait_for_url(f"{base}/console/clients")
            await expect(page.locator("#clients")).to_contain_text("没有符合条件的收银机或服务。")
            enrol = page.locator("#enrol-client")
            await enrol.get_by_label("类型").select_option("till")
            await enrol.get_by_label("说明").fill("入口 3 号")

            # A till is bound to its store: refused in the form's message area, the store field marked.
            await page.get_by_role("button", name="登记").click()
            refused = page.locator("#enrol-message .refusal")
            await expect(refused).to_have_text("门店：收银机属于一家门店：请填写门店")
            store = enrol.get_by_label("门店")
            await expect(store).to_have_attribute("aria-invalid", "true")
            await expect(store).to_be_focused()
            await page.screenshot(path=screenshots / "clients-01-refused.png", full_page=True)

            await store.fill("S001")
            await page.get_by_role("button", name="登记").click()
            status = page.get_by_role("status")
            await expect(status).to_have_text(re.compile(r"门店 S001 的收银机 till_[0-9a-f]+ 已登记。"))
            client_id = re.search(r"till_[0-9a-f]+", await status.inner_text())
            secret = (await page.locator("#client-secret").inner_text()).strip()
            assert client_id and len(secret) >= 43
            await expect(page.locator("#enrol-client")).to_have_count(0)  # no form left to send twice
            await page.screenshot(path=screenshots / "clients-02-enrolled.png", full_page=True)
            basic = base64.b64encode(f"{client_id.group()}:{secret}".encode()).decode()
            r = await gateway.post("/identity/v1/token", content="grant_type=client_credentials", headers={
                "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"})
            assert r.status_code == 200, r.text
            bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
            assert (await gateway.post("/pos/v1/purchases", json=sale_body(), headers=bearer)).status_code == 202

            await page.get_by_role("link", name="打开其页面").click()
            await page.wait_for_url(f"{base}/console/clients/{client_id.group()}")
            await expect(page.locator("#status")).to_have_text("在用")
            assert secret not in await page.content()
            # The box left unticked, the browser does not send the form: nothing is revoked.
            await page.get_by_role("button", name="吊销").click()
            await expect(page.locator("#status")).to_have_text("在用")
            await page.get_by_label("我了解它将立即且永久停用。").check()
            await page.get_by_role("button", name="吊销").click()
            await page.wait_for_url("**?done=revoked")
            await expect(page.get_by_role("status")).to_contain_text("已吊销：不再获得新令牌")
            await expect(page.locator("#status")).to_contain_text("已吊销")
            await expect(page.locator('#audit tr[data-action="revoked"]')).to_contain_text("admin.wang")
            await expect(page.get_by_role("button", name="吊销")).to_have_count(0)
            await page.screenshot(path=screenshots / "clients-03-revoked.png", full_page=True)

            refused_sale = await gateway.post("/pos/v1/purchases", json=sale_body(), headers=bearer)
            assert refused_sale.status_code == 401 and "revoked" in refused_sale.json()["detail"]
