"""A form a service refuses is told on the console's page in Chinese: members' validation errors
under the form's own labels, points' refusals in words a desk reads, anything else after a Chinese
prefix with the service's own text; the service's English stays in the log for support."""

import logging
import re

import httpx
import pytest

from gateway.adapters.clients import Downstream
from shared.auth import Principal, Role
from shared.policy import AccessDenied, Grant
from tests.support.console import csrf_of, logged_in
from tests.support.identity import MovableClock, answering, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

PHONE_REFUSED = {"detail": [
    {"loc": ["body", "phone"], "msg": "String should match pattern '^1[3-9][0-9]{9}$'", "type": "string_pattern_mismatch",
     "input": "123", "ctx": {"pattern": "^1[3-9][0-9]{9}$"}},
    {"loc": ["body", "name"], "msg": "String should have at most 50 characters", "type": "string_too_long",
     "input": "x", "ctx": {"max_length": 50}},
]}


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


def refusing_services() -> Downstream:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/members":
            return httpx.Response(422, json=PHONE_REFUSED)
        if request.method == "POST" and request.url.path == "/v1/redemptions":
            return httpx.Response(409, json={"detail": "balance 120 is below the price of 500 points", "error": "insufficient_points"})
        if request.method == "POST" and request.url.path.endswith("/hand-over"):
            return httpx.Response(409, json={"detail": "the gift shelf is being restocked"})
        return httpx.Response(404, json={"detail": "not here"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://services")
    return Downstream(members=client, points=client)


def message(html: str) -> str:
    """The refusal shown, checked to be announced once: on a page of its own by the live area
    around it; as the fragment htmx puts in a form's message area (a live region, checked where
    the form is shown) by that area, never as an alert of its own as well."""
    if "<html" in html:
        found = re.search(r'<div role="alert" aria-live="polite"><p class="refusal"(?: data-fields="[^"]*")?>(.*?)</p></div>', html, re.S)
    else:
        found = re.fullmatch(r'\s*<p class="refusal"(?: data-fields="[^"]*")?>(.*?)</p>\s*', html, re.S)
    assert found, html
    return found.group(1).strip()


async def desk_form(gateway: httpx.AsyncClient) -> dict[str, str]:
    page = await gateway.get("/console/desk")
    assert page.status_code == 200, page.text
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page.text)
    assert key
    return {"csrf": csrf_of(page.text), "idempotency_key": key.group(1)}


async def test_a_registration_members_refuses_names_each_field_by_its_label_in_chinese(gateway, env, caplog) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    gateway.app.state.downstream = refusing_services()
    form = {**await desk_form(gateway), "name": "钱芳", "phone": "123", "community": "阳光花园", "address": "3幢201室"}

    with caplog.at_level(logging.INFO, logger="gateway.api.console.render"):
        page = await gateway.post("/console/desk/register", data=form)
    assert page.status_code == 422
    assert message(page.text) == "电话：应为 11 位手机号码；姓名：最多 50 个字符"
    assert "String should" not in page.text
    # Support still finds what members said, word for word.
    assert any("String should match pattern" in r.getMessage() and "/console/desk/register" in r.getMessage() for r in caplog.records)

    # The desk's form sent by htmx gets the same words in the form's message area.
    fragment = await gateway.post("/console/desk/register", data=form, headers={"HX-Request": "true"})
    assert fragment.status_code == 422 and "<html" not in fragment.text
    assert message(fragment.text) == "电话：应为 11 位手机号码；姓名：最多 50 个字符"
    # That area is the live region announcing it; the fragment names the fields refused, for the
    # form to mark them (console.js).
    assert '<div id="register-message" role="alert" aria-live="polite"></div>' in (await gateway.get("/console/desk")).text
    assert '<p class="refusal" data-fields="phone name">' in fragment.text


@pytest.mark.parametrize("role", ["marketing", "operator"])
async def test_a_role_that_may_not_register_is_offered_no_registration_form(gateway, env, role) -> None:
    await logged_in(gateway, env, "someone", role)
    page = await gateway.get("/console/desk")
    assert page.status_code == 200, page.text
    assert 'action="/console/desk/register"' not in page.text


async def test_points_refusing_a_gift_is_told_in_chinese_and_an_unknown_refusal_keeps_its_words(gateway, env) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    gateway.app.state.downstream = refusing_services()
    form = await desk_form(gateway)

    redeem = await gateway.post("/console/desk/members/m-1/redeem", data={**form, "gift_id": "cushion"})
    assert redeem.status_code == 409
    assert message(redeem.text) == "积分不足：余额 120，该赠品需 500 积分。"

    hand_over = await gateway.post("/console/desk/members/m-1/hand-over", data={"csrf": form["csrf"], "redemption_id": "r-1"})
    assert hand_over.status_code == 409
    assert message(hand_over.text) == "系统拒绝：the gift shelf is being restocked"


async def test_a_person_reading_english_is_told_in_english(gateway, env) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    gateway.app.state.downstream = refusing_services()
    gateway.cookies.set("crm_console_lang", "en")
    form = {**await desk_form(gateway), "name": "钱芳", "phone": "123", "community": "阳光花园", "address": "3幢201室"}
    page = await gateway.post("/console/desk/register", data=form)
    assert message(page.text) == "Phone: must be an 11-digit mobile number; Name: at most 50 characters"


@pytest.mark.parametrize("replay", ["99999999999999999999999", "abc"])
async def test_an_address_the_console_cannot_read_is_a_refusal_page_not_a_server_error(gateway, env, replay: str) -> None:
    await logged_in(gateway, env, "op.zhang", "operator")
    page = await gateway.get(f"/console/ops/dead-letters/replays/{replay}")
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert message(page.text).startswith("replay_id")
    # The gateway's own API beside the console keeps its JSON answer.
    r = await gateway.get("/identity/v1/staff?role=nonesuch", headers=env.auth(Role.ADMIN))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "role"], r.text


@pytest.mark.parametrize(("login", "role", "extra", "path", "action"), [
    ("li.fuwutai", "service_desk", {}, "/console/infobase", "members.infobase.read"),
    ("zhou.am", "account_manager", {"account_manager_id": "am-017"}, "/console/tracking/report", "members.tracking.read"),
])
async def test_another_store_s_report_is_refused_in_words_the_person_reads(gateway, env, login, role, extra, path, action) -> None:
    await logged_in(gateway, env, login, role, store_id="S001", **extra)
    # Members refusing the report as its policy words it, the action refused named after it.
    grant = Grant.of(Principal(subject=login, role=Role(role), store_id="S001"), action)
    with pytest.raises(AccessDenied) as refused:
        grant.store_filter("S002")
    assert refused.value.args[0].endswith(f"({action})")

    def members(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"detail": str(refused.value)})

    def shown(html: str) -> str:
        # The report's page keeps its filters, the refusal in the live area beside them.
        found = re.search(r'<p class="refusal" data-fields="store_id">(.*?)</p>', html, re.S)
        assert found, html
        return found.group(1).strip()

    async with answering(gateway, "members", members):
        page = await gateway.get(path, params={"store_id": "S002"})
        assert page.status_code == 403
        assert shown(page.text) == "门店：您属于门店 S001，不能为门店 S002 办理。"
        gateway.cookies.set("crm_console_lang", "en")
        page = await gateway.get(path, params={"store_id": "S002"})
        assert shown(page.text) == "Store: You work for store S001, not for store S002."
