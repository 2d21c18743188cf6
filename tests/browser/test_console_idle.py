"""A console page left untouched on a shop tablet, in a real browser against the gateway: once the
idle time (CRM_STAFF_IDLE_TIMEOUT_S, 30 minutes) has passed without the person's input, the page
leaves the screen for the login page, which says why, and logging in again goes back to it. The
browser's clock is moved on by Playwright; the gateway's own rule is tested in
services/gateway/tests (test_console_session, test_staff_api)."""

import pytest
from playwright.async_api import expect

from tests.browser.conftest import chromium, log_in, served
from tests.support.console import account
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_a_page_left_untouched_for_the_idle_time_goes_to_the_login_page_and_back_after_it(
    env: TestEnv, database_factory, screenshots, tmp_path,
) -> None:
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as gateway:
        password = await account(gateway, env, "op.zhang", "operator")
        async with served(gateway.app) as base, chromium(tmp_path / "profile") as page:
            await page.clock.install()
            await log_in(page, base, "op.zhang", password)
            going = f"{base}/console/password?changed=1"
            await page.goto(going)

            # Touched within the idle time, the page stays however long it is open.
            await page.clock.fast_forward("20:00")
            await page.keyboard.press("Shift")
            await page.clock.fast_forward("20:00")
            assert page.url == going

            await page.clock.fast_forward("10:01")
            await page.wait_for_url(f"{base}/console/login?**")
            await expect(page.get_by_role("status")).to_contain_text("您的会话已因 30 分钟未使用而结束")
            await page.screenshot(path=screenshots / "idle-login.png", full_page=True)

            await page.get_by_label("登录名").fill("op.zhang")
            await page.get_by_label("密码", exact=True).fill(password)
            await page.get_by_role("button", name="登录").click()
            await page.wait_for_url(going)
