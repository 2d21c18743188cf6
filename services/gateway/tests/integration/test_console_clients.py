"""The admins' pages for tills and services against the real gateway: the list and its filters,
enrolling a till or a service (its secret shown that once, and good for a token), changing a
secret (the old one refused at once), revoking a till (its token refused by this replica at once,
as when the API revokes it), every step in the client's audit trail; a bad form refused naming its
field in Chinese; and nobody but whom `gateway.identity_client.read` and
`gateway.identity_client.write` name sees the link or opens the pages."""

import base64
import re
from typing import Any

import httpx
import pytest

from tests.support.console import csrf_of, form_of, logged_in
from tests.support.factories import sale_body
from tests.support.identity import MovableClock, admin, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

HTMX = {"HX-Request": "true"}


@pytest.fixture
async def console(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        await logged_in(client, env, "admin.wang", "admin")
        yield client


async def enrolled(gateway: httpx.AsyncClient, env: TestEnv, **body: str) -> dict[str, Any]:
    """A client enrolled through the API, with its secret."""
    r = await gateway.post("/identity/v1/clients", json=body, headers=admin(env))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def token_for(gateway: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return await gateway.post("/identity/v1/token", content="grant_type=client_credentials", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"})


async def till_bearer(gateway: httpx.AsyncClient, till: dict[str, Any]) -> dict[str, str]:
    r = await token_for(gateway, till["client_id"], till["client_secret"])
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def listed_ids(html: str) -> list[str]:
    """The clients the page lists, sorted: those enrolled at the same moment of the test's clock are
    listed in the order of their ids."""
    return sorted(re.findall(r'<tr data-client="([^"]+)">', html))


def secret_in(html: str) -> str:
    found = re.search(r'<code id="client-secret">([^<]+)</code>', html)
    assert found, html
    return found.group(1)


async def test_the_enrol_form_offers_the_platforms_services_as_they_are_written(console) -> None:
    page = await console.get("/console/clients")
    assert ('<datalist id="e-services"><option value="members"><option value="points"><option value="feedback">'
            '<option value="campaigns"></datalist>') in page.text, page.text


async def test_an_admin_enrols_a_till_whose_secret_is_shown_once_and_earns_a_token(console, env) -> None:
    form = await form_of(console, "/console/clients")
    added = await console.post("/console/clients", headers=HTMX, data={
        **form, "kind": "till", "store_id": "S001", "service": "", "label": "入口 3 号"})
    assert added.status_code == 200, added.text
    # Put in place of the page's content: no second click can send the form again.
    assert added.headers["HX-Retarget"] == "#main" and added.headers["HX-Reswap"] == "innerHTML"
    found = re.search(r"门店 S001 的收银机 (till_[0-9a-f]+) 已登记。", added.text)
    assert "<html" not in added.text and found, added.text
    client_id, secret = found.group(1), secret_in(added.text)
    token = await token_for(console, client_id, secret)
    assert token.status_code == 200, token.text
    sale = await console.post("/pos/v1/purchases", json=sale_body(store_id="S001"),
                              headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert sale.status_code == 202, sale.text

    page = await console.get(f"/console/clients/{client_id}")
    assert page.status_code == 200 and secret not in page.text
    assert "收银机" in page.text and "S001 store S001" in page.text and "入口 3 号" in page.text
    # The audit trail names the admin who enrolled it by name, not by their staff id.
    created = re.search(r'<tr data-action="created">(.*?)</tr>', page.text, re.S)
    assert created and "admin.wang" in created.group(1) and "登记了客户端" in created.group(1)
    assert "类型：收银机<br>门店或服务：S001" in created.group(1)
    assert secret not in (await console.get("/console/clients")).text

    # Without scripts the answer is a page of its own.
    plain = await console.post("/console/clients", data={**form, "kind": "service", "store_id": "", "service": "campaigns"})
    assert plain.status_code == 200 and "<html" in plain.text, plain.text
    service = re.search(r"服务 campaigns 的客户端 (svc_[0-9a-f]+) 已登记。", plain.text)
    assert service, plain.text
    assert (await token_for(console, service.group(1), secret_in(plain.text))).status_code == 200


@pytest.mark.parametrize(("typed", "field", "said"), [
    ({"kind": "till"}, "store_id", "门店：收银机属于一家门店：请填写门店"),
    ({"kind": "till", "store_id": "S001", "service": "campaigns"}, "service", "服务：收银机不填写服务：请留空"),
    ({"kind": "service"}, "service", "服务：服务客户端须填写其服务名称"),
    ({"kind": "service", "service": "bogus"}, "service", "服务：须为平台的服务之一：members, points, feedback, campaigns（按此处原样填写）"),
    ({"kind": "service", "service": "campaigns", "store_id": "S001"}, "store_id", "门店：服务客户端不属于某一门店：请留空"),
    ({"kind": "till", "store_id": "S404"}, "store_id", "门店：门店 S404 不存在"),
    ({"kind": "till", "store_id": "S 1"}, "store_id", "门店：格式不正确"),
    ({"kind": "", "store_id": "S001"}, "kind", "类型：只能是以下之一：收银机 / 服务"),
    ({"kind": "till", "store_id": "S001", "label": "x" * 101}, "label", "说明：最多 100 个字符"),
])
async def test_a_bad_enrolment_is_refused_on_the_form_naming_its_field_in_chinese(console, env, typed, field, said) -> None:
    form = await form_of(console, "/console/clients")
    refused = await console.post("/console/clients", headers=HTMX, data={**form, **typed})
    assert refused.status_code == 422, refused.text
    assert re.fullmatch(rf'\s*<p class="refusal" data-fields="{field}">{re.escape(said)}</p>\s*', refused.text), refused.text
    everything = await console.get("/identity/v1/clients", headers=admin(env), params={"include_revoked": "true"})
    assert everything.json() == []


async def test_a_till_of_a_closed_store_is_refused_in_chinese(console, env) -> None:
    closed = await console.put("/api/v1/stores/S003", json={"name": "store S003", "active": False}, headers=admin(env))
    assert closed.status_code == 200, closed.text
    form = await form_of(console, "/console/clients")
    refused = await console.post("/console/clients", headers=HTMX, data={**form, "kind": "till", "store_id": "S003"})
    assert refused.status_code == 422 and 'data-fields="store_id"' in refused.text and "门店：门店 S003 已停业" in refused.text


async def test_the_list_shows_each_client_and_filters_by_kind_store_and_the_revoked(console, env) -> None:
    s001 = await enrolled(console, env, kind="till", store_id="S001", label="till 1")
    s002 = await enrolled(console, env, kind="till", store_id="S002")
    campaigns = await enrolled(console, env, kind="service", service="campaigns")
    gone = await enrolled(console, env, kind="till", store_id="S001")
    assert (await console.post(f"/identity/v1/clients/{gone['client_id']}/revoke", headers=admin(env))).status_code == 200

    listed = await console.get("/console/clients")
    assert listed.status_code == 200
    assert listed_ids(listed.text) == sorted([s001["client_id"], s002["client_id"], campaigns["client_id"]])
    row = re.search(rf'<tr data-client="{s001["client_id"]}">(.*?)</tr>', listed.text, re.S)
    assert row and "收银机" in row.group(1) and "S001 store S001" in row.group(1) and "till 1" in row.group(1) and "在用" in row.group(1)
    everyone = await console.get("/console/clients", params={"include_revoked": "yes"})
    assert gone["client_id"] in listed_ids(everyone.text) and "已吊销" in everyone.text

    services = await console.get("/console/clients", params={"kind": "service"})
    assert listed_ids(services.text) == [campaigns["client_id"]]
    at_s001 = await console.get("/console/clients", params={"store_id": "S001", "include_revoked": "yes"})
    assert listed_ids(at_s001.text) == sorted([s001["client_id"], gone["client_id"]])
    nothing = await console.get("/console/clients", params={"kind": "service", "store_id": "S002"})
    assert listed_ids(nothing.text) == [] and "没有符合条件的收银机或服务。" in nothing.text
    unknown = await console.get("/console/clients", params={"store_id": "S999"})
    assert unknown.status_code == 422 and "门店：门店 S999 不存在" in unknown.text
    no_kind = await console.get("/console/clients", params={"kind": "cashier"})
    assert no_kind.status_code == 422 and "类型：只能是以下之一：收银机 / 服务" in no_kind.text


async def test_a_new_secret_is_shown_once_and_the_old_one_stops_at_once(console, env) -> None:
    till = await enrolled(console, env, kind="till", store_id="S001")
    form = await form_of(console, f"/console/clients/{till['client_id']}")
    rotated = await console.post(f"/console/clients/{till['client_id']}/rotate", headers=HTMX, data=form)
    assert rotated.status_code == 200 and "新密钥已生效；旧密钥已失效。" in rotated.text and "<html" not in rotated.text
    secret = secret_in(rotated.text)
    assert (await token_for(console, till["client_id"], till["client_secret"])).status_code == 401
    assert (await token_for(console, till["client_id"], secret)).status_code == 200

    # Without scripts, a page of its own; each change is in the audit trail, no secret on the page.
    plain = await console.post(f"/console/clients/{till['client_id']}/rotate", data=form)
    assert plain.status_code == 200 and "<html" in plain.text
    assert (await token_for(console, till["client_id"], secret_in(plain.text))).status_code == 200
    page = await console.get(f"/console/clients/{till['client_id']}")
    assert page.text.count('<tr data-action="rotated">') == 2 and "更换了密钥" in page.text
    assert secret not in page.text and secret_in(plain.text) not in page.text


async def test_a_till_revoked_on_the_console_is_refused_at_once(console, env) -> None:
    till = await enrolled(console, env, kind="till", store_id="S001")
    bearer = await till_bearer(console, till)
    assert (await console.post("/pos/v1/purchases", json=sale_body(), headers=bearer)).status_code == 202
    page = f"/console/clients/{till['client_id']}"
    form = await form_of(console, page)

    unticked = await console.post(f"{page}/revoke", headers=HTMX, data=form)
    assert unticked.status_code == 422
    assert re.fullmatch(r'\s*<p class="refusal" data-fields="confirm">确认：请勾选确认框，确认吊销该收银机或服务</p>\s*', unticked.text)
    assert (await console.post("/pos/v1/purchases", json=sale_body(), headers=bearer)).status_code == 202

    revoked = await console.post(f"{page}/revoke", data={**form, "confirm": "yes"})
    assert revoked.status_code == 303 and revoked.headers["location"] == f"{page}?done=revoked"
    # This replica refuses the token it issued minutes ago, without waiting for its next refresh.
    refused = await console.post("/pos/v1/purchases", json=sale_body(), headers=bearer)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert (await token_for(console, till["client_id"], till["client_secret"])).status_code == 401

    shown = await console.get(revoked.headers["location"])
    assert "已吊销：不再获得新令牌" in shown.text and "吊销了客户端" in shown.text
    assert 'id="revoke-client"' not in shown.text and 'id="rotate-client"' not in shown.text
    # Sent again (a second click), it changes nothing and is no error; a revoked secret is not changed.
    assert (await console.post(f"{page}/revoke", data={**form, "confirm": "yes"})).status_code == 303
    trail = (await console.get(f"/identity/v1/clients/{till['client_id']}/audit", headers=admin(env))).json()
    assert [e["action"] for e in trail] == ["created", "revoked"]
    again = await console.post(f"{page}/rotate", headers=HTMX, data=form)
    assert again.status_code == 409 and "该收银机或服务已吊销：请登记新的。" in again.text


async def test_a_client_that_does_not_exist_is_a_page_saying_so(console) -> None:
    missing = await console.get("/console/clients/till_0000000000000000")
    assert missing.status_code == 404 and "未找到该收银机或服务。" in missing.text


async def test_a_form_without_the_console_s_csrf_token_changes_nothing(console, env) -> None:
    till = await enrolled(console, env, kind="till", store_id="S001")
    forged = {"csrf": "0" * 64}
    assert (await console.post(f"/console/clients/{till['client_id']}/revoke", data={**forged, "confirm": "yes"})).status_code == 403
    assert (await console.post(f"/console/clients/{till['client_id']}/rotate", data=forged)).status_code == 403
    assert (await console.post("/console/clients", data={**forged, "kind": "service", "service": "campaigns"})).status_code == 403
    assert (await token_for(console, till["client_id"], till["client_secret"])).status_code == 200
    assert len((await console.get("/identity/v1/clients", headers=admin(env))).json()) == 1


@pytest.mark.parametrize("role", ["store_manager", "operator", "marketing"])
async def test_only_the_roles_of_the_client_policy_see_the_link_and_open_the_pages(env: TestEnv, database_factory, role) -> None:
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as gateway:
        till = await enrolled(gateway, env, kind="till", store_id="S001")
        await logged_in(gateway, env, "someone", role, **({"store_id": "S001"} if role == "store_manager" else {}))
        home = await gateway.get("/console")
        assert home.status_code == 200 and "/console/clients" not in home.text
        for address in ("/console/clients", f"/console/clients/{till['client_id']}"):
            assert (await gateway.get(address)).status_code == 403, address
        form = {"csrf": csrf_of(home.text)}
        assert (await gateway.post(f"/console/clients/{till['client_id']}/revoke", data={**form, "confirm": "yes"})).status_code == 403
        assert (await gateway.post(f"/console/clients/{till['client_id']}/rotate", data=form)).status_code == 403
        assert (await gateway.post("/console/clients", data={**form, "kind": "service", "service": "campaigns"})).status_code == 403
        assert (await token_for(gateway, till["client_id"], till["client_secret"])).status_code == 200


async def test_an_admin_sees_the_link_on_the_menu_and_the_home_page(console) -> None:
    home = await console.get("/console")
    assert home.text.count('href="/console/clients"') == 2 and "收银机与服务" in home.text


async def test_a_tills_store_links_to_the_stores_page_with_its_audit_trail_in_chinese(console, env) -> None:
    till = await enrolled(console, env, kind="till", store_id="S001")
    for body in ({"name": "城东大卖场", "city": "杭州"}, {"name": "城东大卖场", "city": "杭州", "active": False}):
        assert (await console.put("/api/v1/stores/S001", json=body, headers=admin(env))).status_code == 200
    client_page = await console.get(f"/console/clients/{till['client_id']}")
    assert 'href="/console/stores/S001"' in client_page.text
    r = await console.get("/console/stores/S001")
    assert r.status_code == 200, r.text
    rows = re.findall(r'<tr data-action="([^"]+)">(.*?)</tr>', r.text, re.S)
    # Newest first, each action in words: the store was added (by the fixture), renamed, closed.
    assert [action for action, _ in rows] == ["closed", "renamed", "created"]
    closed, renamed, created = (cells for _, cells in rows)
    assert "门店停业" in closed and "门店改名" in renamed and "新增门店" in created
    assert "store S001 → 城东大卖场" in renamed and "城市" in renamed and "杭州" in renamed
    assert "已停业" in r.text
    assert (await console.get("/console/stores/S999")).status_code == 404


async def test_only_who_may_read_a_stores_audit_opens_its_page(env, database_factory) -> None:
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        await logged_in(client, env, "wang.sm", "store_manager", store_id="S001")
        r = await client.get("/console/stores/S001")
        assert r.status_code == 403, r.text
