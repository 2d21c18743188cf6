"""The account manager's daily tracking form carries a key of its own, made with the page, so that
the form sent twice (a double click, a retry) is one line of the day's report: members records a
line once per key (services/members tests), the console sends every submission of a page under
that page's key."""

import json
import re
from datetime import date, timedelta

import httpx
import pytest

from gateway.adapters.clients import Downstream
from tests.support.console import csrf_of, logged_in
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

QUEUE = {"items": [{"member_id": "m-1", "name": "赵敏", "community": "阳光花园", "last_purchase_at": None,
                    "last_tracked_on": None, "churn_risk": "low"}], "total": 1}


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


def members_recording(sent: list[httpx.Request]) -> Downstream:
    def members(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/tracking/queue":
            return httpx.Response(200, json=QUEUE)
        if request.url.path == "/v1/tracking/reports/daily":
            return httpx.Response(200, json={"records": []})
        if request.url.path == "/v1/staff":  # the account managers a store manager's report chooses from
            return httpx.Response(200, json=[])
        if request.method == "POST" and request.url.path == "/v1/tracking/records":
            sent.append(request)
            return httpx.Response(201, json={"id": len(sent)})
        return httpx.Response(404, json={"detail": "not here"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(members), base_url="http://members")
    return Downstream(members=client, points=client)


async def test_a_tracking_form_sent_twice_goes_to_members_under_one_key(gateway, env) -> None:
    await logged_in(gateway, env, "zhou.am", "account_manager", store_id="S001", account_manager_id="am-017")
    sent: list[httpx.Request] = []
    gateway.app.state.downstream = members_recording(sent)

    page = await gateway.get("/console/tracking")
    assert page.status_code == 200, page.text
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page.text)
    assert key, "the form has no key of its own"
    form = {"csrf": csrf_of(page.text), "idempotency_key": key.group(1), "tracked_on": "2026-12-01", "member_id": "m-1",
            "contact": "本人", "method": "phone", "rating": "4", "notes": ""}
    for _ in range(2):
        r = await gateway.post("/console/tracking", data=form)
        assert r.status_code == 303 and r.headers["location"].endswith("/console/tracking?recorded=1")
    assert [request.headers["Idempotency-Key"] for request in sent] == [key.group(1)] * 2
    # The next page's form is another contact, under a key of its own.
    again = await gateway.get("/console/tracking")
    assert key.group(1) not in again.text

    r = await gateway.post("/console/tracking", data={**form, "idempotency_key": "bad"})
    assert r.status_code == 422 and "表单已损坏或已过期：请刷新页面后重新填写。" in r.text
    assert len(sent) == 2


@pytest.mark.parametrize(("role", "extra", "linked"), [
    ("account_manager", {"store_id": "S001", "account_manager_id": "am-017"}, True),
    ("store_manager", {"store_id": "S001"}, False),  # keeps no queue: the link would be a refusal page
])
async def test_the_daily_report_links_to_the_tracking_queue_only_for_those_who_keep_one(gateway, env, role, extra, linked) -> None:
    await logged_in(gateway, env, "someone", role, **extra)
    gateway.app.state.downstream = members_recording([])
    report = await gateway.get("/console/tracking/report")
    assert report.status_code == 200, report.text
    assert ('href="/console/tracking"' in report.text) is linked


def members_answering(queue: dict, sent: list[httpx.Request], refusal: str | None = None) -> Downstream:
    """Members with `queue` as the manager's queue, keeping each tracking record sent (refused with
    `refusal` as members words it, when given)."""
    def members(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/tracking/queue":
            return httpx.Response(200, json=queue)
        if request.method == "POST" and request.url.path == "/v1/tracking/records":
            sent.append(request)
            if refusal:
                return httpx.Response(422, json={"detail": refusal})
            return httpx.Response(201, json={"id": len(sent)})
        return httpx.Response(404, json={"detail": "not here"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(members), base_url="http://members")
    return Downstream(members=client, points=client)


def queued(member_id: str, **fields) -> dict:
    return {"member_id": member_id, "card_no": "8800000000001", "name": "赵敏", "phone": "13900000001", "community": "阳光花园",
            "lifetime_spend": "5000.00", "last_purchase_at": None, "days_since_last_purchase": None, "churn_risk": "low",
            "last_tracked_on": None, "next_follow_up_on": None, "follow_up_due": False, "birthday_in_days": None, **fields}


async def test_the_queue_says_who_needs_a_call_today_and_leads_to_each_customer(gateway, env) -> None:
    await logged_in(gateway, env, "zhou.am", "account_manager", store_id="S001", account_manager_id="am-017")
    queue = {"manager_id": "am-017", "items": [
        queued("m-due", name="钱多多", lifetime_spend="52340.50", last_tracked_on="2026-11-20", next_follow_up_on="2026-11-27",
               follow_up_due=True, birthday_in_days=0),
        queued("m-planned", name="孙莉", next_follow_up_on="2027-01-05", birthday_in_days=3),
        queued("m-plain", name="周平"),
    ]}
    gateway.app.state.downstream = members_answering(queue, [])
    page = await gateway.get("/console/tracking")
    assert page.status_code == 200, page.text
    assert re.search(r"今日应跟进（含逾期）1 位\s*·\s*近日生日 2 位", page.text), page.text
    rows = {m: page.text.split(f'data-member="{m}"')[1].split("</tr>")[0] for m in ("m-due", "m-planned", "m-plain")}
    assert 'href="/console/customers/m-due">钱多多</a>' in rows["m-due"]
    assert "今天生日" in rows["m-due"] and "¥52,340.50" in rows["m-due"]
    # A date cell is marked as one, which the stylesheet keeps on one line (no "2026-11-" / "27").
    assert 'class="date status-bad follow-up-due">2026-11-27 <small>(应跟进)</small>' in rows["m-due"]
    assert '<td class="date">2026-11-20</td>' in rows["m-due"]
    assert "3 天后生日" in rows["m-planned"] and '<td class="date">2027-01-05</td>' in rows["m-planned"]
    assert "follow-up-due" not in rows["m-planned"] and "生日" not in rows["m-plain"]

    gateway.cookies.set("crm_console_lang", "en")
    english = await gateway.get("/console/tracking")
    assert "1 follow-up due today or overdue" in english.text and "2 birthdays in the coming days" in english.text
    assert "Birthday in 3 days" in english.text and "Birthday today" in english.text


@pytest.mark.parametrize(("given", "planned"), [("2026-12-10", "2026-12-10"), ("", None), ("  ", None)])
async def test_the_form_plans_the_next_follow_up_or_none(gateway, env, given, planned) -> None:
    await logged_in(gateway, env, "zhou.am", "account_manager", store_id="S001", account_manager_id="am-017")
    sent: list[httpx.Request] = []
    gateway.app.state.downstream = members_answering({"manager_id": "am-017", "items": [queued("m-1")]}, sent)
    page = await gateway.get("/console/tracking")
    assert 'name="next_follow_up_on" type="date"' in page.text
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page.text).group(1)
    form = {"csrf": csrf_of(page.text), "idempotency_key": key, "tracked_on": "2026-12-01", "member_id": "m-1",
            "contact": "本人", "method": "phone", "rating": "4", "notes": "", "next_follow_up_on": given}
    r = await gateway.post("/console/tracking", data=form)
    assert r.status_code == 303, r.text
    assert json.loads(sent[0].content)["next_follow_up_on"] == planned


@pytest.mark.parametrize(("tracked_on", "next_on", "refusal", "chinese", "english"), [
    # The day of the contact, today: the rule said as it is, not as a day in the past.
    ("2026-12-08", "2026-12-08", "next_follow_up_on: is 2026-12-08: must be after the day of this contact (2026-12-08)",
     "下次跟进（可不填）：须晚于本次联系的日期（2026-12-08）", "Next follow-up (optional): must be after the day of this contact (2026-12-08)"),
    # After the contact of a form filled in late, but on a day gone by.
    ("2026-12-05", "2026-12-07", "next_follow_up_on: is 2026-12-07: must not be before today (2026-12-08)",
     "下次跟进（可不填）：不能早于今天（2026-12-08）", "Next follow-up (optional): must not be before today (2026-12-08)"),
])
async def test_a_follow_up_members_refuses_is_told_in_the_person_s_language_under_its_label(
    gateway, env, tracked_on, next_on, refusal, chinese, english,
) -> None:
    await logged_in(gateway, env, "zhou.am", "account_manager", store_id="S001", account_manager_id="am-017")
    gateway.app.state.downstream = members_answering({"manager_id": "am-017", "items": [queued("m-1")]}, [], refusal)
    for language, shown in (("zh-CN", chinese), ("en", english)):
        gateway.cookies.set("crm_console_lang", language)
        page = await gateway.get("/console/tracking")
        key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page.text).group(1)
        form = {"csrf": csrf_of(page.text), "idempotency_key": key, "tracked_on": tracked_on, "member_id": "m-1",
                "contact": "本人", "method": "phone", "rating": "4", "notes": "", "next_follow_up_on": next_on}
        r = await gateway.post("/console/tracking", data=form, headers={"HX-Request": "true"})
        assert r.status_code == 422
        assert shown in r.text, r.text


async def test_the_next_follow_up_s_picker_offers_the_days_members_takes_after_a_contact_today(gateway, env) -> None:
    await logged_in(gateway, env, "zhou.am", "account_manager", store_id="S001", account_manager_id="am-017")
    gateway.app.state.downstream = members_answering({"manager_id": "am-017", "items": [queued("m-1")]}, [])
    page = await gateway.get("/console/tracking")
    assert page.status_code == 200, page.text
    # The contact's date starts at today, the chain's date by the gateway's clock (the test's now).
    today = date.fromisoformat(re.search(r'name="tracked_on" type="date" value="([0-9-]{10})"', page.text).group(1))
    # A contact today plans the next from tomorrow, up to 366 days ahead, as members takes them:
    # today itself, which members refuses, is not offered.
    picker = re.search(r'<input id="t-next" name="next_follow_up_on" type="date" min="([0-9-]{10})" max="([0-9-]{10})">', page.text)
    assert picker, page.text
    assert (picker.group(1), picker.group(2)) == ((today + timedelta(days=1)).isoformat(), (today + timedelta(days=366)).isoformat())
