"""Marketing's pages on the console against real campaigns and gateway apps: the segments, the
campaigns, a campaign launched, paused and ended from its page, and its results against its
control group drawn as charts; a role that may not read campaigns is told so by campaigns, and one
that may not change them is offered no button to."""

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import jwt
import pytest
from openpyxl import load_workbook

from shared.auth import Role
from shared.policy import POLICY
from shared.reports import XLSX_MEDIA_TYPE
from tests.support.audience import attributes, consent, registered, sale
from tests.support.campaigns import CampaignsDriver
from tests.support.console import csrf_of, log_in, logged_in
from tests.support.factories import keyed
from tests.support.identity import admin, answering
from tests.support.marketing_console import gateway_over_campaigns
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration
AUDIENCE = {"and": [{"field": "community", "op": "in", "value": ["C1"]}]}


async def c1_segment(cmp: CampaignsDriver) -> str:
    """Marketing's segment of the C1 community (AUDIENCE); its id."""
    r = await cmp.client.post("/v1/segments", json={"name": "C1 key customers", "rule": AUDIENCE}, headers=cmp.marketing())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def key_customers(cmp: CampaignsDriver, count: int, control_share: str, name: str) -> tuple[list[str], dict]:
    """`count` key customers at high risk in C1 who agreed to marketing SMS (m-00, m-01, ...), and
    the spec of a coupon campaign to them holding `control_share` out."""
    members = [f"m-{i:02d}" for i in range(count)]
    await cmp.apply(*(e for m in members for e in (registered(m), attributes(m, value_class="key", churn_risk="high", community_id="C1"),
                                                   consent(m, "marketing_sms", True))))
    return members, {"name": name, "kind": "one_off", "segment_id": await c1_segment(cmp), "coupon_template_id": await cmp.template(),
                     "message": {"template": "coupon_offer"}, "control_share": control_share}


async def launched_to_key_customers(
    cmp: CampaignsDriver, count: int, control_share: str, name: str = "Win them back",
) -> tuple[list[str], dict]:
    """The key customers of `key_customers`, and a coupon campaign launched to them: the members
    and the campaign."""
    members, spec = await key_customers(cmp, count, control_share, name)
    return members, await cmp.launched(**spec)


async def drafted_to_key_customers(cmp: CampaignsDriver, count: int, control_share: str, name: str = "Win them back") -> dict:
    """The campaign of `launched_to_key_customers` drafted by marketing and not launched."""
    _, spec = await key_customers(cmp, count, control_share, name)
    r = await cmp.client.post("/v1/campaigns", json=spec, headers=keyed(cmp.marketing()))
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.fixture
async def stack(env: TestEnv, database_factory):
    async with gateway_over_campaigns(env, database_factory) as (gw, cmp):
        yield gw, cmp


async def test_marketing_sees_a_campaign_s_redemption_and_uplift_against_control(stack, env) -> None:
    gw, cmp = stack
    # Enough members that the quarter held out is never fewer than the two an interval needs
    # (the split follows the campaign's random id).
    members, launched = await launched_to_key_customers(cmp, 60, control_share="0.25")
    treated, held_out = launched["treatment_size"], launched["control_size"]
    assert treated and held_out
    cmp.clock.advance(minutes=5)
    reached = {e["member_id"] for e in await cmp.outbox("crm.campaigns.coupon_issued.v1")}
    await cmp.apply(*(sale(m, [("grain", "150.00")], at=cmp.clock.now) for m in sorted(reached)))
    # Two held-out members buy a little: groups that each spent alike to the cent would give no
    # interval at all (there is no spread to estimate one from).
    held = sorted(set(members) - reached)[:2]
    await cmp.apply(*(sale(m, [("grain", amount)], at=cmp.clock.now) for m, amount in zip(held, ("10.00", "30.00"), strict=True)))

    await logged_in(gw, env, "zhao.shichang", "marketing")
    listed = await gw.get("/console/campaigns")
    assert listed.status_code == 200 and "Win them back" in listed.text
    # states and channels read as words of the person's language, not the codes campaigns keeps
    row = re.search(rf'data-campaign="{launched["id"]}">(.*?)</tr>', listed.text, re.S)
    assert row and "<td>进行中</td><td>短信</td>" in row.group(1), listed.text
    segments = (await gw.get("/console/segments")).text
    segment = re.search(r"<tr><td>C1 key customers</td>(.*?)</tr>", segments, re.S)
    assert segment and "<td>启用</td>" in segment.group(1) and "active" not in segment.group(1), segments
    page = await gw.get(f"/console/campaigns/{launched['id']}")
    assert page.status_code == 200, page.text
    assert f"{treated} / {held_out}" in page.text
    assert re.search(r"<th scope=\"row\">状态</th><td>进行中</td>", page.text), page.text
    assert page.text.count("<svg") >= 3 and 'data-uplift="spend_uplift"' in page.text
    uplift = re.search(r'data-uplift="spend_uplift".*?<figcaption>\s*([^<]*)</figcaption>', page.text, re.S)
    assert uplift and "显著" in uplift.group(1) and "不显著" not in uplift.group(1)
    assert str(Decimal("150.00")) in page.text  # treated spend per member


async def test_the_lists_head_a_campaign_s_and_a_segment_s_name_not_a_person_s(stack, env) -> None:
    gw, cmp = stack
    await c1_segment(cmp)
    await logged_in(gw, env, "zhao.shichang", "marketing")
    for path, heading in [("/console/campaigns", "活动名称"), ("/console/segments", "客群名称")]:
        head = re.search(r"<thead>(.*?)</thead>", (await gw.get(path)).text, re.S)
        assert head and f'<th scope="col">{heading}</th>' in head.group(1) and "姓名" not in head.group(1), path


async def test_an_operator_is_told_campaigns_are_not_theirs(stack, env) -> None:
    gw, _ = stack
    await logged_in(gw, env, "sun.yunwei", "operator")
    assert "/console/campaigns" not in (await gw.get("/console")).text
    r = await gw.get("/console/campaigns")
    assert r.status_code == 403 and "无权执行此操作" in r.text


async def test_a_campaign_that_held_nobody_out_is_not_compared_with_a_control_group_of_none(stack, env) -> None:
    """Campaigns answers a control group of no members with zeros per member: drawn as bars, the
    campaign would seem to lift spend from 0.00; the page says there is nothing to compare with."""
    gw, cmp = stack
    members, launched = await launched_to_key_customers(cmp, 4, control_share="0", name="Everyone")
    assert (launched["treatment_size"], launched["control_size"]) == (4, 0)
    cmp.clock.advance(minutes=5)
    await cmp.apply(*(sale(m, [("grain", "150.00")], at=cmp.clock.now) for m in members))

    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get(f"/console/campaigns/{launched['id']}")
    assert page.status_code == 200, page.text
    assert "4 / 0" in page.text
    assert '<p class="notice" id="no-control">本活动没有预留对照组，无从比较。</p>' in page.text
    assert "人均消费" not in page.text and "对照组</text>" not in page.text


def form_key(html: str, form_id: str) -> str:
    found = re.search(rf'<form id="{form_id}".*?name="idempotency_key" value="([0-9a-f]{{32}})"', html, re.S)
    assert found, f"the form {form_id} has no key of its own"
    return found.group(1)


async def test_a_campaign_form_sent_twice_makes_one_campaign_and_both_answers_show_it(stack, env) -> None:
    gw, cmp = stack
    segment_id, template_id = await c1_segment(cmp), await cmp.template(name="满100减20")
    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get("/console/campaigns")
    assert page.status_code == 200, page.text
    assert f'<option value="{segment_id}">C1 key customers</option>' in page.text
    assert f'<option value="{template_id}">满100减20</option>' in page.text
    form = {"csrf": csrf_of(page.text), "idempotency_key": form_key(page.text, "new-campaign"), "campaign_name": "Win them back",
            "kind": "one_off", "segment_id": segment_id, "trigger": "win_back", "coupon_template_id": template_id,
            "message_template": "coupon_offer", "tip": "", "control_share": "0.25", "channel": "sms"}
    # A double click: the browser sends the form twice before the first answer comes.
    answers = [await gw.post("/console/campaigns", data=form) for _ in range(2)]
    assert [r.status_code for r in answers] == [303, 303], [r.text for r in answers]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    made = (await cmp.client.get("/v1/campaigns", headers=cmp.marketing())).json()
    assert [(c["name"], c["kind"], c["segment_id"], c["trigger"], c["coupon_template_id"], c["control_share"], c["state"])
            for c in made] == [("Win them back", "one_off", segment_id, None, template_id, "0.250", "draft")]
    assert answers[0].headers["location"] == f"/console/campaigns/{made[0]['id']}"
    shown = await gw.get(answers[0].headers["location"])
    assert shown.status_code == 200 and "Win them back" in shown.text, shown.text
    listed = await gw.get("/console/campaigns")
    assert listed.text.count(f'data-campaign="{made[0]["id"]}"') == 1
    # The next form is another campaign, under a key of its own.
    assert form["idempotency_key"] not in listed.text


@pytest.mark.parametrize(("message", "coupon", "marked", "said"), [
    # The box that gives it, not the template's parameter (`tip`).
    ("service_tip", True, "message.params", "消息：提示消息需要提示内容：请填写提示内容"),
    # Campaigns refuses a message announcing a coupon the campaign does not give: at the coupon box.
    ("coupon_offer", False, "coupon_template_id", "优惠券模板：“所发优惠券”消息告诉顾客优惠券已放入会员卡包：请选择优惠券模板，或换一条消息"),
])
async def test_a_message_the_campaign_gives_nothing_for_is_refused_in_the_persons_words(stack, env, message, coupon, marked, said) -> None:
    gw, cmp = stack
    segment_id, template_id = await c1_segment(cmp), await cmp.template(name="满100减20")
    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get("/console/campaigns")
    form = {"csrf": csrf_of(page.text), "idempotency_key": form_key(page.text, "new-campaign"), "campaign_name": "Tips",
            "kind": "one_off", "segment_id": segment_id, "trigger": "win_back", "coupon_template_id": template_id if coupon else "",
            "message_template": message, "tip": "", "control_share": "0", "channel": "sms"}
    refused = await gw.post("/console/campaigns", data=form, headers={"HX-Request": "true"})
    assert refused.status_code == 422, refused.text
    assert re.fullmatch(rf'\s*<p class="refusal" data-fields="{marked}">{re.escape(said)}</p>\s*', refused.text), refused.text
    assert (await cmp.client.get("/v1/campaigns", headers=cmp.marketing())).json() == []


@pytest.mark.parametrize(("change", "marked", "said"), [
    ({"segment_id": ""}, "segment_id", "客群（一次性活动）：请选择客群"),
    ({"kind": "triggered", "trigger": ""}, "trigger", "时机：请选择时机"),
    ({"control_share": "abc"}, "control_share", "对照组比例（0 至 0.5）：应为数字，如 0.1"),
])
async def test_a_campaign_refused_for_a_box_marks_it_and_says_it_in_the_form_s_words(stack, env, change, marked, said) -> None:
    gw, cmp = stack
    segment_id, template_id = await c1_segment(cmp), await cmp.template(name="满100减20")
    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get("/console/campaigns")
    form = {"csrf": csrf_of(page.text), "idempotency_key": form_key(page.text, "new-campaign"), "campaign_name": "Tips",
            "kind": "one_off", "segment_id": segment_id, "trigger": "", "coupon_template_id": template_id,
            "message_template": "", "tip": "", "control_share": "0", "channel": "sms", **change}
    refused = await gw.post("/console/campaigns", data=form, headers={"HX-Request": "true"})
    assert refused.status_code == 422, refused.text
    assert re.fullmatch(rf'\s*<p class="refusal" data-fields="{marked}">{re.escape(said)}</p>\s*', refused.text), refused.text


async def test_a_template_taking_off_more_than_its_threshold_is_refused_on_the_amount(stack, env) -> None:
    gw, _ = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get("/console/campaigns")
    form = {"csrf": csrf_of(page.text), "idempotency_key": form_key(page.text, "new-template"), "template_name": "满5减10",
            "kind": "threshold", "amount": "10", "threshold": "5", "percent": "", "max_discount": "", "days": "30"}
    refused = await gw.post("/console/coupon-templates", data=form, headers={"HX-Request": "true"})
    assert refused.status_code == 422, refused.text
    assert re.fullmatch(r'\s*<p class="refusal" data-fields="amount">减免金额（元）：优惠金额不能超过使用门槛</p>\s*', refused.text), refused.text


@pytest.mark.parametrize(("path", "box", "label"), [("/console/campaigns", "campaign_name", "活动名称"),
                                                   ("/console/coupon-templates", "template_name", "模板名称")])
async def test_a_blank_name_is_refused_as_the_records_name_on_its_box(stack, env, path, box, label) -> None:
    """Not as a person's name (姓名), which is what the console calls a plain `name`."""
    gw, cmp = stack
    segment_id, template_id = await c1_segment(cmp), await cmp.template(name="满100减20")
    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get("/console/campaigns")
    forms = {
        "/console/campaigns": {"idempotency_key": form_key(page.text, "new-campaign"), "kind": "one_off", "segment_id": segment_id,
                               "coupon_template_id": template_id, "message_template": "", "control_share": "0", "channel": "sms"},
        "/console/coupon-templates": {"idempotency_key": form_key(page.text, "new-template"), "kind": "threshold", "amount": "50",
                                      "threshold": "200", "days": "30"},
    }
    refused = await gw.post(path, data={"csrf": csrf_of(page.text), box: "  ", **forms[path]}, headers={"HX-Request": "true"})
    assert refused.status_code == 422, refused.text
    assert f"{label}：" in refused.text and "姓名" not in refused.text, refused.text
    assert f'data-fields="{box}"' in refused.text, refused.text


async def test_a_coupon_template_form_sent_twice_makes_one_template(stack, env) -> None:
    gw, cmp = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get("/console/campaigns")
    form = {"csrf": csrf_of(page.text), "idempotency_key": form_key(page.text, "new-template"), "template_name": "满200减50",
            "kind": "threshold", "amount": "50", "threshold": "200", "percent": "", "max_discount": "", "days": "30"}
    answers = [await gw.post("/console/coupon-templates", data=form) for _ in range(2)]
    assert [r.status_code for r in answers] == [303, 303], [r.text for r in answers]
    made = (await cmp.client.get("/v1/coupon-templates", headers=cmp.marketing())).json()
    assert [(t["name"], t["kind"], t["spec"]["amount"], t["spec"]["threshold"], t["spec"]["validity"]["days"]) for t in made] == [
        ("满200减50", "threshold", "50.00", "200.00", 30)]
    assert answers[0].headers["location"] == answers[1].headers["location"] == f"/console/campaigns?template={made[0]['id']}#coupon-templates"
    shown = await gw.get(answers[0].headers["location"])
    assert shown.status_code == 200 and "优惠券模板已保存。" in shown.text
    row = re.search(rf'<tr data-template="{made[0]["id"]}" class="made">(.*?)</tr>', shown.text, re.S)
    assert row and "<td>满200减50</td><td>满减</td>" in row.group(1), shown.text
    # The same form sent again changed (the back button, another amount) is not taken for the first.
    r = await gw.post("/console/coupon-templates", data={**form, "csrf": csrf_of(shown.text), "amount": "40"})
    assert r.status_code == 409 and "此表单已用于另一项操作" in r.text, r.text
    assert len((await cmp.client.get("/v1/coupon-templates", headers=cmp.marketing())).json()) == 1
    # A key the page did not make is refused by the console before campaigns is asked.
    r = await gw.post("/console/coupon-templates", data={**form, "csrf": csrf_of(shown.text), "idempotency_key": "bad"})
    assert r.status_code == 422 and "表单已损坏或已过期" in r.text
    # More digits than Python reads as an integer: the box's refusal, not a server error.
    page = await gw.get("/console/campaigns")
    r = await gw.post("/console/coupon-templates", data={**form, "csrf": csrf_of(page.text), "days": "9" * 5000,
                                                        "idempotency_key": form_key(page.text, "new-template")})
    assert r.status_code == 422 and 'data-fields="validity.days"' in r.text, r.text


async def test_a_campaign_s_page_names_the_period_measured_and_downloads_its_results(stack, env) -> None:
    """Nobody bought yet: both groups spent 0.00 each, which gives no interval (not one of
    0.00 – 0.00, as if the effect were known); the page says why, and the window the figures
    cover, still open; the results download for the report to management."""
    gw, cmp = stack
    _, launched = await launched_to_key_customers(cmp, 20, control_share="0.5")
    assert launched["treatment_size"] >= 2 and launched["control_size"] >= 2
    cmp.clock.advance(hours=3)

    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get(f"/console/campaigns/{launched['id']}")
    assert page.status_code == 200, page.text
    shanghai = ZoneInfo("Asia/Shanghai")
    start = datetime.fromisoformat(launched["started_at"]).astimezone(shanghai)
    end = cmp.clock.now.astimezone(shanghai)
    assert (f'<td id="window">{start:%Y-%m-%d %H:%M:%S} – {end:%Y-%m-%d %H:%M:%S} (截至目前：活动尚未结束)</td>'
            in page.text), page.text
    uplift = re.search(r'data-uplift="spend_uplift".*?<figcaption>\s*([^<]*)</figcaption>', page.text, re.S)
    assert uplift and "无置信区间" in uplift.group(1) and "显著" not in uplift.group(1), page.text

    link = f"/console/campaigns/{launched['id']}/results?format=xlsx"
    assert f'<a href="{link}">下载 Excel</a>' in page.text
    r = await gw.get(link)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX_MEDIA_TYPE
    assert r.headers["content-disposition"] == f'attachment; filename="campaign-{launched["id"]}-results.xlsx"'
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = {row[0].value: [c.value for c in row] for row in sheet.iter_rows(min_row=2)}
    assert rows["window_start"][1] == f"{start:%Y-%m-%d %H:%M}"
    assert rows["members"][1:3] == [launched["treatment_size"], launched["control_size"]]
    csv = await gw.get(f"/console/campaigns/{launched['id']}/results?format=csv")
    assert csv.status_code == 200 and csv.text.startswith("\ufeff指标 Measure")
    assert (await gw.get(f"/console/campaigns/{launched['id']}/results?format=pdf")).status_code == 422


async def test_a_campaign_s_page_breaks_its_results_down_by_store_under_the_stores_names(stack, env) -> None:
    gw, cmp = stack
    r = await gw.put("/api/v1/stores/S001", json={"name": "城东店"}, headers=env.auth(Role.ADMIN))
    assert r.status_code in (200, 201), r.text
    _, launched = await launched_to_key_customers(cmp, 12, control_share="0.5")
    assert launched["treatment_size"] and launched["control_size"]
    cmp.clock.advance(minutes=5)
    reached = {e["member_id"] for e in await cmp.outbox("crm.campaigns.coupon_issued.v1")}
    # Every treated member spends 100.00 at S001 and nobody held out does; S002 is no store the gateway knows.
    await cmp.apply(*(sale(m, [("grain", "100.00")], at=cmp.clock.now) for m in reached),
                    sale(sorted(reached)[0], [("grain", "30.00")], at=cmp.clock.now, store="S002"))

    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get(f"/console/campaigns/{launched['id']}")
    assert page.status_code == 200, page.text
    table = re.search(r'<table id="by-store">(.*?)</table>', page.text, re.S)
    assert table, page.text
    s001 = re.search(r'<tr data-store="S001">(.*?)</tr>', table.group(1), re.S)
    assert s001 and "<td>城东店</td>" in s001.group(1) and "¥100.00" in s001.group(1) and "¥0.00" in s001.group(1)
    s002 = re.search(r'<tr data-store="S002"><td>(.*?)</td>', table.group(1), re.S)
    assert s002 and s002.group(1) == "S002"
    assert "分门店" in page.text


async def test_a_campaign_s_page_shows_the_coupons_withdrawn_at_an_erasure_beside_the_rate(stack, env) -> None:
    """Four coupons issued, one withdrawn when its holder's data was erased, one redeemed: the rate
    is 1 of the 3 still redeemable, and the withdrawn one is shown so that the figures add up."""
    gw, cmp = stack
    members, launched = await launched_to_key_customers(cmp, 4, control_share="0")
    code = await cmp.code_of(members[0])
    await cmp.apply(cmp.registered(members[0]))
    assert (await cmp.reserve([code])).json()["codes"][0]["ok"]
    cmp.clock.advance(minutes=5)
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}), cmp.erased(members[1]))

    await logged_in(gw, env, "zhao.shichang", "marketing")
    page = await gw.get(f"/console/campaigns/{launched['id']}")
    assert page.status_code == 200, page.text
    assert '<th scope="row">已收回优惠券（持有人资料已注销）</th><td id="withdrawn">1</td>' in page.text, page.text
    assert '<td id="redeemed">1 (33.3%)</td>' in page.text, page.text


SHANGHAI = ZoneInfo("Asia/Shanghai")


async def running_until(cmp: CampaignsDriver, ends_at: datetime) -> dict:
    """The key customers' campaign of `key_customers`, launched now to run until `ends_at`."""
    _, spec = await key_customers(cmp, 4, "0", "Until the 16th")
    return await cmp.launched(**spec, ends_at=ends_at.isoformat())


def shown_in(html: str, cell: str) -> str:
    found = re.search(rf'<td id="{cell}">([^<]*)</td>', html)
    assert found, html
    return found.group(1)


async def test_a_campaign_s_page_shows_its_end_as_the_last_second_it_runs_as_the_promotions_page_does(stack, env) -> None:
    """A campaign ending at midnight (an offer list's round) runs to 23:59:59 the day before: shown
    as "– 2026-12-17 00:00:00" it reads as if the 17th were included, and the promotions page says
    "2026-12-16 23:59:59" of the same round. The period measured once it ended says the same."""
    gw, cmp = stack
    ends = datetime(2026, 12, 17, 0, 0, tzinfo=SHANGHAI)
    launched = await running_until(cmp, ends)
    await logged_in(gw, env, "zhao.shichang", "marketing")
    here = f"/console/campaigns/{launched['id']}"

    assert shown_in((await gw.get(here)).text, "runs").endswith(" – 2026-12-16 23:59:59")
    cmp.clock.now = ends + timedelta(minutes=7)
    assert await cmp.run_job("campaign-schedule") == {"started": 0, "ended": 1}
    assert shown_in((await gw.get(here)).text, "window").endswith(" – 2026-12-16 23:59:59")


async def test_a_resume_refused_past_the_campaign_s_end_says_when_it_ended_in_the_chain_s_time(stack, env) -> None:
    gw, cmp = stack
    ends = datetime(2026, 12, 7, 7, 48, 41, tzinfo=UTC)  # 15:48:41 in Shanghai
    launched = await running_until(cmp, ends)
    assert (await cmp.client.post(f"/v1/campaigns/{launched['id']}/pause", headers=cmp.marketing())).status_code == 200
    await logged_in(gw, env, "zhao.shichang", "marketing")
    here = f"/console/campaigns/{launched['id']}"
    page = await gw.get(here)
    cmp.clock.now = ends + timedelta(minutes=1)  # the schedule job has not ended it yet

    refused = await gw.post(f"{here}/action", data={"csrf": csrf_of(page.text), "action": "resume"}, headers={"HX-Request": "true"})
    assert refused.status_code == 409, refused.text
    assert "活动已于 2026-12-07T15:48:41+08:00 结束" in refused.text and "07:48:41" not in refused.text, refused.text


def offered(html: str) -> list[str]:
    """The actions the campaign's page offers as buttons, in the page's order."""
    return re.findall(r'<form method="post" action="/console/campaigns/[^"]+/action".*?name="action" value="(\w+)"', html, re.S)


async def marketer(gw: httpx.AsyncClient, env: TestEnv) -> str:
    """Marketing's Zhao, logged in; their staff id, which the tokens they are given name."""
    r = await gw.post("/identity/v1/staff", headers=admin(env), json={"login": "zhao.shichang", "name": "Zhao", "role": "marketing"})
    assert r.status_code == 201, r.text
    assert (await log_in(gw, "zhao.shichang", r.json()["password"])).status_code == 303
    return str(r.json()["staff_id"])


def recording(gw: httpx.AsyncClient) -> list[httpx.Request]:
    """The requests the gateway sends campaigns from now on (campaigns answering them as ever)."""
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    gw.app.state.downstream.campaigns.event_hooks["request"].append(record)  # type: ignore[attr-defined]
    return sent


async def test_marketing_launches_a_draft_from_its_page_with_their_own_token(stack, env) -> None:
    """The draft's page says whom a launch reaches (campaigns' preview) beside the button, and that
    the comparison with its fifth held out comes once it has run; the launch goes to campaigns with
    the marketer's own token, and the page they come back to shows the campaign running."""
    gw, cmp = stack
    draft = await drafted_to_key_customers(cmp, 30, control_share="0.2")
    staff_id = await marketer(gw, env)
    preview = (await cmp.client.get(f"/v1/campaigns/{draft['id']}/preview", headers=cmp.marketing())).json()
    assert preview["audience"] == 30

    page = await gw.get(f"/console/campaigns/{draft['id']}")
    assert page.status_code == 200, page.text
    assert offered(page.text) == ["launch", "end"]
    assert (f'<p id="launch-reach">现在启动，将触达受众中同意接收联系的 30 位顾客中的 {preview["treatment"]} 位，'
            f'另留出 {preview["control"]} 位作为对照组。</p>') in page.text, page.text
    assert '<p class="notice" id="control-later">活动开始后才能与对照组比较：届时将随机留出 20% 的受众作为对照组。</p>' in page.text
    assert 'id="no-control"' not in page.text and "本活动没有预留对照组" not in page.text

    sent = recording(gw)
    r = await gw.post(f"/console/campaigns/{draft['id']}/action", data={"csrf": csrf_of(page.text), "action": "launch"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/console/campaigns/{draft['id']}?done=launch"
    posted = [q for q in sent if q.method == "POST"]
    assert [q.url.path for q in posted] == [f"/v1/campaigns/{draft['id']}/launch"]
    claims = jwt.decode(posted[0].headers["authorization"].removeprefix("Bearer "), options={"verify_signature": False})
    assert (claims["sub"], claims["role"]) == (staff_id, "marketing")
    assert await cmp.sizes(draft["id"]) == (preview["treatment"], preview["control"])

    shown = await gw.get(r.headers["location"])
    assert shown.status_code == 200, shown.text
    assert re.search(r'<th scope="row">状态</th><td>进行中</td>', shown.text), shown.text
    assert offered(shown.text) == ["pause", "end"] and 'id="launch-reach"' not in shown.text
    # Told it is done, where the person looks after pressing it; not that it was done already.
    assert '<p class="notice" role="status">活动已启动。</p>' in shown.text and "该活动已经启动。" not in shown.text


async def test_a_draft_over_its_budget_says_the_budget_limits_the_launch_not_the_template(stack, env) -> None:
    gw, cmp = stack
    _, spec = await key_customers(cmp, 5, "0", "Budgeted")
    r = await cmp.client.post("/v1/campaigns", json={**spec, "budget": {"max_coupons": 2}}, headers=keyed(cmp.marketing()))
    assert r.status_code == 201, r.text
    await marketer(gw, env)
    page = await gw.get(f"/console/campaigns/{r.json()['id']}")
    assert page.status_code == 200, page.text
    assert ('<p class="status-bad" id="launch-budget">启动需发放 5 张优惠券，而活动预算只允许发放 2 张：'
            '在提高预算或缩小客群之前，启动会被拒绝。</p>') in page.text, page.text
    # What it does, as set up: whom, the coupon and message by their names, when, within what.
    terms = re.search(r'<table class="card" id="terms"><tbody>(.*?)</tbody></table>', page.text, re.S)
    assert terms, page.text
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td[^>]*>([^<]*)</td></tr>', terms.group(1)))
    assert rows == {"类型": "一个客群，一次", "客群": "C1 key customers", "优惠券": "满100减20", "消息": "优惠券通知 · 短信",
                    "活动时间": "自启动起 – 至结束为止", "预算": "最多 2 张优惠券"}, rows


async def test_a_second_click_is_shown_as_done_and_an_action_the_state_refuses_is_told_in_the_form(stack, env) -> None:
    """A double click sends the form twice: campaigns refuses the second (409), the campaign being
    where the first took it, and the person is shown it done. An action the campaign has not taken
    (a page left open while a colleague ended it) is campaigns' refusal, in the form's message area."""
    gw, cmp = stack
    draft = await drafted_to_key_customers(cmp, 4, control_share="0.2")
    await logged_in(gw, env, "zhao.shichang", "marketing")
    here = f"/console/campaigns/{draft['id']}"
    htmx = {"HX-Request": "true"}
    launch = {"csrf": csrf_of((await gw.get(here)).text), "action": "launch"}
    answers = [await gw.post(f"{here}/action", data=launch, headers=htmx) for _ in range(2)]
    assert [(r.status_code, r.headers.get("hx-redirect")) for r in answers] == [(204, f"{here}?done=launch"), (204, f"{here}?already=launch")], \
        [r.text for r in answers]
    shown = await gw.get(f"{here}?already=launch")
    assert '<p class="notice" role="status">该活动已经启动。</p>' in shown.text, shown.text
    assert offered(shown.text) == ["pause", "end"]

    pause = {"csrf": csrf_of(shown.text), "action": "pause"}
    answers = [await gw.post(f"{here}/action", data=pause) for _ in range(2)]
    assert [(r.status_code, r.headers.get("location")) for r in answers] == [(303, f"{here}?done=pause"), (303, f"{here}?already=pause")]
    shown = await gw.get(f"{here}?already=pause")
    assert '<p class="notice" role="status">该活动已经暂停。</p>' in shown.text
    assert re.search(r'<th scope="row">状态</th><td>已暂停</td>', shown.text), shown.text
    assert offered(shown.text) == ["resume", "end"]

    # Ending cannot be undone: without its box ticked it is refused on the box, and nothing ends.
    unticked = await gw.post(f"{here}/action", data={"csrf": csrf_of(shown.text), "action": "end"}, headers=htmx)
    assert unticked.status_code == 422 and 'data-fields="confirm"' in unticked.text and "请勾选确认框" in unticked.text, unticked.text
    assert re.search(r'<th scope="row">状态</th><td>已暂停</td>', (await gw.get(here)).text)
    ended = await gw.post(f"{here}/action", data={"csrf": csrf_of(shown.text), "action": "end", "confirm": "yes"})
    assert (ended.status_code, ended.headers.get("location")) == (303, f"{here}?done=end")
    assert '<p class="notice" role="status">活动已结束。</p>' in (await gw.get(f"{here}?done=end")).text
    refused = await gw.post(f"{here}/action", data={"csrf": csrf_of(shown.text), "action": "resume"}, headers=htmx)
    assert refused.status_code == 409 and "hx-redirect" not in refused.headers
    assert refused.text.startswith('<p class="refusal"') and "该活动当前为“已结束”：现在不能执行此操作。" in refused.text, refused.text
    assert offered((await gw.get(here)).text) == []
    bad = await gw.post(f"{here}/action", data={"csrf": csrf_of(shown.text), "action": "delete"})
    assert bad.status_code == 422


DRAFT = {"id": "c-1", "name": "Win them back", "description": "", "kind": "one_off", "trigger": None, "segment_id": "s-1",
         "coupon_template_id": "t-1", "message": None, "control_share": "0.200", "marketing": True, "personalised": False,
         "channel": "sms", "starts_at": None, "ends_at": None, "budget": None, "budget_template_id": None, "state": "draft",
         "treatment_size": 0, "control_size": 0, "created_by": "staff-1", "created_at": "2026-12-01T02:00:00+00:00",
         "launched_at": None, "started_at": None, "ended_at": None}
NOBODY = {"members": 0, "buyers": 0, "spend_per_member": "0.00", "visits_per_member": "0.0000"}
NOTHING_YET = {"campaign_id": "c-1", "state": "draft", "window_start": None, "window_end": "2026-12-01T03:00:00+00:00",
               "treatment": NOBODY, "control": NOBODY, "issued": 0, "withdrawn": 0, "redeemed": 0, "redemption_rate": None,
               "discount_cost": "0.00", "spend_uplift": None, "visits_uplift": None, "by_store": []}


def campaigns_answering(campaign: dict, results: dict):
    """Campaigns as a stand-in answering the campaign `c-1`, its results and its launch preview."""
    answers = {"/v1/campaigns/c-1": campaign, "/v1/campaigns/c-1/results": results,
               "/v1/campaigns/c-1/preview": {"audience": 10, "treatment": 8, "control": 2, "coupons_needed": 8, "issue_cap": None,
                                             "fits_budget": True}}

    def answer(request: httpx.Request) -> httpx.Response:
        found = answers.get(request.url.path) if request.method == "GET" else None
        return httpx.Response(200, json=found) if found is not None else httpx.Response(404, json={"detail": "Not Found"})

    return answer


async def test_a_role_that_may_not_change_campaigns_is_offered_no_button(stack, env) -> None:
    """Today only the roles that change campaigns read them: campaigns stands in here for one
    that would show the page to another role (an operator)."""
    gw, _ = stack
    assert Role.OPERATOR not in POLICY["campaigns.campaign.launch"]
    await logged_in(gw, env, "sun.yunwei", "operator")
    async with answering(gw, "campaigns", campaigns_answering(DRAFT, NOTHING_YET)) as received:
        page = await gw.get("/console/campaigns/c-1")
    assert page.status_code == 200, page.text
    assert offered(page.text) == [] and 'id="campaign-actions"' not in page.text and 'id="launch-reach"' not in page.text
    assert "/v1/campaigns/c-1/preview" not in [q.url.path for q in received]
    # The same page, to marketing: the draft is offered for launch.
    await logged_in(gw, env, "zhao.shichang", "marketing")
    async with answering(gw, "campaigns", campaigns_answering(DRAFT, NOTHING_YET)):
        page = await gw.get("/console/campaigns/c-1")
    assert offered(page.text) == ["launch", "end"], page.text


@pytest.mark.parametrize(("campaign", "shown"), [
    (DRAFT, '<p class="notice" id="control-later">活动开始后才能与对照组比较：届时将随机留出 20% 的受众作为对照组。</p>'),
    ({**DRAFT, "control_share": "0.125"}, "届时将随机留出 12.5% 的受众作为对照组。"),
    ({**DRAFT, "control_share": "0.000"}, '<p class="notice" id="no-control">本活动没有预留对照组，无从比较。</p>'),
    ({**DRAFT, "state": "running", "launched_at": "2026-12-01T02:10:00+00:00", "started_at": "2026-12-01T02:10:00+00:00"},
     '<p class="notice" id="control-none-drawn">尚无顾客被抽入对照组（按 20% 随机留出受众）：无从比较。</p>'),
], ids=["draft", "draft-eighth", "draft-without-control", "running-nobody-drawn"])
async def test_only_a_campaign_that_keeps_no_control_group_says_it_has_none(stack, env, campaign, shown) -> None:
    gw, _ = stack
    await logged_in(gw, env, "zhao.shichang", "marketing")
    async with answering(gw, "campaigns", campaigns_answering(campaign, {**NOTHING_YET, "state": campaign["state"]})):
        page = await gw.get("/console/campaigns/c-1")
    assert page.status_code == 200, page.text
    assert shown in page.text, page.text
    assert page.text.count('class="notice" id="') == 1 and "人均消费" not in page.text


async def test_money_on_the_results_is_shown_in_yuan_and_visits_as_counts(stack, env) -> None:
    gw, _ = stack
    running = {**DRAFT, "state": "running", "launched_at": "2026-12-01T02:10:00+00:00", "started_at": "2026-12-01T02:10:00+00:00",
               "treatment_size": 80, "control_size": 20}

    def uplift(difference: str, low: str, high: str) -> dict:
        return {"treatment_mean": "0", "control_mean": "0", "difference": difference, "low": low, "high": high, "relative": None,
                "confidence": "0.95", "significant": False}

    results = {**NOTHING_YET, "state": "running", "window_start": "2026-12-01T02:10:00+00:00",
               "treatment": {"members": 80, "buyers": 50, "spend_per_member": "45.33", "visits_per_member": "1.5000"},
               "control": {"members": 20, "buyers": 9, "spend_per_member": "19.96", "visits_per_member": "1.2000"},
               "spend_uplift": uplift("25.37", "-16.42", "67.16"), "visits_uplift": uplift("0.3000", "-0.1000", "0.7000")}
    await logged_in(gw, env, "zhao.shichang", "marketing")
    async with answering(gw, "campaigns", campaigns_answering(running, results)):
        page = await gw.get("/console/campaigns/c-1")
    assert page.status_code == 200, page.text
    spend = re.search(r'aria-label="人均消费">(.*?)</svg>', page.text, re.S)
    visits = re.search(r'aria-label="人均到店次数">(.*?)</svg>', page.text, re.S)
    assert spend and ">¥45.33</text>" in spend.group(1) and ">¥19.96</text>" in spend.group(1), page.text
    assert visits and ">1.5000</text>" in visits.group(1) and "¥" not in visits.group(1)
    captions = dict(re.findall(r'data-uplift="(\w+)".*?<figcaption>\s*(.*?)</figcaption>', page.text, re.S))
    # In Chinese punctuation, as every label of the console: not an English colon and comma in a Chinese sentence.
    assert re.match(r"人均消费提升：\s*¥25\.37\s*\[-¥16\.42, ¥67\.16\]，不显著", captions["spend_uplift"]), captions
    assert re.match(r"人均到店次数提升：\s*0\.3000\s*\[-0\.1000, 0\.7000\]，不显著", captions["visits_uplift"]), captions
