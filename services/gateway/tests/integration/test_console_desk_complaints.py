"""The desk files complaints in the console: for a customer on their page, or for no one (someone
who is not a member, the comment book) on the desk page. The form posts to feedback's
`POST /v1/complaints` with the person's own token, their store and the key made when the form was
shown, so a double click files one complaint; the desk then lands on the complaint's page. A
refusal is told in the form's message area, the form left as typed. Only the roles feedback lets
file complaints are offered the form."""

import re
import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest

from feedback.config import Settings as FeedbackSettings
from feedback.main import create_app as feedback_app
from shared.auth import Role
from tests.support.console import csrf_of, logged_in
from tests.support.identity import MovableClock, answering, gateway_with_stores
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration

# Members' ids are UUIDs: feedback refuses a complaint for an id members could never have given.
M1 = str(uuid.uuid4())
PROFILE = {"id": M1, "name": "钱芳", "card_no": "8800001", "home_store_id": "S002"}


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


@pytest.fixture
async def feedback(gateway: httpx.AsyncClient, env: TestEnv, database_factory):
    """The real feedback service behind the gateway, on the test's database."""
    async with service(feedback_app(env.settings(FeedbackSettings, await database_factory("feedback")))) as fb:
        wired = gateway.app.state.downstream
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fb.app), base_url="http://feedback") as behind:
            gateway.app.state.downstream = replace(wired, feedback=behind)
            try:
                yield fb
            finally:
                gateway.app.state.downstream = wired


def customer_services(gateway: httpx.AsyncClient) -> None:
    """Members and points answering for a customer with a fresh points account (the desk page's reads)."""
    def members(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/v1/members/{M1}", request.url
        return httpx.Response(200, json=PROFILE)

    def points(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/v1/accounts/{M1}":
            return httpx.Response(200, json={"balance": 0})
        if request.url.path == f"/v1/members/{M1}/gifts":
            return httpx.Response(200, json={"gifts": []})
        return httpx.Response(200, json=[])  # stock, redemptions, entitlements: none yet

    gateway.app.state.downstream = replace(
        gateway.app.state.downstream,
        members=httpx.AsyncClient(transport=httpx.MockTransport(members), base_url="http://members"),
        points=httpx.AsyncClient(transport=httpx.MockTransport(points), base_url="http://points"))


def complaint_form(html: str) -> str:
    found = re.search(r'<form id="complaint-form".*?</form>', html, re.S)
    assert found, "the page has no complaint form"
    return found.group(0)


def fields_of(html: str) -> dict[str, str]:
    """The complaint form's hidden fields, as the browser sends them back."""
    form = complaint_form(html)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key
    return {"csrf": csrf_of(form), "idempotency_key": key.group(1)}


def access_token(gateway: httpx.AsyncClient) -> str:
    """The person's own access token, as the console keeps it in the session cookie."""
    return str(gateway.cookies["crm_console"]).split("|")[0]


def filed(cid: str, **fields: Any) -> dict[str, Any]:
    return {"id": cid, "category": "delivery", "status": "filed", "severity": "high", "store_id": "S001",
            "filed_at": "2026-12-05T02:00:00+00:00", "channel": "phone", "member_id": M1, "assignee": "desk:S001",
            "handled_by": None, "escalated_to": None, "next_due_at": None, "overdue": False, "description": "瓷砖送货晚了一天",
            "history": []} | fields


async def test_the_desk_files_a_customers_complaint_with_its_store_its_token_and_the_forms_key(
    gateway: httpx.AsyncClient, env: TestEnv,
) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    customer_services(gateway)
    page = await gateway.get(f"/console/desk/members/{M1}")
    assert page.status_code == 200, page.text
    form = complaint_form(page.text)
    assert f'action="/console/desk/members/{M1}/complaints"' in form
    # Feedback's categories and severities, worded for the reader; the channels the desk takes
    # complaints by, in person first; no store to type, the desk's token names it.
    assert '<option value="delivery">配送</option>' in form and '<option value="service_attitude">服务态度</option>' in form
    assert re.findall(r'<option value="(\w+)"', form.split('id="cp-severity"')[1].split("</select>")[0]) == ["low", "medium", "high"]
    channels = form.split('id="cp-channel"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w+)"', channels) == ["service_desk", "phone", "comment_book"]
    assert '<option value="service_desk" selected>服务台</option>' in channels and "意见簿" in channels
    assert 'name="store_id"' not in form and "登记投诉" in page.text
    assert '<div id="complaint-message" role="alert" aria-live="polite"></div>' in form

    typed = {**fields_of(page.text), "category": "delivery", "severity": "high", "channel": "phone",
             "description": " 瓷砖送货晚了一天 "}
    async with answering(gateway, "feedback", lambda _: httpx.Response(201, json=filed("c-1"))) as asked:
        sent = await gateway.post(f"/console/desk/members/{M1}/complaints", data=typed, headers={"HX-Request": "true"})
    assert sent.status_code == 204, sent.text
    assert sent.headers["HX-Redirect"] == "/console/complaints/c-1?filed=1"
    [request] = asked
    assert (request.method, request.url.path) == ("POST", "/v1/complaints")
    assert request.headers["Authorization"] == f"Bearer {access_token(gateway)}"
    assert request.headers["Idempotency-Key"] == typed["idempotency_key"]
    assert httpx.Response(200, content=request.content).json() == {
        "member_id": M1, "store_id": "S001", "channel": "phone", "category": "delivery", "severity": "high",
        "description": " 瓷砖送货晚了一天 "}

    # The complaint's page, where the desk lands, says it is filed.
    async with answering(gateway, "feedback", lambda _: httpx.Response(200, json=filed("c-1"))):
        landed = await gateway.get("/console/complaints/c-1?filed=1")
    assert landed.status_code == 200, landed.text
    assert '<p class="notice" role="status" id="filed">投诉已登记。</p>' in landed.text


async def test_a_double_click_on_the_anonymous_form_files_one_complaint(
    gateway: httpx.AsyncClient, env: TestEnv, feedback: httpx.AsyncClient,
) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    page = await gateway.get("/console/desk")
    assert page.status_code == 200, page.text
    form = complaint_form(page.text)
    assert 'action="/console/desk/complaints"' in form and "登记匿名投诉" in page.text
    # Its own key, not the registration form's: two writes, each once.
    assert fields_of(page.text)["idempotency_key"] not in page.text.split('id="complaint-form"')[0]

    typed = {**fields_of(page.text), "category": "store_environment", "severity": "medium", "channel": "comment_book",
             "description": "意见簿：卫生间没有纸巾"}
    first, second = [await gateway.post("/console/desk/complaints", data=typed) for _ in range(2)]
    assert first.status_code == second.status_code == 303, first.text
    assert first.headers["location"] == second.headers["location"]
    cid = first.headers["location"].removeprefix("/console/complaints/").removesuffix("?filed=1")

    stored = (await feedback.get("/v1/complaints", headers=env.auth(Role.SERVICE_DESK, store_id="S001"))).json()
    assert [c["id"] for c in stored] == [cid]
    [complaint] = stored
    assert (complaint["member_id"], complaint["store_id"], complaint["channel"]) == (None, "S001", "comment_book")
    assert (complaint["category"], complaint["severity"]) == ("store_environment", "medium")
    me = gateway.app.state.verifier.verify(access_token(gateway))
    detail = (await feedback.get(f"/v1/complaints/{cid}", headers=env.auth(Role.SERVICE_DESK, store_id="S001"))).json()
    assert detail["filed_by"] == me.subject and detail["description"] == "意见簿：卫生间没有纸巾"

    landed = await gateway.get(first.headers["location"])
    assert landed.status_code == 200, landed.text
    assert "投诉已登记。" in landed.text and '<td id="customer">匿名</td>' in landed.text


async def test_a_refusal_is_told_in_the_forms_message_area_and_files_nothing(
    gateway: httpx.AsyncClient, env: TestEnv, feedback: httpx.AsyncClient,
) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    customer_services(gateway)
    page = await gateway.get(f"/console/desk/members/{M1}")
    typed = {**fields_of(page.text), "category": "price", "severity": "low", "channel": "service_desk", "description": "价" * 2001}

    fragment = await gateway.post(f"/console/desk/members/{M1}/complaints", data=typed, headers={"HX-Request": "true"})
    assert fragment.status_code == 422, fragment.text
    # Only the message, for the form's message area: the form around it keeps what was typed.
    assert "<html" not in fragment.text and "<form" not in fragment.text
    assert re.fullmatch(r'<p class="refusal" data-fields="description">描述：最多 2000 个字符</p>\s*', fragment.text), fragment.text

    # A channel the desk does not take complaints by is refused by the console, naming it.
    app = await gateway.post(f"/console/desk/members/{M1}/complaints", data={**typed, "description": "价签不符", "channel": "app"},
                             headers={"HX-Request": "true"})
    assert app.status_code == 422 and 'data-fields="channel"' in app.text and "服务台 / 电话 / 意见簿" in app.text
    assert (await feedback.get("/v1/complaints", headers=env.auth(Role.SERVICE_DESK, store_id="S001"))).json() == []

    # Put right and sent again with the same form's key, it is filed.
    sent = await gateway.post(f"/console/desk/members/{M1}/complaints", data={**typed, "description": "价签不符"})
    assert sent.status_code == 303, sent.text
    [complaint] = (await feedback.get("/v1/complaints", headers=env.auth(Role.SERVICE_DESK, store_id="S001"))).json()
    assert complaint["member_id"] == M1 and sent.headers["location"] == f"/console/complaints/{complaint['id']}?filed=1"


async def test_head_office_names_the_store_the_complaint_concerns(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    await logged_in(gateway, env, "li.admin", "admin")
    customer_services(gateway)
    page = await gateway.get(f"/console/desk/members/{M1}")
    # The customer's home store by default: an admin's token names none.
    assert '<input id="cp-store" name="store_id" required maxlength="32" value="S002">' in complaint_form(page.text)
    typed = {**fields_of(page.text), "category": "price", "severity": "low", "channel": "service_desk", "description": "价签不符"}
    async with answering(gateway, "feedback", lambda _: httpx.Response(201, json=filed("c-2", store_id="S002"))) as asked:
        unknown = await gateway.post(f"/console/desk/members/{M1}/complaints", data={**typed, "store_id": "S999"},
                                     headers={"HX-Request": "true"})
        assert unknown.status_code == 422 and 'data-fields="store_id"' in unknown.text
        assert asked == []  # a store the chain has not open never reaches feedback
        sent = await gateway.post(f"/console/desk/members/{M1}/complaints", data={**typed, "store_id": "S002"})
    assert sent.status_code == 303 and sent.headers["location"] == "/console/complaints/c-2?filed=1"
    [request] = asked
    assert httpx.Response(200, content=request.content).json()["store_id"] == "S002"


@pytest.mark.parametrize(("role", "extra", "offered"), [
    ("service_desk", {"store_id": "S001"}, True),
    ("store_manager", {"store_id": "S001"}, True),
    ("account_manager", {"store_id": "S001", "account_manager_id": "am-017"}, True),
    ("admin", {}, True),
    ("marketing", {}, False),
])
async def test_the_form_is_offered_to_the_roles_that_may_file_complaints(
    gateway: httpx.AsyncClient, env: TestEnv, role: str, extra: dict[str, str], offered: bool,
) -> None:
    await logged_in(gateway, env, f"x.{role.replace('_', '')}", role, **extra)
    customer_services(gateway)
    desk = await gateway.get("/console/desk")
    customer = await gateway.get(f"/console/desk/members/{M1}")
    assert desk.status_code == customer.status_code == 200, (desk.text, customer.text)
    assert [('id="complaint-form"' in p.text) for p in (desk, customer)] == [offered, offered]
