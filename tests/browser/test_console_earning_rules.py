"""An admin changes the earning rules in a real browser against the gateway and a real points app:
the menu's link, the form filled in from the version in force, a rate points refuses marked on its
box with the line's name, then the version added and shown in force. Screenshots are left under
pytest's base temp directory (screenshots/)."""

import pytest
from playwright.async_api import expect

from shared.auth import Role
from tests.browser.conftest import chromium, log_in, served
from tests.support.console import account
from tests.support.platform import TestEnv
from tests.support.points_console import gateway_over_points

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_an_admin_adds_an_earning_rule_version(env: TestEnv, database_factory, screenshots, tmp_path) -> None:
    async with gateway_over_points(env, database_factory) as (gw, pts):
        password = await account(gw, env, "qian.admin", "admin")
        async with served(gw.app) as base, chromium(tmp_path / "profile") as page:  # type: ignore[attr-defined]
            await log_in(page, base, "qian.admin", password)

            await page.get_by_role("navigation").get_by_role("link", name="积分规则").click()
            await page.wait_for_url(f"{base}/console/earning-rules")
            await expect(page.get_by_role("row").filter(has_text="生效中")).to_contain_text("1")
            await expect(page.get_by_label("每元积分")).to_have_value("1")  # from the version in force

            channels = page.get_by_label("渠道倍率（渠道 = 倍率，每行一个）")
            await channels.fill("partner = 0")
            await page.get_by_label("原因（随版本保存）").fill("生鲜双倍积分")
            await page.get_by_role("button", name="添加该版本").click()
            await expect(channels).to_have_attribute("aria-invalid", "true")
            await expect(page.locator("#rule-message")).to_contain_text("partner：0 须大于 0、不超过 100")
            await page.screenshot(path=screenshots / "earning-rules-01-refused.png", full_page=True)

            await channels.fill("partner = 1.2")
            await page.get_by_label("品类倍数（品类 = 倍数，每行一个）").fill("生鲜 = 2")
            await page.get_by_role("button", name="添加该版本").click()
            await page.wait_for_url("**?added=2#version-2")
            await expect(page.get_by_role("status")).to_contain_text("已添加版本 2。")
            added = page.locator("#version-2")
            await expect(added).to_contain_text("生效中")
            await expect(added).to_contain_text("生鲜 × 2")
            await expect(added).to_contain_text("生鲜双倍积分")
            await page.screenshot(path=screenshots / "earning-rules-02-added.png", full_page=True)
            kept = (await pts.get("/v1/earning-rules", headers=env.auth(Role.ADMIN))).json()
            assert [v["version"] for v in kept] == [1, 2] and kept[1]["category_multipliers"] == {"fresh": "2"}
