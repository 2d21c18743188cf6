"""Marketing builds segments on the console against real campaigns and gateway apps: the form's
audience previewed without saving, saved once however often it is sent, edited, archived; a part
of the rule campaigns refuses shown on the form's field; a rule made through the API shown as it
is; a role that may not write segments offered no form and refused its posts."""

import re

import httpx
import pytest

from shared.auth import Role
from tests.support.audience import sale
from tests.support.campaigns import CampaignsDriver
from tests.support.console import csrf_of, logged_in
from tests.support.identity import answering
from tests.support.marketing_console import gateway_over_campaigns, key_customers_at_risk
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(env: TestEnv, database_factory):
    async with gateway_over_campaigns(env, database_factory) as (gw, cmp):
        await key_customers_at_risk(cmp)
        yield gw, cmp


def new_form(html: str, **fields: str | list[str]) -> dict[str, str | list[str]]:
    key = re.search(r'<form id="segment-form".*?name="idempotency_key" value="([0-9a-f]{32})"', html, re.S)
    assert key, "the form has no key of its own"
    return {"csrf": csrf_of(html), "idempotency_key": key.group(1), "segment_name": "Key at risk", "description": "",
            "value_class": "key", "churn_risk": "high", "consent": "sms", **fields}


async def saved(cmp: CampaignsDriver) -> list[dict]:
    return list((await cmp.client.get("/v1/segments", params={"include_archived": "true"}, headers=cmp.marketing())).json())


async def test_marketing_previews_a_segment_then_saves_it_once_however_often_it_is_sent(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    listed = await gw.get("/console/segments")
    assert 'href="/console/segments/new"' in listed.text
    shown = await gw.get("/console/segments/new")
    assert shown.status_code == 200 and "新建客群" in shown.text
    form = new_form(shown.text)

    preview = await gw.post("/console/segments/preview", data=form, headers={"HX-Request": "true"})
    assert preview.status_code == 200, preview.text
    assert "当前有 2 位顾客符合。" in preview.text and "m-1" in preview.text and "m-3" not in preview.text
    assert 'href="/console/customers/' not in preview.text  # marketing may not open a customer: no link to a refusal
    assert await saved(cmp) == []  # a preview saves nothing

    answers = [await gw.post("/console/segments", data=form) for _ in range(2)]  # a double click
    assert [r.status_code for r in answers] == [303, 303], [r.text for r in answers]
    made = await saved(cmp)
    assert len(made) == 1 and made[0]["rule"] == {"and": [
        {"field": "value_class", "op": "in", "value": ["key"]}, {"field": "churn_risk", "op": "in", "value": ["high"]},
        {"field": "marketing_consent", "channel": "sms"}]}
    assert answers[0].headers["location"] == answers[1].headers["location"] == f"/console/segments/{made[0]['id']}?done=saved"
    page = await gw.get(answers[0].headers["location"])
    assert page.status_code == 200 and "客群已保存。" in page.text
    assert "价值等级：重点客户" in page.text and "同意接收短信营销" in page.text
    assert re.search(r'<p id="audience-size">当前有 2 位顾客符合。</p>', page.text), page.text
    assert f'href="/console/segments/{made[0]["id"]}"' in (await gw.get("/console/segments")).text


async def test_a_segment_s_page_leads_to_a_new_campaign_for_it(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    shown = await gw.get("/console/segments/new")
    made = await gw.post("/console/segments", data=new_form(shown.text))
    [segment] = await saved(cmp)
    page = await gw.get(made.headers["location"])
    link = f'href="/console/campaigns?segment_id={segment["id"]}#new-campaign"'
    assert link in page.text and "为该客群新建营销活动" in page.text
    campaigns = await gw.get(f"/console/campaigns?segment_id={segment['id']}")
    assert f'<option value="{segment["id"]}" selected>Key at risk</option>' in campaigns.text
    assert "selected>" not in (await gw.get("/console/campaigns")).text.split('id="c-segment"')[1].split("</select>")[0]


async def test_a_saved_segment_opens_in_the_form_and_is_changed_there(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    shown = await gw.get("/console/segments/new")
    made = await gw.post("/console/segments", data=new_form(shown.text, spend_min="100.00"))
    segment_page = made.headers["location"].partition("?")[0]
    edit = await gw.get(f"{segment_page}/edit")
    assert edit.status_code == 200 and 'name="spend_min" value="100.00"' in edit.text
    assert '<option value="key" selected>' in edit.text and 'value="sms" checked' in edit.text
    changed = await gw.post(segment_page, data={"csrf": csrf_of(edit.text), "segment_name": "Key at risk, by e-mail", "description": "",
                                               "value_class": "key", "consent": "email"})
    assert changed.status_code == 303, changed.text
    [segment] = await saved(cmp)
    assert segment["version"] == 2 and segment["name"] == "Key at risk, by e-mail"
    assert segment["rule"] == {"and": [{"field": "value_class", "op": "in", "value": ["key"]},
                                       {"field": "marketing_consent", "channel": "email"}]}


async def test_the_value_class_of_customers_without_spend_is_named_for_what_it_is(stack, env) -> None:
    # Value class "none" is the customers with no net spend in the analytics window (docs/members.md),
    # a class a segment picks like the others: "None" / "无" read as no value class at all.
    gw, _ = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    option = r'<option value="none">(.*?)</option>'
    assert re.findall(option, (await gw.get("/console/segments/new")).text) == ["统计窗口内无净消费"]
    gw.cookies.set("crm_console_lang", "en")
    shown = await gw.get("/console/segments/new")
    assert re.findall(option, shown.text) == ["No net spend in the window"]
    made = await gw.post("/console/segments", data=new_form(shown.text, value_class=["key", "none"], churn_risk=[]))
    assert made.status_code == 303, made.text
    segment_page = (await gw.get(made.headers["location"])).text
    assert "<li>Value class: Key, No net spend in the window</li>" in segment_page


async def test_a_part_of_the_rule_campaigns_refuses_is_shown_on_its_field(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    shown = await gw.get("/console/segments/new")
    r = await gw.post("/console/segments", data=new_form(shown.text, idle_from="30", idle_to="7"), headers={"HX-Request": "true"})
    assert r.status_code == 422, r.text
    assert 'data-fields="idle_from"' in r.text and "距上次购买天数，至少：下限不能高于上限" in r.text
    # Spend at least 500 and at most 100 is a segment nobody can be in: refused the same way.
    r = await gw.post("/console/segments", data=new_form(shown.text, spend_min="500", spend_max="100"), headers={"HX-Request": "true"})
    assert r.status_code == 422 and 'data-fields="spend_min"' in r.text and "下限不能高于上限" in r.text, r.text
    r = await gw.post("/console/segments/preview", data=new_form(shown.text, category_days="60"), headers={"HX-Request": "true"})
    assert r.status_code == 422 and 'data-fields="categories"' in r.text, r.text
    # The segment's name, left blank: the segment's, not a person's (姓名).
    r = await gw.post("/console/segments", data=new_form(shown.text, segment_name=" "), headers={"HX-Request": "true"})
    assert r.status_code == 422 and 'data-fields="segment_name"' in r.text and "客群名称：" in r.text and "姓名" not in r.text, r.text
    assert await saved(cmp) == []


async def test_a_bound_of_a_range_campaigns_refuses_is_shown_once_on_its_own_box(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    shown = await gw.get("/console/segments/new")
    r = await gw.post("/console/segments/preview", data=new_form(shown.text, spend_min="100.5", spend_max="abc"),
                      headers={"HX-Request": "true"})
    assert r.status_code == 422, r.text
    assert re.fullmatch(r'\s*<p class="refusal" data-fields="spend_max">[^<：]+：应为金额，如 20.00</p>\s*', r.text), r.text
    assert await saved(cmp) == []


@pytest.mark.parametrize(("rule", "loc", "msg"), [
    ({"and": [{"field": "lifetime_spend", "op": "between", "value": ["100.5", "abc"]}]}, ["and", 0, "value", 1],
     "Input should be a valid decimal"),
    ({"field": "recency", "op": "gt", "value": 7}, ["value"], "Input should be less than or equal to 5"),
    ({"or": [{"not": {"field": "tier", "op": "gte", "value": ["vip"]}}]}, ["or", 0, "not", "op"], "Input should be 'in' or 'not_in'"),
])
async def test_an_api_client_is_told_the_place_in_the_rule_it_sent(stack, env, rule, loc, msg) -> None:
    """Through the gateway as from campaigns: one refusal, at the keys and indexes of the body sent,
    as the gateway's own refusal of a store names its place."""
    gw, _ = stack
    r = await gw.post("/api/campaigns/v1/segments/preview", json={"rule": rule}, headers=env.auth(Role.MARKETING))
    assert r.status_code == 422, r.text
    assert [(e["loc"], e["msg"]) for e in r.json()["detail"]] == [(["body", "rule", *loc], msg)], r.text


async def test_a_home_store_the_chain_never_had_is_refused_on_its_field_before_campaigns_sees_it(stack, env) -> None:
    # Campaigns checks a store id's format only: "S999", or "s001" typed in lower case, would be a
    # segment of nobody, saved and launched without a word.
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    shown = await gw.get("/console/segments/new")
    for path in ("/console/segments/preview", "/console/segments"):
        r = await gw.post(path, data=new_form(shown.text, home_store="S999"), headers={"HX-Request": "true"})
        assert r.status_code == 422, r.text
        assert 'data-fields="home_store"' in r.text and "门店 S999 不存在" in r.text, r.text
    assert await saved(cmp) == []
    assert (await gw.put("/api/v1/stores/S001", json={"name": "store S001"}, headers=env.auth(Role.ADMIN))).status_code == 200
    r = await gw.post("/console/segments", data=new_form(shown.text, home_store="S001"))
    assert r.status_code == 303, r.text
    [segment] = await saved(cmp)
    assert {"field": "home_store", "op": "in", "value": ["S001"]} in segment["rule"]["and"]


async def test_a_rule_made_through_the_api_is_shown_as_it_is_and_not_in_the_form(stack, env) -> None:
    gw, cmp = stack
    rule = {"or": [{"field": "tier", "op": "in", "value": ["vip"]}, {"not": {"field": "churn_risk", "op": "in", "value": ["low"]}}]}
    r = await cmp.client.post("/v1/segments", json={"name": "VIP or at risk", "rule": rule}, headers=cmp.marketing())
    assert r.status_code == 201, r.text
    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get(f"/console/segments/{r.json()['id']}")
    assert page.status_code == 200 and 'id="rule-by-api"' in page.text and '"or": [' in page.text.replace("&#34;", '"')
    assert 'id="edit-segment"' not in page.text and 'id="segment-rule"' not in page.text
    edit = await gw.get(f"/console/segments/{r.json()['id']}/edit")
    assert edit.status_code == 303 and edit.headers["location"] == f"/console/segments/{r.json()['id']}"


async def test_a_segment_is_archived_once_the_box_is_ticked(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    made = await gw.post("/console/segments", data=new_form((await gw.get("/console/segments/new")).text))
    segment_page = made.headers["location"].partition("?")[0]
    page = await gw.get(segment_page)
    assert 'id="archive-segment"' in page.text
    unticked = await gw.post(f"{segment_page}/archive", data={"csrf": csrf_of(page.text)}, headers={"HX-Request": "true"})
    assert unticked.status_code == 422 and 'data-fields="confirm"' in unticked.text
    assert (await saved(cmp))[0]["status"] == "active"
    archived = await gw.post(f"{segment_page}/archive", data={"csrf": csrf_of(page.text), "confirm": "yes"})
    assert archived.status_code == 303 and archived.headers["location"] == f"{segment_page}?done=archived"
    assert (await saved(cmp))[0]["status"] == "archived"
    after = await gw.get(archived.headers["location"])
    assert "客群已归档。" in after.text and 'id="archive-segment"' not in after.text and 'id="edit-segment"' not in after.text


async def test_a_role_that_may_not_write_segments_gets_no_form_and_its_posts_are_refused(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "sun.yunwei", "operator")
    assert 'href="/console/segments/new"' not in (await gw.get("/console")).text
    r = await gw.get("/console/segments/new")
    assert r.status_code == 403 and 'id="segment-form"' not in r.text
    csrf = csrf_of(r.text) if 'name="csrf"' in r.text else gw.cookies.get("crm_console_csrf", path="/console")
    posted = await gw.post("/console/segments", data={"csrf": csrf, "idempotency_key": "a" * 32, "segment_name": "x", "tier": "vip"})
    assert posted.status_code == 403, posted.text
    assert await saved(cmp) == []


async def test_a_segment_form_without_the_csrf_token_is_refused(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    form = new_form((await gw.get("/console/segments/new")).text)
    for path in ("/console/segments", "/console/segments/preview"):
        r = await gw.post(path, data={**form, "csrf": "0" * 64})
        assert r.status_code == 403 and "表单已过期" in r.text, r.text
    assert await saved(cmp) == []


async def test_a_category_typed_as_the_name_the_console_shows_is_sent_as_its_code(stack, env) -> None:
    gw, cmp = stack
    await cmp.apply(sale("m-1", [("fresh", "50.00")], at=cmp.clock.now))
    await logged_in(gw, env, "zhao.shichang", "marketing")
    shown = await gw.get("/console/segments/new")
    # The known categories are offered on the box, by code, each labelled as the console shows it.
    assert 'id="s-categories" name="categories" list="known-categories"' in shown.text, shown.text
    assert '<option value="fresh" label="生鲜">' in shown.text
    by_name, by_code = ({"categories": typed, "category_days": "30", "consent": []} for typed in ("生鲜", "fresh"))
    previews = [await gw.post("/console/segments/preview", data=new_form(shown.text, **form), headers={"HX-Request": "true"})
                for form in (by_name, by_code)]
    assert [p.status_code for p in previews] == [200, 200], [p.text for p in previews]
    assert all("当前有 1 位顾客符合。" in p.text for p in previews), [p.text for p in previews]
    # A code the console does not know (a chain's own) is sent as typed.
    made = await gw.post("/console/segments", data=new_form(shown.text, categories="生鲜, 彩票", category_days="30"))
    assert made.status_code == 303, made.text
    [segment] = await saved(cmp)
    assert {"field": "categories_bought", "categories": ["fresh", "彩票"], "days": 30} in segment["rule"]["and"]


def communities(request: httpx.Request) -> httpx.Response:
    """Members' communities, biggest first: C1 among them (the test customers' community)."""
    items = [{"id": "C1", "name": "阳光花园", "aliases": [], "member_count": 3, "household_count": 2}]
    return httpx.Response(200, json={"items": items, "total": 1, "limit": 500, "offset": 0})


def sample_of(html: str) -> str:
    return html.split('id="audience-sample"')[1].split("</table>")[0]


async def test_the_preview_names_each_customer_s_community_and_home_store_from_one_read_of_each(stack, env) -> None:
    gw, _ = stack
    r = await gw.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=env.auth(Role.ADMIN))
    assert r.status_code == 200, r.text
    await logged_in(gw, env, "zhao.shichang", "marketing")
    form = new_form((await gw.get("/console/segments/new")).text)
    async with answering(gw, "members", communities) as asked:
        preview = await gw.post("/console/segments/preview", data=form, headers={"HX-Request": "true"})
        made = await gw.post("/console/segments", data=new_form((await gw.get("/console/segments/new")).text))
        page = await gw.get(made.headers["location"])
    for shown in (preview, page):
        assert shown.status_code == 200, shown.text
        sample = sample_of(shown.text)
        assert sample.count("<td>阳光花园</td>") == 2 and sample.count("<td>城东大卖场</td>") == 2, sample
        assert "<td>C1</td>" not in sample and "<td>S001</td>" not in sample
    # One read of the communities per page, however many customers the sample shows.
    assert [(q.url.path, q.url.params.get("limit")) for q in asked] == [("/v1/communities", "500")] * 2


async def test_with_members_away_the_preview_shows_the_communities_by_id(stack, env) -> None:
    gw, _ = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    form = new_form((await gw.get("/console/segments/new")).text)
    preview = await gw.post("/console/segments/preview", data=form, headers={"HX-Request": "true"})
    assert preview.status_code == 200, preview.text
    assert sample_of(preview.text).count("<td>C1</td>") == 2
