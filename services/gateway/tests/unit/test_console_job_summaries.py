"""A job's summary as the operators read it on the jobs page: each figure named in their language
through the catalogue, not by the key the job wrote."""

from zoneinfo import ZoneInfo

import pytest

from gateway.api.console import catalogue
from gateway.api.console.render import JOB_FIGURES, environment

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shown(summary: object, language: str = "zh-CN") -> str:
    return environment(language).from_string("{{ s|job_summary }}").render(s=summary, lang=language, zone=SHANGHAI)


def test_the_figures_of_a_job_s_summary_are_named_in_chinese() -> None:
    assert shown({"newly_revoked": 0, "no_longer_held": 2}) == "新列入吊销：0，移出吊销名单：2"
    assert shown({"sessions_deleted": 3}) == "已删除的会话：3"


def test_in_english_the_figures_read_as_words_not_keys() -> None:
    assert shown({"newly_revoked": 0, "no_longer_held": 2}, "en") == "newly revoked: 0, no longer revoked: 2"


def test_a_figure_no_word_is_known_for_keeps_its_key_and_its_moments_are_local() -> None:
    # A job added later names its own figures: shown as it wrote them, never hidden.
    assert shown({"brand_new": 1, "as_of": "2026-12-07T00:00:00+00:00"}) == "brand_new：1，业务时间：2026-12-07 08:00:00"


def test_every_figure_s_word_is_in_the_chinese_catalogue() -> None:
    zh_cn = catalogue.read("zh-CN")
    assert [word for word in JOB_FIGURES.values() if not (zh_cn.get(word) and zh_cn.get(word).string)] == []


def test_every_service_s_cleanup_and_the_bulk_bonus_run_name_their_figures_in_words() -> None:
    assert shown({"deleted": 0}) == "已删除的已处理事件编号：0"
    assert shown({"jobs": 0, "booked": 0}) == "批量奖励任务：0，已发放：0"


def test_a_yes_or_no_and_a_count_by_code_read_in_the_operator_s_language() -> None:
    # As the tier review and value analytics write them: not Python's True, nor the codes.
    assert shown({"held_now": True, "reused": False}) == "本次已评审：是，沿用当天结果：否"
    assert shown({"churn": {"low": 158, "lost": 15}}) == "流失风险：低：158，已流失：15"
    assert shown({"held_now": True}, "en") == "held now: yes"
    assert "window_spend_total" not in shown({"window_spend_total": "882508.90", "key_min_spend": "3654.30"})
