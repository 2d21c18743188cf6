"""An operator's morning on the console, in a real browser against the real stack: log in, see
every service healthy, find a dead letter, replay it after a dry run and see it applied, switch to
English. Screenshots of each step are left under pytest's base temp directory (screenshots/)."""

import pytest

from shared.auth import Role
from tests.browser.conftest import chromium, served
from tests.support.dead_letters import member_registered, plant_dead_letter
from tests.support.platform import TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


async def test_an_operator_checks_health_and_replays_a_dead_letter_then_switches_to_english(
    env: TestEnv, database_factory, screenshots, tmp_path,
) -> None:
    assert env.broker is not None
    async with platform(env, database_factory) as p:
        r = await p.gateway.post("/identity/v1/staff", headers=env.auth(Role.ADMIN),
                                 json={"login": "op.zhang", "name": "张运维", "role": "operator"})
        assert r.status_code == 201, r.text
        password = r.json()["password"]
        # A registration points failed to apply (its database was locked): the account is missing.
        lost = member_registered()
        await plant_dead_letter(env.broker.bootstrap, env.prefix, lost)
        member_id = lost.data["member_id"]
        assert (await p.points.get(f"/v1/accounts/{member_id}", headers=env.auth(Role.ADMIN))).status_code == 404

        async with served(p.apps["gateway"]) as base, chromium(tmp_path / "chromium-profile", viewport={"width": 1024, "height": 768}) as page:

            # Not logged in: sent to the login form, and back to the page asked for once logged in.
            await page.goto(f"{base}/console/ops/health")
            assert page.url == f"{base}/console/login?next=%2Fconsole%2Fops%2Fhealth"
            await page.get_by_label("登录名").fill("op.zhang")
            await page.get_by_label("密码", exact=True).fill(password)
            await page.screenshot(path=screenshots / "01-login.png")
            await page.get_by_role("button", name="登录").click()
            await page.wait_for_url(f"{base}/console/ops/health")

            await page.get_by_role("link", name="健康状态").first.click()
            await page.wait_for_url(f"{base}/console/ops/health")
            await page.screenshot(path=screenshots / "02-health.png", full_page=True)
            assert (await page.locator("#summary").inner_text()).strip() == "所有服务运行正常。"
            for service in ("gateway", "members", "points", "feedback", "campaigns"):
                assert "正常" in await page.locator(f'tr[data-service="{service}"] td').first.inner_text()

            await page.get_by_role("link", name="死信").first.click()
            await page.get_by_label("错误类别").fill("OperationalError")
            await page.get_by_role("button", name="筛选").click()
            rows = page.locator("tr[data-dead-letter]")
            assert await rows.count() == 1
            await page.screenshot(path=screenshots / "03-dead-letters.png", full_page=True)
            await rows.first.get_by_role("link").click()
            assert "database is locked" in await page.content()
            await page.get_by_role("button", name="试运行：重放此条").click()
            assert "重放将把 1 条记录发回其原主题。" in await page.locator("#dry-run-count").inner_text()
            await page.screenshot(path=screenshots / "04-dry-run.png")
            await page.get_by_role("button", name="立即重放 1 条").click()
            await page.wait_for_url("**/dead-letters/replays/*")
            assert await page.locator("#replayed").inner_text() == "1"
            assert "已完成" in await page.locator("#replay-state").inner_text()
            await page.screenshot(path=screenshots / "05-replayed.png", full_page=True)
            # The audit names the operator, not their staff id.
            assert await page.locator("table.card tr").first.locator("td").inner_text() == "张运维"
            replay_url = page.url

            # No sample yet: each chart says when the first comes instead of showing an empty box.
            await page.get_by_role("link", name="事件流").first.click()
            await page.wait_for_url(f"{base}/console/ops/event-flow")
            charts = page.locator("figure.chart")
            assert await charts.count() == 3
            assert "网关启动 15 秒后采集第一个样本" in await charts.first.locator(".chart-note").inner_text()
            # A sample taken by hand (the jobs page's "run now") is a dot, with a note until the line starts.
            await page.get_by_role("link", name="定时任务").first.click()
            sample = page.locator('section[data-service="gateway"] form:has(input[name="job"][value="event-flow-sample"])')
            await sample.get_by_role("button", name="立即运行").click()
            assert "任务已运行。" in await page.content()
            await page.get_by_role("link", name="定时任务").first.click()
            gateway_jobs = await page.locator('section[data-service="gateway"]').inner_text()
            assert "副本" in gateway_jobs and "手动" in gateway_jobs and "已记录的样本" in gateway_jobs
            await page.screenshot(path=screenshots / "07-jobs.png", full_page=True)
            await page.get_by_role("link", name="事件流").first.click()
            assert await page.locator('figure.chart[data-samples="1"] circle').count() >= 1
            assert "目前只有一个样本" in await page.locator("figure.chart .chart-note").first.inner_text()
            await page.screenshot(path=screenshots / "08-event-flow-one-sample.png", full_page=True)
            await page.goto(replay_url)

            # Applied: points opened the account the lost registration asked for.
            async def account_opened() -> bool:
                r = await p.points.get(f"/v1/accounts/{member_id}", headers=env.auth(Role.ADMIN))
                return r.status_code == 200
            await eventually(account_opened, timeout=30, what="the replayed registration applied by points")

            await page.get_by_role("button", name="English").click()
            await page.wait_for_load_state()
            assert await page.locator("html").get_attribute("lang") == "en"
            assert "Records sent" in await page.content()
            await page.get_by_role("link", name="Health").first.click()
            assert (await page.locator("#summary").inner_text()).strip() == "Every service is healthy."
            await page.screenshot(path=screenshots / "06-health-english.png", full_page=True)

            # The operator replaces the password the admin generated with one of their own, from
            # their name in the header; the session goes on.
            await page.get_by_role("link", name="张运维").click()
            await page.wait_for_url(f"{base}/console/password")
            await page.get_by_label("Current password").fill(password)
            await page.get_by_label("New password", exact=True).fill("zhang's own words 2026")
            await page.get_by_label("New password again").fill("zhang's own words 2026x")
            await page.get_by_role("button", name="Change my password").click()
            refused = page.locator("#password-message .refusal")
            await refused.wait_for()
            assert (await refused.inner_text()).strip() == "New password again: is not the same as the new password"
            await page.get_by_label("New password again").fill("zhang's own words 2026")
            await page.get_by_role("button", name="Change my password").click()
            await page.wait_for_url(f"{base}/console/password?changed=1")
            assert "Your password is changed." in await page.get_by_role("status").inner_text()
            await page.screenshot(path=screenshots / "09-password-changed.png")
            await page.get_by_role("link", name="Health").first.click()
            assert (await page.locator("#summary").inner_text()).strip() == "Every service is healthy."
        r = await p.gateway.post("/identity/v1/login", json={"login": "op.zhang", "password": "zhang's own words 2026"})
        assert r.status_code == 200, r.text
