"""The operators' health and jobs pages against the real gateway: each service's answers shown as
they came (here the four services behind the gateway are not running, and the gateway has no
broker), and a job run from the page with the operator's own token at the service."""

import re

import pytest

from tests.support.console import csrf_of, logged_in
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.fixture
async def console(env: TestEnv, database_factory):
    # Addresses where nothing listens: those services are reported down, not waited for.
    closed = {f"{name}_url": "http://127.0.0.1:9" for name in ("members", "points", "feedback", "campaigns")}
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock(), **closed) as client:
        await logged_in(client, env, "op.zhang", "operator")
        yield client


def row(html: str, service: str) -> str:
    found = re.search(rf'<tr data-service="{service}">(.*?)</tr>', html, re.S)
    assert found, service
    return found.group(1)


async def test_the_health_page_shows_each_service_as_it_answered(console) -> None:
    page = await console.get("/console/ops/health")
    assert page.status_code == 200 and "部分服务需要处理。" in page.text
    gateway = row(page.text, "gateway")
    assert "存活，未就绪" in gateway and "0.1.0" in gateway  # live, its database ok, the broker away
    assert gateway.count("status-ok") == 1 and '<td class="status-bad">未连接到消息代理' in gateway
    assert "not connected to the broker" not in gateway
    for service in ("members", "points", "feedback", "campaigns"):
        # Why, in words, and the connection's error in small print for the operators.
        assert "宕机" in row(page.text, service) and "不应答（无法连接）" in row(page.text, service)
        assert "<small>/health/live, /health/ready: ConnectError</small>" in row(page.text, service)
        assert "unreachable" not in row(page.text, service)
        # A service that did not answer said nothing of its database or broker: unknown, in words.
        assert re.findall(r'<td class="status-bad">([^<]*)</td>', row(page.text, service)) == ["未知", "未知"], row(page.text, service)


async def test_an_operator_runs_a_job_now_and_sees_its_summary_and_its_run(console) -> None:
    jobs = await console.get("/console/ops/jobs")
    assert jobs.status_code == 200 and "staff-sessions-cleanup" in jobs.text
    # The services that did not answer say so, in words: not the connection's error.
    for service, named in (("points", "积分"), ("members", "会员"), ("feedback", "反馈"), ("campaigns", "营销")):
        section = re.search(rf'<section class="card" data-service="{service}">(.*?)</section>', jobs.text, re.S)
        assert section and f'<p class="refusal">{named}服务暂时没有应答，请稍后再试。</p>' in section.group(1), jobs.text
    assert "unreachable" not in jobs.text and "ConnectError" not in jobs.text
    r = await console.post("/console/ops/jobs/run", data={
        "csrf": csrf_of(jobs.text), "service": "gateway", "job": "staff-sessions-cleanup", "as_of": "2026-12-01T08:30",
    })
    # The summary's figures in words, not the job's keys.
    assert r.status_code == 200 and "任务已运行。" in r.text and "已删除的会话" in r.text and "sessions_deleted" not in r.text
    listed = await console.get("/console/ops/jobs")
    assert "2026-12-01 08:30:00" in listed.text and "手动" in listed.text  # the run, in local time, by hand
    assert "已删除的会话：0" in listed.text and "sessions_deleted" not in listed.text

    bad = await console.post("/console/ops/jobs/run", data={"csrf": csrf_of(jobs.text), "service": "gateway", "job": "x", "as_of": "soon"})
    assert bad.status_code == 422 and "业务时间（留空为现在）：不是日期和时间" in bad.text
    ancient = await console.post("/console/ops/jobs/run", data={
        "csrf": csrf_of(jobs.text), "service": "gateway", "job": "staff-sessions-cleanup", "as_of": "0001-01-01T00:00"})
    assert ancient.status_code == 422 and "业务时间（留空为现在）：0001-01-01T00:00:00 太接近日历的起止（公元 1 至 9999 年）" in ancient.text
    unknown = await console.post("/console/ops/jobs/run", data={"csrf": csrf_of(jobs.text), "service": "gateway", "job": "nothing"})
    assert unknown.status_code == 200 and "404" in unknown.text
    # The service's own refusal (a moment at the end of its calendar) in words, not as its JSON.
    edge = await console.post("/console/ops/jobs/run", data={
        "csrf": csrf_of(jobs.text), "service": "gateway", "job": "staff-sessions-cleanup", "as_of": "9999-12-31T23:59"})
    refusal = re.search(r'<p class="refusal">(.*?)</p>', edge.text, re.S)
    assert refusal and "422" in refusal.group(1) and "太接近日历的起止" in refusal.group(1), edge.text
    assert "'loc'" not in refusal.group(1) and "{" not in refusal.group(1)


async def test_the_console_reads_and_shows_times_in_the_chains_configured_zone(env: TestEnv, database_factory) -> None:
    closed = {f"{name}_url": "http://127.0.0.1:9" for name in ("members", "points", "feedback", "campaigns")}
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock(), business_timezone="America/New_York",
                                   **closed) as console:
        await logged_in(console, env, "op.zhang", "operator")
        jobs = await console.get("/console/ops/jobs")
        form = {"csrf": csrf_of(jobs.text), "service": "gateway", "job": "staff-sessions-cleanup"}
        r = await console.post("/console/ops/jobs/run", data={**form, "as_of": "2026-12-01T08:30"})
        assert r.status_code == 200
        # Read as 08:30 in New York (13:30 UTC) and shown in New York: neither step took Shanghai's time.
        assert "2026-12-01 08:30:00" in (await console.get("/console/ops/jobs")).text
        skipped = await console.post("/console/ops/jobs/run", data={**form, "as_of": "2026-03-08T02:30"})
        assert skipped.status_code == 422 and "the clocks of America/New_York skipped 2026-03-08T02:30:00" in skipped.text


async def test_a_job_run_at_a_service_that_does_not_answer_says_so_in_the_person_s_language(console) -> None:
    jobs = await console.get("/console/ops/jobs")
    form = {"csrf": csrf_of(jobs.text), "service": "points", "job": "points-expiry"}
    r = await console.post("/console/ops/jobs/run", data=form)
    # Nothing was answered: no status of the service's, no raw English of the connection.
    assert r.status_code == 503 and "积分服务暂时没有应答，请稍后再试。" in r.text, r.text
    assert "服务返回" not in r.text and "系统拒绝" not in r.text and "unreachable" not in r.text and "ConnectError" not in r.text
    console.cookies.set("crm_console_lang", "en")
    english = await console.post("/console/ops/jobs/run", data={**form, "csrf": csrf_of((await console.get("/console/ops/jobs")).text)})
    assert english.status_code == 503 and "The points service does not answer now: try again in a moment." in english.text


async def test_an_address_naming_no_dead_letter_is_refused_in_the_person_s_language(console) -> None:
    zh = await console.get("/console/ops/dead-letters/abc")
    assert zh.status_code == 422
    assert "地址中没有有效的死信编号：死信以分区和偏移量命名，例如 0-1234。" in zh.text, zh.text
    assert "id：" not in zh.text and "&lt;partition&gt;" not in zh.text
    console.cookies.set("crm_console_lang", "en")
    en = await console.get("/console/ops/dead-letters/1-2-3")
    assert en.status_code == 422
    assert "The address names no dead letter: a dead letter is named by its partition and offset, such as 0-1234." in en.text
