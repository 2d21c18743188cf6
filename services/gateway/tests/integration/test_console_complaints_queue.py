"""A complaint handler's day on the console: the queue names whose complaint each one is (as members
shows the customer to the handler) and who it is with, says how long is left until the deadline and
narrows to a state, a queue or what is overdue; a complaint's page shows its history, and closes
and reopens it, a second click being shown as done rather than refused."""

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.support.console import csrf_of, logged_in
from tests.support.identity import MovableClock, admin, answering, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

def complaint(cid: str, **fields: Any) -> dict[str, Any]:
    return {"id": cid, "category": "delivery", "status": "filed", "severity": "high", "store_id": "S001",
            "filed_at": "2026-12-05T21:26:47+00:00", "channel": "service_desk", "member_id": None,
            "assignee": "desk:S001", "escalated_to": None, "next_due_at": None, "overdue": False,
            "description": "瓷砖送货晚了一天", "history": []} | fields


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()  # the time now: sessions and tokens are checked against it


@pytest.fixture
async def gateway(env: TestEnv, database_factory, clock: MovableClock):
    async with gateway_with_stores(env, await database_factory("gateway"), clock) as client:
        yield client


async def account_manager(gateway: httpx.AsyncClient, env: TestEnv, directory_id: str, name: str) -> str:
    """An account manager's staff account; answers the id complaints are assigned to them by."""
    r = await gateway.post("/identity/v1/staff", headers=admin(env), json={
        "login": directory_id.replace("-", "."), "name": name, "role": "account_manager", "account_manager_id": directory_id})
    assert r.status_code == 201, r.text
    return directory_id


def members_knowing(**profiles: dict[str, Any]) -> Any:
    """Members answering for the customers it shows the reader; any other one is not theirs to see."""
    def answer(request: httpx.Request) -> httpx.Response:
        member_id = request.url.path.rsplit("/", 1)[-1]
        if member_id in profiles:
            return httpx.Response(200, json={"id": member_id, **profiles[member_id]})
        return httpx.Response(404, json={"detail": f"no member {member_id}"})
    return answer


async def complaint_page(gateway: httpx.AsyncClient, env: TestEnv, item: dict[str, Any], customers: dict[str, dict[str, Any]],
                         language: str | None = None) -> tuple[str, str]:
    """The desk's page of complaint `item` as feedback answers it, its customers as members knows
    them; the page, and its history table onwards."""
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    if language:
        gateway.cookies.set("crm_console_lang", language)
    async with answering(gateway, "feedback", lambda _: httpx.Response(200, json=item)), \
            answering(gateway, "members", members_knowing(**customers)):
        page = await gateway.get(f"/console/complaints/{item['id']}")
    assert page.status_code == 200, page.text[page.text.find("<main"):]
    return page.text, page.text[page.text.index('<table id="history">'):]


async def test_the_queue_names_the_customer_and_who_the_complaint_is_with(
    gateway: httpx.AsyncClient, env: TestEnv, clock: MovableClock,
) -> None:
    now = clock.now
    wang = await account_manager(gateway, env, "am-wang", "王经理")
    queue = [
        complaint("c-desk", member_id="m-1", next_due_at=(now - timedelta(hours=3, minutes=5)).isoformat(), overdue=True,
                  escalated_to="store_manager:S001"),
        complaint("c-vip", member_id="m-2", assignee=wang, next_due_at=(now + timedelta(hours=5, minutes=30)).isoformat()),
        complaint("c-other", member_id="m-elsewhere", assignee="store_manager:S001",
                  next_due_at=(now + timedelta(days=3, hours=2)).isoformat()),
        complaint("c-anon", next_due_at=(now + timedelta(minutes=40)).isoformat()),
    ]
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    profiles = {"m-1": {"name": "张三", "card_no": "880001", "phone": "139****5678"},
                "m-2": {"name": "李四", "card_no": "880002", "phone": "138****1234"}}
    async with answering(gateway, "feedback", lambda _: httpx.Response(200, json=queue)), \
            answering(gateway, "members", members_knowing(**profiles)) as asked_members:
        page = await gateway.get("/console/complaints")
    assert page.status_code == 200, page.text[page.text.find("<main"):]
    # Each customer read with the handler's own token, so members' rules decide what they see.
    assert sorted(r.url.path for r in asked_members) == ["/v1/members/m-1", "/v1/members/m-2", "/v1/members/m-elsewhere"]
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in asked_members)

    def row(cid: str) -> str:
        start = page.text.index(f'data-complaint="{cid}"')
        return page.text[start:page.text.index("</tr>", start)]

    assert '<a href="/console/customers/m-1">张三 (880001)</a>' in row("c-desk")
    assert "服务台 S001 · 已升级至店长" in row("c-desk") and "已超时 3 小时" in row("c-desk")
    assert "李四 (880002)" in row("c-vip") and '<td class="assignee">王经理</td>' in row("c-vip") and "剩 5 小时" in row("c-vip")
    # A customer members does not show this handler is theirs by id only, never guessed at.
    assert '<span class="id"' in row("c-other") and ">m-elsewhere</span>" in row("c-other") and "店长 S001" in row("c-other")
    assert "剩 3 天" in row("c-other")
    assert "匿名" in row("c-anon") and "剩 40 分钟" in row("c-anon")
    assert "139****5678" not in page.text  # the queue names customers; their contact details stay on their page
    assert wang not in row("c-vip")


async def test_the_queue_is_narrowed_by_state_queue_and_overdue_through_feedback(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    await logged_in(gateway, env, "zhao.dianzhang", "store_manager", store_id="S001")
    async with answering(gateway, "feedback", lambda _: httpx.Response(200, json=[])) as asked:
        page = await gateway.get("/console/complaints", params={"status": "in_progress", "waiting_on": "store_manager", "overdue": "1"})
        unfiltered = await gateway.get("/console/complaints")
        wrong = await gateway.get("/console/complaints", params={"status": "closed"})
        nobody = await gateway.get("/console/complaints", params={"waiting_on": "cleaners"})
    assert page.status_code == 200 and unfiltered.status_code == 200
    assert dict(asked[0].url.params) == {"status": "in_progress", "assignee": "store_manager:S001", "overdue_only": "true"}
    assert dict(asked[1].url.params) == {}
    assert '<option value="in_progress" selected>处理中</option>' in page.text and 'name="overdue" value="1" checked' in page.text
    # A state or a queue the page does not offer (typed into the address) is bad input naming the
    # field under its label, with the choices in the person's words; feedback is not asked.
    assert (wrong.status_code, nobody.status_code, len(asked)) == (422, 422, 2)
    assert "状态：只能是以下之一：已登记 / 已受理 / 处理中" in wrong.text
    assert "待处理方：只能是以下之一：服务台 / 店长" in nobody.text


@pytest.mark.parametrize(("language", "shown"), [(None, "会员本人（App）"), ("en", "the member, in the app")])
async def test_a_complaint_the_member_filed_and_rated_in_the_app_names_them_as_its_actor_not_by_their_id(
    gateway: httpx.AsyncClient, env: TestEnv, language: str | None, shown: str,
) -> None:
    """Finding: a complaint filed in the app showed its history's actor as the member's raw id."""
    member = "2a5c4214-9988-4280-9511-564e55d6dce9"
    history = [
        {"action": "filed", "from_status": None, "to_status": "filed", "actor": member, "detail": "channel app", "at": "2026-12-05T01:00:00+00:00"},
        {"action": "rated", "from_status": None, "to_status": None, "actor": member, "detail": "5", "at": "2026-12-06T01:00:00+00:00"},
    ]
    item = complaint("c-1", status="resolved", channel="app", member_id=member, history=history)
    _, table = await complaint_page(gateway, env, item, {member: {"name": "王小红", "card_no": "8894046279962"}}, language)
    assert table.count(f"<td>{shown}</td>") == 2
    assert member not in table


async def test_a_complaint_that_came_back_shows_what_each_round_of_its_resolution_did(
    gateway: httpx.AsyncClient, env: TestEnv,
) -> None:
    """Finding: resolved again after a reopening, the page showed only the last round's note; what
    was done the first time, and what it was compensated with, could not be read anywhere."""
    first, second = "2026-12-05T03:00:00+00:00", "2026-12-06T03:00:00+00:00"
    history = [
        {"action": "resolve", "from_status": "acknowledged", "to_status": "resolved", "actor": "li.fuwutai",
         "detail": "round 0; compensation 50 points", "note": "退款并道歉", "at": first},
        {"action": "reopen", "from_status": "resolved", "to_status": "in_progress", "actor": "m-1", "detail": "顾客又来了",
         "note": None, "at": "2026-12-06T01:00:00+00:00"},
        {"action": "resolve", "from_status": "in_progress", "to_status": "resolved", "actor": "li.fuwutai",
         "detail": "round 1", "note": "已重发", "at": second},
    ]
    item = complaint("c-1", status="resolved", member_id="m-1", history=history, resolution_note="已重发",
                     compensation_points=50, coupon_value=None, compensated_at=first, resolved_at=second)
    text, table = await complaint_page(gateway, env, item, {"m-1": {"name": "张三", "card_no": "880001"}})
    rows = {part.split('"', 1)[0] + str(n): part.split("</tr>", 1)[0] for n, part in enumerate(table.split('data-action="')[1:])}
    assert list(rows) == ["resolve0", "reopen1", "resolve2"]
    # Each resolve step with its own round's note; the compensation beside the one that granted it.
    assert "<td>退款并道歉 · 50 积分</td>" in rows["resolve0"] and "已重发" not in rows["resolve0"]
    assert "<td>已重发</td>" in rows["resolve2"] and "积分" not in rows["resolve2"]
    assert "round 0" not in table and "compensation 50 points" not in table  # feedback's own notes, in English
    assert '<td id="resolution-note">已重发</td>' in text and '<td id="compensation">50 积分</td>' in text


async def test_head_office_is_told_the_queue_of_a_store_is_for_its_staff(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    await logged_in(gateway, env, "qian.shichang", "marketing")
    async with answering(gateway, "feedback", lambda _: httpx.Response(200, json=[])) as asked:
        page = await gateway.get("/console/complaints", params={"waiting_on": "desk"})
    assert (page.status_code, len(asked)) == (422, 0)
    assert "待处理方：只有门店员工才能按投诉等待的处理方筛选" in page.text


async def test_a_complaints_page_shows_its_history_with_names_and_the_reason_it_was_reopened(
    gateway: httpx.AsyncClient, env: TestEnv, clock: MovableClock,
) -> None:
    now = clock.now
    wang = await account_manager(gateway, env, "am-wang", "王经理")
    history = [
        {"action": "filed", "from_status": None, "to_status": "filed", "actor": wang, "detail": "channel phone", "at": "2026-12-05T01:00:00+00:00"},
        {"action": "assigned", "from_status": None, "to_status": None, "actor": "system", "detail": "to desk:S001", "at": "2026-12-05T01:00:00+00:00"},
        {"action": "escalated", "from_status": None, "to_status": None, "actor": "system:escalation",
         "detail": "acknowledge overdue since 2026-12-05T05:00+00:00; to store_manager:S001", "at": "2026-12-05T05:05:00+00:00"},
        {"action": "reopen", "from_status": "closed", "to_status": "in_progress", "actor": wang, "detail": "换的货也坏了",
         "at": "2026-12-06T01:00:00+00:00"},
    ]
    item = complaint("c-1", status="in_progress", member_id="m-1", history=history, next_due_at=(now + timedelta(hours=20)).isoformat())
    text, table = await complaint_page(gateway, env, item, {"m-1": {"name": "张三", "card_no": "880001"}})
    assert [part.split('"', 1)[0] for part in table.split('data-action="')[1:]] == ["filed", "assigned", "escalated", "reopen"]
    assert "登记投诉" in table and "王经理" in table and "自动分派" in table and "服务台 S001" in table and "时限检查" in table
    assert "已关闭 → 处理中" in table and "换的货也坏了" in table
    assert "channel phone" not in table and "overdue since" not in table  # feedback's own notes, in English
    assert '<td id="customer"><a href="/console/customers/m-1">张三 (880001)</a></td>' in text
    assert "剩 20 小时" in text


async def close_twice_with(gateway: httpx.AsyncClient, env: TestEnv, status_now: str) -> httpx.Response:
    """Feedback refusing to close the complaint (closed a moment earlier), the complaint being `status_now`."""
    def feedback(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/complaints/c-1/close":
            return httpx.Response(409, json={"detail": "cannot close a complaint that is closed: it is closed; reopen it first"})
        return httpx.Response(200, json=complaint("c-1", status=status_now))

    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "feedback", feedback), answering(gateway, "members", members_knowing()):
        form = await gateway.get("/console/complaints/c-1")
        answer = await gateway.post("/console/complaints/c-1/step", data={"csrf": csrf_of(form.text), "action": "close"})
        if answer.status_code == 303:
            answer = await gateway.get(answer.headers["location"])
    return answer


async def test_a_second_click_on_close_shows_the_complaint_closed(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    page = await close_twice_with(gateway, env, "closed")
    assert page.status_code == 200, page.text[page.text.find("<main"):]
    assert str(page.url).endswith("/console/complaints/c-1?already=close") and "该投诉已关闭。" in page.text
    assert 'action="/console/complaints/c-1/reopen"' in page.text  # what can still be done: reopen it


async def test_closing_a_complaint_reopened_meanwhile_is_still_refused(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    page = await close_twice_with(gateway, env, "in_progress")
    assert page.status_code == 409


async def test_a_resolved_complaint_is_closed_and_reopened_with_a_reason_from_its_page(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    state = {"status": "resolved"}

    def feedback(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/complaints/c-1/close":
            state["status"] = "closed"
        elif request.method == "POST" and request.url.path == "/v1/complaints/c-1/reopen":
            if state["status"] not in ("resolved", "closed"):
                return httpx.Response(409, json={"detail": "cannot reopen a complaint that is in_progress: it is still open"})
            state["status"] = "in_progress"
        return httpx.Response(200, json=complaint("c-1", status=state["status"]))

    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "feedback", feedback) as asked, answering(gateway, "members", members_knowing()):
        resolved = await gateway.get("/console/complaints/c-1")
        assert 'name="action" value="close"' in resolved.text and "关闭投诉" in resolved.text
        closed = await gateway.post("/console/complaints/c-1/step", data={"csrf": csrf_of(resolved.text), "action": "close"})
        assert closed.status_code == 303 and closed.headers["location"] == "/console/complaints/c-1"
        page = await gateway.get(closed.headers["location"])
        reopened = await gateway.post("/console/complaints/c-1/reopen", data={"csrf": csrf_of(page.text), "reopen_reason": "换的货也坏了"})
        assert reopened.status_code == 303 and reopened.headers["location"] == "/console/complaints/c-1"
        # The same form sent again (a double click): the complaint is open again, as the person wanted.
        again = await gateway.post("/console/complaints/c-1/reopen", data={"csrf": csrf_of(page.text), "reopen_reason": "换的货也坏了"})
        assert again.status_code == 303 and again.headers["location"] == "/console/complaints/c-1?already=reopen"
        shown = await gateway.get(again.headers["location"])
    assert "该投诉已被重新打开。" in shown.text
    [reopen_call, *_] = [r for r in asked if r.url.path.endswith("/reopen")]
    assert reopen_call.read() == '{"reason":"换的货也坏了"}'.encode()


@pytest.mark.parametrize(("language", "shown"), [(None, "重新打开的原因：不能为空"), ("en", "Why it is reopened: must not be blank")])
async def test_a_reopening_reason_refused_is_named_by_its_own_box(
    gateway: httpx.AsyncClient, env: TestEnv, language: str | None, shown: str,
) -> None:
    """Finding: a reason of spaces refused by feedback was told as the dead letters' box, 丢弃原因：不能为空
    (Reason for discarding), on the complaint's reopen form."""
    def feedback(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/complaints/c-1/reopen":
            return httpx.Response(422, json={"detail": [{"loc": ["body", "reason"], "msg": "Value error, must not be blank",
                                                         "type": "value_error", "input": "  ", "ctx": {"error": "must not be blank"}}]})
        return httpx.Response(200, json=complaint("c-1", status="resolved"))

    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    if language:
        gateway.cookies.set("crm_console_lang", language)
    async with answering(gateway, "feedback", feedback), answering(gateway, "members", members_knowing()):
        page = await gateway.get("/console/complaints/c-1")
        assert 'name="reopen_reason"' in page.text
        sent = await gateway.post("/console/complaints/c-1/reopen", data={"csrf": csrf_of(page.text), "reopen_reason": "  "})
    assert sent.status_code == 422
    assert shown in sent.text
    assert "丢弃原因" not in sent.text and "discarding" not in sent.text


@pytest.mark.parametrize("status", ["resolved", "closed"])
async def test_a_complaint_of_an_erased_customer_is_not_offered_for_reopening(gateway: httpx.AsyncClient, env: TestEnv, status: str) -> None:
    """Finding: a resolved complaint of an erased customer was reopened from its page, back into the
    desk's queue with a deadline, although nothing more could be done for the customer."""
    def feedback(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/complaints/c-1/reopen":
            return httpx.Response(409, json={"detail": "complaint_id: member is erased; nothing more is recorded about them"})
        return httpx.Response(200, json=complaint("c-1", status=status, member_id="m-1", member_erased=True))

    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "feedback", feedback), answering(gateway, "members", members_knowing()):
        page = await gateway.get("/console/complaints/c-1")
        assert page.status_code == 200, page.text[page.text.find("<main"):]
        assert 'action="/console/complaints/c-1/reopen"' not in page.text and 'name="reopen_reason"' not in page.text
        assert '<p class="notice" role="status" id="not-reopened">该顾客的资料已删除：投诉不能再重新打开，已无法再为其做任何处理。</p>' in page.text
        # A page opened before the erasure still has the form: feedback's refusal is told, and why.
        sent = await gateway.post("/console/complaints/c-1/reopen", data={"csrf": csrf_of(page.text), "reopen_reason": "顾客又来了"})
    assert sent.status_code == 409
    assert "该顾客的资料已删除，不能再记录任何内容。" in sent.text


async def test_an_erased_customer_s_complaint_names_them_in_the_language_of_the_console(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    # Members names an erased customer 已注销用户: the English console said so in Chinese.
    erased = {"m-1": {"name": "已注销用户", "card_no": "erased-0123456789abcdef012345678", "erased": True}}
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "feedback", lambda _: httpx.Response(200, json=complaint("c-1", member_id="m-1"))), \
            answering(gateway, "members", members_knowing(**erased)):
        chinese = await gateway.get("/console/complaints/c-1")
        gateway.cookies.set("crm_console_lang", "en")
        english = await gateway.get("/console/complaints/c-1")
    assert chinese.status_code == english.status_code == 200, english.text[english.text.find("<main"):]
    assert '<a href="/console/customers/m-1">已注销用户 (erased-0123456789abcdef012345678)</a>' in chinese.text
    assert '<a href="/console/customers/m-1">Erased customer (erased-0123456789abcdef012345678)</a>' in english.text
    assert "已注销用户" not in english.text


async def test_complaints_are_handled_by_customer_id_while_members_cannot_answer(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "feedback", lambda r: httpx.Response(
            200, json=[complaint("c-1", member_id="m-1")] if r.url.path.endswith("/queue") else complaint("c-1", member_id="m-1"))), \
            answering(gateway, "members", lambda _: httpx.Response(503, json={"detail": "starting"})):
        queue = await gateway.get("/console/complaints")
        one = await gateway.get("/console/complaints/c-1")
    for page in (queue, one):
        assert page.status_code == 200, page.text[page.text.find("<main"):]
        assert 'id="names-unavailable"' in page.text and ">m-1</span>" in page.text


async def test_a_handler_takes_a_complaint_and_colleagues_see_who_is_on_it(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    r = await gateway.post("/identity/v1/staff", headers=admin(env), json={
        "login": "li.na", "name": "李娜", "role": "service_desk", "store_id": "S001"})
    assert r.status_code == 201, r.text
    li = r.json()["staff_id"]
    state: dict[str, Any] = {"handled_by": None}

    def feedback(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/complaints/c-1/take":
            state["handled_by"] = "me"
        if request.url.path == "/v1/complaints/queue":
            return httpx.Response(200, json=[complaint("c-1", handled_by=li), complaint("c-2")])
        return httpx.Response(200, json=complaint("c-1", **state))

    await logged_in(gateway, env, "wu.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "feedback", feedback) as asked, answering(gateway, "members", members_knowing()):
        queue = await gateway.get("/console/complaints", params={"mine": "1"})
        form = await gateway.get("/console/complaints/c-1")
        took = await gateway.post("/console/complaints/c-1/take", data={"csrf": csrf_of(form.text)})
    assert dict(asked[0].url.params) == {"mine": "true"}
    assert "服务台 S001 · 李娜 正在处理" in queue.text and 'name="mine" value="1" checked' in queue.text
    assert 'action="/console/complaints/c-1/take"' in form.text and "由我处理" in form.text
    assert took.status_code == 303 and took.headers["location"] == "/console/complaints/c-1"
    assert [r.method for r in asked if r.url.path == "/v1/complaints/c-1/take"] == ["POST"]


async def test_a_complaint_is_handed_to_its_store_manager_once_whatever_the_clicks(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    state = {"assignee": "desk:S002"}  # lodged at S002, taken in by a head office person

    def feedback(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/complaints/c-1/assign":
            wanted = json.loads(request.content)["assignee"]
            if wanted == state["assignee"]:
                return httpx.Response(409, json={"detail": f"the complaint is already assigned to {wanted}"})
            state["assignee"] = wanted
        return httpx.Response(200, json=complaint("c-1", store_id="S002", **state))

    await logged_in(gateway, env, "admin.zhang", "admin")
    async with answering(gateway, "feedback", feedback) as asked, answering(gateway, "members", members_knowing()):
        form = await gateway.get("/console/complaints/c-1")
        assert "转交店长" in form.text
        first = await gateway.post("/console/complaints/c-1/assign", data={"csrf": csrf_of(form.text), "queue": "store_manager"})
        again = await gateway.post("/console/complaints/c-1/assign", data={"csrf": csrf_of(form.text), "queue": "store_manager"})
        shown = await gateway.get(again.headers["location"])
        wrong = await gateway.post("/console/complaints/c-1/assign", data={"csrf": csrf_of(form.text), "queue": "nobody"})
    # The complaint's own store's queue, not the person's (head office has none).
    assert [r.read() for r in asked if r.url.path.endswith("/assign")] == [b'{"assignee":"store_manager:S002"}'] * 2
    assert first.headers["location"] == "/console/complaints/c-1"
    assert again.headers["location"] == "/console/complaints/c-1?already=assign" and "该投诉已转交。" in shown.text
    assert "交回服务台" in shown.text and "店长 S002" in shown.text
    assert wrong.status_code == 422
