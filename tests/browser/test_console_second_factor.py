"""A store manager sets up their own two-step login in a real browser: from their password page,
with their password, the QR code and key shown once in place of the page, a wrong code refused on
its field, then the app's code turns it on. Screenshots are left under pytest's base temp directory
(screenshots/)."""

import pyotp
import pytest
from playwright.async_api import expect

from tests.browser.conftest import chromium, log_in, served
from tests.support.console import account
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_a_store_manager_turns_two_step_login_on(env: TestEnv, database_factory, screenshots, tmp_path) -> None:
    clock = MovableClock()
    async with gateway_with_stores(env, await database_factory("gateway"), clock) as gateway:
        password = await account(gateway, env, "mgr.wang", "store_manager", store_id="S001")
        async with served(gateway.app) as base, chromium(tmp_path / "profile") as page:
            await log_in(page, base, "mgr.wang", password)

            await page.get_by_role("link", name="mgr.wang").click()
            await page.wait_for_url(f"{base}/console/password")
            setup = page.locator("#second-factor")
            await expect(setup).to_contain_text("未开通。")
            await setup.get_by_label("当前密码").fill(password)
            await setup.get_by_role("button", name="开通两步登录").click()

            await expect(page.get_by_role("heading", name="开通两步登录")).to_be_visible()
            await expect(page.locator("figure.qr-code svg")).to_be_visible()
            seed = (await page.locator("#second-factor-seed").inner_text()).replace(" ", "")
            await page.screenshot(path=screenshots / "second-factor-01-scan.png", full_page=True)

            code = page.get_by_label("一次性验证码")
            await code.fill("000000" if pyotp.TOTP(seed).at(clock.now) != "000000" else "111111")
            await page.get_by_role("button", name="开通两步登录").click()
            await expect(code).to_have_attribute("aria-invalid", "true")
            await expect(page.locator("#second-factor-message")).to_contain_text("不是应用当前显示的验证码")

            await code.fill(pyotp.TOTP(seed).at(clock.now))
            await page.get_by_role("button", name="开通两步登录").click()
            await page.wait_for_url("**/console/password?second_factor=on")
            await expect(page.get_by_role("status")).to_contain_text("两步登录已开通")
            await expect(page.locator("#second-factor")).to_contain_text("已开通：")
            await page.screenshot(path=screenshots / "second-factor-02-on.png", full_page=True)
