"""The earning rules on the console against real points and gateway apps: every version listed
with the one in force and who added it; an admin's new version added once however often the form
is sent, starting now or at a local time; a line the form cannot read and a rate points refuses
shown on their box; a role that may not change the rules offered no form and refused its post."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.auth import Role
from tests.support.console import csrf_of, logged_in
from tests.support.platform import TestEnv
from tests.support.points_console import gateway_over_points

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(env: TestEnv, database_factory):
    async with gateway_over_points(env, database_factory) as (gw, pts):
        yield gw, pts


def rule_form(html: str, **fields: str) -> dict[str, str]:
    key = re.search(r'<form id="rule-form".*?name="idempotency_key" value="([0-9a-f]{32})"', html, re.S)
    assert key, "the form has no key of its own"
    return {"csrf": csrf_of(html), "idempotency_key": key.group(1), "effective_from": "", "points_per_yuan": "1",
            "min_sale_amount": "0.00", "channel_rates": "", "store_rates": "", "category_multipliers": "",
            "excluded_categories": "", "rule_reason": "double points on fresh food", **fields}


async def versions(pts, env: TestEnv) -> list[dict]:
    return list((await pts.get("/v1/earning-rules", headers=env.auth(Role.ADMIN))).json())


async def test_an_admin_adds_a_version_once_however_often_the_form_is_sent(stack, env) -> None:
    gw, pts = stack
    await logged_in(gw, env, "qian.admin", "admin")
    shown = await gw.get("/console/earning-rules")
    assert shown.status_code == 200, shown.text
    assert re.search(r'<tr id="version-1">\s*<th scope="row">1\s*<span class="badge">生效中</span>', shown.text), shown.text
    form = rule_form(shown.text, category_multipliers="fresh = 2\n\n 乳制品 ＝ 1.5 ", excluded_categories="tobacco, 彩票",
                     channel_rates="partner = 1.2")

    answers = [await gw.post("/console/earning-rules", data=form) for _ in range(2)]  # a double click
    assert [r.status_code for r in answers] == [303, 303], [r.text for r in answers]
    assert answers[0].headers["location"] == answers[1].headers["location"] == "/console/earning-rules?added=2#version-2"
    kept = await versions(pts, env)
    assert [v["version"] for v in kept] == [1, 2]
    # 乳制品 is the name the console shows for dairy: kept as its code; 彩票, no known category, as typed.
    assert kept[1]["category_multipliers"] == {"fresh": "2", "dairy": "1.5", "tobacco": "0", "彩票": "0"}
    assert kept[1]["channel_rates"] == {"partner": "1.2"} and kept[1]["reason"] == "double points on fresh food"
    assert datetime.fromisoformat(kept[1]["effective_from"]) <= datetime.now(UTC)  # left empty: from now

    other = await gw.post("/console/earning-rules", data={**form, "rule_reason": "another rule"}, headers={"HX-Request": "true"})
    assert other.status_code == 409 and "此表单已用于另一项操作" in other.text, other.text

    page = await gw.get(answers[0].headers["location"])
    assert "已添加版本 2。" in page.text
    assert re.search(r'<tr id="version-2">\s*<th scope="row">2\s*<span class="badge">生效中</span>', page.text)
    assert "生鲜 × 2" in page.text and "qian.admin" in page.text  # the code, said as the console says it
    # The next form starts from the latest version, excluded categories apart from the multipliers.
    assert re.search(r'name="category_multipliers" rows="3">fresh = 2\ndairy = 1.5</textarea>', page.text), page.text
    assert re.search(r'name="excluded_categories" rows="3">tobacco\n彩票</textarea>', page.text)


async def test_a_version_starts_at_the_local_time_typed_and_is_shown_scheduled(stack, env) -> None:
    gw, pts = stack
    await logged_in(gw, env, "qian.admin", "admin")
    local = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    shanghai = local.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)  # the chain's time, as the form takes it
    form = rule_form((await gw.get("/console/earning-rules")).text, effective_from=shanghai.strftime("%Y-%m-%dT%H:%M"))
    r = await gw.post("/console/earning-rules", data=form)
    assert r.status_code == 303, r.text
    assert datetime.fromisoformat((await versions(pts, env))[1]["effective_from"]) == local
    page = await gw.get("/console/earning-rules")
    assert re.search(r'<tr id="version-2">\s*<th scope="row">2\s*<span class="badge">待开始</span>', page.text)
    assert re.search(r'<tr id="version-1">\s*<th scope="row">1\s*<span class="badge">生效中</span>', page.text)


@pytest.mark.parametrize(("fields", "marked", "says"), [
    ({"category_multipliers": "fresh 2"}, "category_multipliers", "品类倍数（品类 = 倍数，每行一个）：第 1 行不是“名称 = 倍率”的格式：fresh 2"),
    ({"channel_rates": "partner = 0"}, "channel_rates.partner", "渠道倍率 partner：0 须大于 0、不超过 100"),
    ({"category_multipliers": "tobacco = 2", "excluded_categories": "tobacco"}, "category_multipliers", "tobacco 同时被排除"),
    ({"effective_from": "2020-01-01T08:00"}, "effective_from", "生效时间（留空：立即）"),
    ({"effective_from": "next monday"}, "effective_from", "生效时间（留空：立即）"),
    ({"rule_reason": "  "}, "rule_reason", "原因（随版本保存）"),
])
async def test_what_the_form_or_points_refuses_is_shown_on_its_box(stack, env, fields, marked, says) -> None:
    gw, pts = stack
    await logged_in(gw, env, "qian.admin", "admin")
    form = rule_form((await gw.get("/console/earning-rules")).text, **fields)
    r = await gw.post("/console/earning-rules", data=form, headers={"HX-Request": "true"})
    assert r.status_code == 422, r.text
    assert f'data-fields="{marked}"' in r.text and says in r.text, r.text
    assert [v["version"] for v in await versions(pts, env)] == [1]


async def test_marketing_reads_the_rules_and_is_offered_no_form(stack, env) -> None:
    gw, pts = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get("/console/earning-rules")
    assert page.status_code == 200 and "版本" in page.text
    assert 'id="rule-form"' not in page.text and 'href="/console/earning-rules"' in page.text  # in the menu
    refused = await gw.post("/console/earning-rules", data={"csrf": csrf_of(page.text), "idempotency_key": "k" * 32,
                                                            "points_per_yuan": "5", "rule_reason": "mine"})
    assert refused.status_code == 403
    assert [v["version"] for v in await versions(pts, env)] == [1]


async def store(gw, env: TestEnv, store_id: str) -> None:
    r = await gw.put(f"/api/v1/stores/{store_id}", json={"name": f"store {store_id}"}, headers=env.auth(Role.ADMIN))
    assert r.status_code == 200, r.text


async def test_a_category_typed_as_the_name_the_console_shows_is_kept_as_its_code(stack, env) -> None:
    gw, pts = stack
    await logged_in(gw, env, "qian.admin", "admin")
    shown = await gw.get("/console/earning-rules")
    # The known categories are listed by the boxes, each as the console shows it and by its code.
    assert "品类：" in shown.text and "生鲜 (fresh)，" in shown.text and "烟草 (tobacco)" in shown.text, shown.text
    form = rule_form(shown.text, category_multipliers="生鲜 = 2\nFresh food = 3", excluded_categories="烟草")
    twice = await gw.post("/console/earning-rules", data=form, headers={"HX-Request": "true"})
    assert twice.status_code == 422 and 'data-fields="category_multipliers"' in twice.text, twice.text
    assert "fresh 填写了两次" in twice.text
    form["category_multipliers"] = "生鲜 = 2\n彩票 = 1.5"  # a code of the chain's own is kept as typed
    r = await gw.post("/console/earning-rules", data=form)
    assert r.status_code == 303, r.text
    assert (await versions(pts, env))[1]["category_multipliers"] == {"fresh": "2", "彩票": "1.5", "tobacco": "0"}


async def test_a_store_rate_is_for_a_store_the_chain_has_or_had(stack, env) -> None:
    gw, pts = stack
    await store(gw, env, "S001")
    await logged_in(gw, env, "qian.admin", "admin")
    form = rule_form((await gw.get("/console/earning-rules")).text, store_rates="S001 = 1.5\nS009 = 2")
    r = await gw.post("/console/earning-rules", data=form, headers={"HX-Request": "true"})
    assert r.status_code == 422 and 'data-fields="store_rates"' in r.text and "门店 S009 不存在" in r.text, r.text
    assert [v["version"] for v in await versions(pts, env)] == [1]
    r = await gw.post("/console/earning-rules", data={**form, "store_rates": "S001 = 1.5"})
    assert r.status_code == 303, r.text
    assert (await versions(pts, env))[1]["store_rates"] == {"S001": "1.5"}


async def test_the_seeded_rule_s_reason_is_worded_in_the_person_s_language_and_a_person_s_own_as_written(stack, env) -> None:
    gw, _ = stack
    await logged_in(gw, env, "qian.admin", "admin")
    seeded = "default: 1 point per whole yuan of a sale"  # as points seeds it, in English
    # A person may write the same words: theirs are shown as they wrote them.
    form = rule_form((await gw.get("/console/earning-rules")).text, rule_reason=seeded)
    assert (await gw.post("/console/earning-rules", data=form)).status_code == 303

    def reasons(html: str) -> dict[str, str]:
        return dict(re.findall(r'<tr id="version-(\d+)">.*?<td>([^<]*)</td>\s*<td>[^<]*?[,，] ?\d{4}-', html, re.S))

    chinese = (await gw.get("/console/earning-rules")).text
    assert reasons(chinese) == {"1": "默认：每笔消费每满 1 元积 1 分", "2": seeded}, chinese
    gw.cookies.set("crm_console_lang", "en")
    english = (await gw.get("/console/earning-rules")).text
    assert reasons(english) == {"1": "Default: 1 point per whole yuan of a sale", "2": seeded}, english
