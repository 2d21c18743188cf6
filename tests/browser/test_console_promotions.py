"""Marketing puts an item on the promotion list in a real browser against the gateway and a real
campaigns app: the menu's link, a percent off without its cap refused on its box, then the
promotion listed and shown in force. Screenshots are left under pytest's base temp directory
(screenshots/)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from tests.browser.conftest import chromium, log_in, served
from tests.support.console import account
from tests.support.marketing_console import gateway_over_campaigns
from tests.support.platform import TestEnv

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


async def test_marketing_lists_a_promotion(env: TestEnv, database_factory, screenshots, tmp_path) -> None:
    async with gateway_over_campaigns(env, database_factory) as (gw, driver):
        password = await account(gw, env, "zhao.shichang", "marketing")
        async with served(gw.app) as base, chromium(tmp_path / "profile") as page:  # type: ignore[attr-defined]
            await log_in(page, base, "zhao.shichang", password)

            await page.get_by_role("navigation").get_by_role("link", name="促销商品").click()
            await page.wait_for_url(f"{base}/console/promotions")
            now = datetime.now(UTC)
            await page.get_by_label("标题（会员看到的文字）").fill("伊利纯牛奶 8折")
            await page.get_by_label("商品编码（或填品类）").fill("6907992500010")
            await page.get_by_label("折扣（百分比）").fill("20")
            await page.get_by_label("有效期自").fill(local(now - timedelta(hours=1)))
            await page.get_by_label("有效期至").fill(local(now + timedelta(days=14)))
            await page.get_by_role("button", name="加入促销清单").click()
            cap = page.get_by_label("最多减免（元）")
            await expect(cap).to_have_attribute("aria-invalid", "true")
            await expect(page.locator("#promotion-message")).to_contain_text("折扣须填写最多优惠金额")
            await page.screenshot(path=screenshots / "promotions-01-refused.png", full_page=True)

            await cap.fill("8")
            await page.get_by_role("button", name="加入促销清单").click()
            await page.wait_for_url("**?done=listed#promotion-*")
            await expect(page.get_by_role("status")).to_contain_text("已加入促销清单。")
            listed = page.get_by_role("row").filter(has_text="伊利纯牛奶 8折")
            await expect(listed).to_contain_text("商品 6907992500010")
            await expect(listed).to_contain_text("生效中")
            await page.screenshot(path=screenshots / "promotions-02-listed.png", full_page=True)
            kept = (await driver.client.get("/v1/promotions", headers=driver.marketing())).json()
            assert [p["spec"]["title"] for p in kept] == ["伊利纯牛奶 8折"]
