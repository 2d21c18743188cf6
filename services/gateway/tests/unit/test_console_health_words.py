"""The operators' health page speaks the person's language for what each service's consumer said."""

import re
from zoneinfo import ZoneInfo

import pytest

from gateway.api.console.render import environment
from gateway.domain.platform_health import ServiceHealth, Unanswered, uptime_parts


@pytest.mark.parametrize(("language", "said", "shown"), [
    ("zh-CN", "assigned", "已分配分区"), ("zh-CN", "no partitions assigned", "未分配分区"),
    ("en", "assigned", "Partitions assigned"),
])
def test_a_consumers_state_is_worded_in_the_persons_language(language: str, said: str, shown: str) -> None:
    service = ServiceHealth(name="points", live=True, ready=True, database="ok", broker="ok", consumer=said)
    page = environment(language).get_template("ops/health.html").render(
        lang=language, languages={}, menu=[], path="/console/ops/health", back="/console/ops/health", user=None, csrf="",
        zone=ZoneInfo("Asia/Shanghai"), services=[service], uptime_parts=uptime_parts, all_healthy=True,
    )
    assert f"<td>{shown}</td>" in page


@pytest.mark.parametrize(("language", "shown"), [("zh-CN", "故障后正在重连"), ("en", "Reconnecting after a failure")])
def test_a_consumer_reconnecting_is_worded_in_the_persons_language_with_what_failed(language: str, shown: str) -> None:
    said = "reconnecting after a failure: OperationalError: unable to open database file"
    service = ServiceHealth(name="points", live=True, ready=False, database="failed: OperationalError: unable to open database file",
                            broker="ok", consumer=said)
    page = environment(language).get_template("ops/health.html").render(
        lang=language, languages={}, menu=[], path="/console/ops/health", back="/console/ops/health", user=None, csrf="",
        zone=ZoneInfo("Asia/Shanghai"), services=[service], uptime_parts=uptime_parts, all_healthy=False,
    )
    assert f"<td>{shown}<br><small>OperationalError: unable to open database file</small></td>" in page


@pytest.mark.parametrize(("language", "uptime_s", "shown"), [
    ("zh-CN", 455, "7 分 35 秒"), ("zh-CN", 3700, "1 小时 1 分"), ("zh-CN", 90061, "1 天 1 小时 1 分"),
    ("en", 455, "7 min 35 s"), ("en", 90061, "1 d 1 h 1 min"),
])
def test_an_uptime_is_worded_in_the_persons_language(language: str, uptime_s: int, shown: str) -> None:
    service = ServiceHealth(name="points", live=True, ready=True, database="ok", broker="ok", consumer="assigned", uptime_s=uptime_s)
    page = environment(language).get_template("ops/health.html").render(
        lang=language, languages={}, menu=[], path="/console/ops/health", back="/console/ops/health", user=None, csrf="",
        zone=ZoneInfo("Asia/Shanghai"), services=[service], uptime_parts=uptime_parts, all_healthy=True,
    )
    assert f"<td>{shown}</td>" in page, page


def render(language: str, service: ServiceHealth) -> str:
    return environment(language).get_template("ops/health.html").render(
        lang=language, languages={}, menu=[], path="/console/ops/health", back="/console/ops/health", user=None, csrf="",
        zone=ZoneInfo("Asia/Shanghai"), services=[service], uptime_parts=uptime_parts, all_healthy=False,
    )


@pytest.mark.parametrize(("language", "problem", "shown"), [
    ("zh-CN", Unanswered("connect", ("/health/live", "/health/ready"), "ConnectError"),
     '不应答（无法连接）</span><br><small>/health/live, /health/ready: ConnectError</small>'),
    ("en", Unanswered("connect", ("/health/live", "/health/ready"), "ConnectError"),
     'not answering (cannot connect)</span><br><small>/health/live, /health/ready: ConnectError</small>'),
    ("zh-CN", Unanswered("unreachable", ("/health/ready",), "RemoteProtocolError"),
     '不应答</span><br><small>/health/ready: RemoteProtocolError</small>'),
    ("zh-CN", Unanswered("timeout", ("/health/ready",), seconds=3.0), '3 秒内未应答</span><br><small>/health/ready</small>'),
    ("en", Unanswered("no_report", ("/health/live",), status=502), 'answered 502 without a health report</span>'),
    ("zh-CN", Unanswered("not_configured"), '网关未配置此服务</span>      </td>'),
])
def test_why_a_service_gave_no_report_is_worded_with_the_technical_error_in_small_print(
        language: str, problem: Unanswered, shown: str) -> None:
    page = render(language, ServiceHealth(name="points", live=False, ready=False, problems=(problem,)))
    assert f'<span class="unanswered">{shown}' in page, page
    assert "unreachable" not in page.replace("RemoteProtocolError", "")


@pytest.mark.parametrize(("language", "database_said", "broker_said", "shown"), [
    ("zh-CN", "ok", "failed: not connected to the broker", ['正常', '未连接到消息代理']),
    ("en", "ok", "failed: not connected to the broker", ['ok', 'not connected to the broker']),
    ("zh-CN", "failed: OperationalError: unable to open database file",
     "failed: not connected to the broker (the outbox relay's last failure: OperationalError: unable to open database file)",
     ['失败<br><small>OperationalError: unable to open database file</small>',
      "未连接到消息代理<br><small>the outbox relay&#39;s last failure: OperationalError: unable to open database file</small>"]),
    ("en", "failed: no answer within 2s", "failed: the broker at kafka:9092 does not answer: KafkaTimeoutError",
     ['Failed<br><small>no answer within 2s</small>',
      'Failed<br><small>the broker at kafka:9092 does not answer: KafkaTimeoutError</small>']),
])
def test_a_database_or_broker_check_is_worded_with_what_failed_in_small_print(
        language: str, database_said: str, broker_said: str, shown: list[str]) -> None:
    page = render(language, ServiceHealth(name="gateway", live=True, ready=False, database=database_said, broker=broker_said,
                                          consumer="assigned"))
    cells = re.findall(r'<td class="status-(?:ok|bad)">(.*?)</td>', page, re.S)[1:]  # after the status cell
    assert cells == shown, page
