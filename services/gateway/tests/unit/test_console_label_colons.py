"""A label and its value, and the items of a list, are separated as the person's language writes
them: on the Chinese console by the full-width "：" and "，" (the catalogue's words for ": " and ", "),
never an ASCII colon after a Chinese label; on the English one by ": " and ", "."""

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.api.console.render import environment
from gateway.console import TEMPLATES
from gateway.domain.dead_letters import DeadLetter

pytestmark = pytest.mark.unit

PAGE = {"languages": {}, "menu": [], "path": "/console", "back": "/console", "user": None, "csrf": "", "zone": ZoneInfo("Asia/Shanghai")}
# A Chinese character (or a full-width bracket closing a label) followed by an ASCII colon or comma.
ASCII_AFTER_CHINESE = re.compile(r"[\u4e00-\u9fff）][:,] ")


def render(language: str, template: str, **context: object) -> str:
    return environment(language).get_template(template).render(lang=language, **PAGE, **context)


def job_run(language: str) -> str:
    return render(language, "ops/job_result.html", title="Job run" if language == "en" else "任务运行", service="gateway",
                  job="staff-sessions-cleanup", outcome={"status": 200, "body": {"sessions_deleted": 0}}, refused="")


def segment_rule(language: str) -> str:
    shown = {"tier": ["member", "vip"], "value_class": ["key"], "home_store": ["S001", "S002"], "idle_from": "30",
             "categories": ["fresh", "dairy"], "category_days": "90", "birth_month": ["3", "4"]}
    return render(language, "staff/_segment_rule.html", shown=shown)


def dead_letter_state(language: str) -> str:
    mark = {"action": "discarded", "actor": "stf_1", "acted_at": "2026-12-01T02:00:00+00:00", "reason": "test data", "result": ""}
    letter = DeadLetter(partition=0, offset=7, key="m-1", headers=(), value=b"{}", written_at=None)
    page = render(language, "ops/dead_letter.html", letter=letter, mark=mark, staff_names={"stf_1": "张运维"})
    return re.search(r'<td id="state">(.*?)</td>', page, re.S).group(1).strip()  # type: ignore[union-attr]


def test_the_chinese_console_writes_full_width_separators_after_its_labels() -> None:
    run = job_run("zh-CN")
    assert "<h1>任务运行：gateway / staff-sessions-cleanup</h1>" in run and "<title>任务运行：gateway" in run
    rule = segment_rule("zh-CN")
    assert "<li>等级：普通会员，VIP</li>" in rule and "<li>价值等级：重点客户</li>" in rule and "<li>归属门店：S001，S002</li>" in rule, rule
    assert dead_letter_state("zh-CN") == "已丢弃：张运维，2026-12-01 10:00:00，test data"
    for page in (run, rule):
        assert ASCII_AFTER_CHINESE.search(page) is None, ASCII_AFTER_CHINESE.search(page)


def test_the_english_console_keeps_its_colons_and_commas() -> None:
    assert "<h1>Job run: gateway / staff-sessions-cleanup</h1>" in job_run("en")
    rule = segment_rule("en")
    assert "<li>Tier: Member, VIP</li>" in rule and "<li>Home stores: S001, S002</li>" in rule, rule
    assert dead_letter_state("en") == "Discarded: 张运维, 2026-12-01 10:00:00, test data"


def test_no_template_writes_an_ascii_colon_after_a_translated_label() -> None:
    # `{{ _("Store") }}: ` reads "门店: S001" on the Chinese console: the separator is `{{ _(": ") }}`.
    written = {path.relative_to(TEMPLATES).as_posix(): path.read_text(encoding="utf-8") for path in Path(TEMPLATES).rglob("*.html")}
    found = [(name, hit.group(0)) for name, text in written.items()
             for hit in re.finditer(r'_\("[^"]+"\) }}(?:\{% [^%]*%\})?[:,] ', text)]
    assert found == []
