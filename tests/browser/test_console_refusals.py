"""A service desk in a real browser against the real stack: the registration form that members
refuses (a phone that is no mobile number) tells, in the form's own message area, which field is
wrong and why, in Chinese."""

import pytest

from shared.auth import Role
from tests.browser.conftest import chromium, log_in, served
from tests.support.platform import TestEnv, platform

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


async def test_a_registration_members_refuses_is_told_in_chinese_under_the_form(env: TestEnv, database_factory, screenshots, tmp_path) -> None:
    async with platform(env, database_factory) as p:
        gw, admin = p.gateway, env.auth(Role.ADMIN)
        assert (await gw.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=admin)).status_code == 200
        r = await gw.post("/identity/v1/staff", headers=admin, json={"login": "li.fuwutai", "name": "李服务台", "role": "service_desk",
                                                                     "store_id": "S001"})
        assert r.status_code == 201, r.text
        password = r.json()["password"]

        async with served(p.apps["gateway"]) as base, chromium(tmp_path / "profile", viewport={"width": 1024, "height": 768}) as browser:
            page = browser.pages[0] if browser.pages else await browser.new_page()
            await log_in(page, base, "li.fuwutai", password)

            await page.goto(f"{base}/console/desk")
            form = page.locator('form[action="/console/desk/register"]')
            await form.get_by_label("姓名").fill("钱芳")
            await form.get_by_label("电话").fill("123")
            await form.get_by_label("社区").fill("阳光花园")
            await form.get_by_label("地址").fill("阳光花园3幢2单元201室")
            await form.get_by_role("button", name="注册").click()
            message = page.locator("#register-message .refusal")
            await message.wait_for()
            assert (await message.inner_text()).strip() == "电话：应为 11 位手机号码"
            assert page.url == f"{base}/console/desk"  # the form stays, filled in, to be put right
            await page.screenshot(path=screenshots / "41-registration-refused.png", full_page=True)
