"""An admin books a bulk bonus in a real browser against the gateway and a real points app: the
menu's link, a card no account holds refused on its box, then the job started from the pasted
column and its page. Screenshots are left under pytest's base temp directory (screenshots/)."""

import pytest
from playwright.async_api import expect

from tests.browser.conftest import chromium, log_in, served
from tests.support.audience import registered
from tests.support.console import account
from tests.support.members import deliver_batch
from tests.support.platform import TestEnv
from tests.support.points_console import gateway_over_points

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_an_admin_books_a_bulk_bonus(env: TestEnv, database_factory, screenshots, tmp_path) -> None:
    async with gateway_over_points(env, database_factory) as (gw, pts):
        await deliver_batch(pts, [registered("m-1", card_no="8800000000011"), registered("m-2", card_no="8800000000022")])
        password = await account(gw, env, "qian.admin", "admin")
        async with served(gw.app) as base, chromium(tmp_path / "profile") as page:  # type: ignore[attr-defined]
            await log_in(page, base, "qian.admin", password)

            await page.get_by_role("navigation").get_by_role("link", name="批量奖励积分").click()
            await page.wait_for_url(f"{base}/console/bonuses")
            await page.get_by_label("每位客户的积分", exact=True).fill("200")
            await page.get_by_label("原因（显示在每位客户的积分明细中）").fill("城东店周年庆")
            cards = page.get_by_label("卡号，每行一个（可从表格中整列粘贴）")
            await cards.fill("8800000000011\n8899999999999")
            await page.get_by_label("确认为以上每位客户发放这些积分").check()
            await page.get_by_role("button", name="开始任务").click()
            await expect(cards).to_have_attribute("aria-invalid", "true")
            await expect(page.locator("#bonus-message")).to_contain_text("没有客户的积分账户持有 8899999999999")
            await page.screenshot(path=screenshots / "bonuses-01-refused.png", full_page=True)

            await cards.fill("8800000000011\n8800000000022")
            await page.get_by_role("button", name="开始任务").click()
            await page.wait_for_url(f"{base}/console/bonuses/*")
            await expect(page.get_by_role("heading", level=1)).to_have_text("批量奖励：200 积分，城东店周年庆")
            await page.screenshot(path=screenshots / "bonuses-02-started.png", full_page=True)
