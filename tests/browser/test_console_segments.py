"""Marketing builds a segment in a real browser against the gateway and a real campaigns app: the
menu's link, the form's audience previewed in place without saving, a condition campaigns refuses
marked on its field, then the segment saved and listed. Screenshots are left under pytest's base
temp directory (screenshots/)."""

import pytest
from playwright.async_api import expect

from tests.browser.conftest import chromium, log_in, served
from tests.support.console import account
from tests.support.marketing_console import gateway_over_campaigns, key_customers_at_risk
from tests.support.platform import TestEnv

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_marketing_previews_and_saves_a_segment(env: TestEnv, database_factory, screenshots, tmp_path) -> None:
    async with gateway_over_campaigns(env, database_factory) as (gw, driver):
        await key_customers_at_risk(driver)
        password = await account(gw, env, "zhao.shichang", "marketing")
        async with served(gw.app) as base, chromium(tmp_path / "profile") as page:  # type: ignore[attr-defined]
            await log_in(page, base, "zhao.shichang", password)

            await page.get_by_role("navigation").get_by_role("link", name="客群").click()
            await page.wait_for_url(f"{base}/console/segments")
            await page.get_by_role("link", name="新建客群").click()
            await page.wait_for_url(f"{base}/console/segments/new")
            await page.get_by_label("客群名称").fill("重点客户流失预警")
            await page.get_by_label("价值等级").select_option("key")
            await page.get_by_label("流失风险").select_option("high")
            await page.get_by_label("同意接收短信营销").check()

            await page.get_by_role("button", name="预览受众").click()
            await expect(page.locator("#segment-preview")).to_contain_text("当前有 2 位顾客符合。")
            assert (await driver.client.get("/v1/segments", headers=driver.marketing())).json() == []  # nothing saved
            await page.screenshot(path=screenshots / "segments-01-preview.png", full_page=True)

            # Idle at least 30 days but at most 7: campaigns refuses, and the field is marked.
            await page.get_by_label("距上次购买天数，至少").fill("30")
            await page.get_by_label("距上次购买天数，至多").fill("7")
            await page.get_by_role("button", name="保存客群").click()
            idle = page.get_by_label("距上次购买天数，至少")
            await expect(idle).to_have_attribute("aria-invalid", "true")
            await expect(page.locator("#segment-message")).to_have_text("距上次购买天数，至少：下限不能高于上限")
            await page.screenshot(path=screenshots / "segments-02-refused.png", full_page=True)

            await idle.fill("")
            await page.get_by_label("距上次购买天数，至多").fill("")
            await page.get_by_role("button", name="保存客群").click()
            await page.wait_for_url("**?done=saved")
            await expect(page.get_by_role("status")).to_contain_text("客群已保存。")
            await expect(page.locator("#audience-size")).to_have_text("当前有 2 位顾客符合。")
            await page.screenshot(path=screenshots / "segments-03-saved.png", full_page=True)

            await page.get_by_role("navigation").get_by_role("link", name="客群").click()
            listed = page.get_by_role("row").filter(has_text="重点客户流失预警")
            await expect(listed).to_contain_text("启用")
            await expect(listed.get_by_role("link", name="打开客群")).to_be_visible()
            saved = (await driver.client.get("/v1/segments", headers=driver.marketing())).json()
            assert [s["name"] for s in saved] == ["重点客户流失预警"]
