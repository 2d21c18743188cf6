"""The admins' staff-account pages against the real gateway: the list and its filters, adding an
account (its generated password shown that once), changing its role and store, a new password,
deactivating and reactivating it, removing its second factor, every step in the account's audit
trail; a bad form refused naming its field in Chinese; and nobody but whom `gateway.staff.read`
and `gateway.staff.write` name sees the link or opens the pages."""

import re

import httpx
import pytest

from tests.support.console import account, csrf_of, form_of, logged_in
from tests.support.identity import MovableClock, admin, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

HTMX = {"HX-Request": "true"}


@pytest.fixture
async def console(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        await logged_in(client, env, "admin.wang", "admin")
        yield client


async def staff_id_of(gateway: httpx.AsyncClient, env: TestEnv, login: str) -> str:
    listed = await gateway.get("/identity/v1/staff", headers=admin(env), params={"include_deactivated": "true"})
    assert listed.status_code == 200, listed.text
    return str(next(a["staff_id"] for a in listed.json() if a["login"] == login))


async def can_log_in(gateway: httpx.AsyncClient, login: str, password: str) -> bool:
    r = await gateway.post("/identity/v1/login", json={"login": login, "password": password})
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


async def new_account_form(console: httpx.AsyncClient) -> dict[str, str]:
    """The hidden fields of the form that adds an account, as the page made them: its CSRF field and
    its own Idempotency-Key (a new one each time the page is shown)."""
    shown = await console.get("/console/accounts/new")
    assert shown.status_code == 200, shown.text
    key = re.search(r'<form id="new-account".*?name="idempotency_key" value="([0-9a-f]{32})"', shown.text, re.S)
    assert key, shown.text
    return {"csrf": csrf_of(shown.text), "idempotency_key": key.group(1)}


def row_of(html: str, login: str) -> str:
    found = re.search(rf'<tr data-account="{re.escape(login)}">(.*?)</tr>', html, re.S)
    assert found, login
    return found.group(1)


async def test_an_admin_adds_an_account_whose_generated_password_is_shown_once_and_works(console, env) -> None:
    form = await new_account_form(console)
    added = await console.post("/console/accounts", headers=HTMX, data={
        **form, "login": "Desk.Li", "name": "李服务", "role": "service_desk", "store_id": "S001", "password": ""})
    assert added.status_code == 200, added.text
    # Put in place of the page's content: no second click can send the form again.
    assert added.headers["HX-Retarget"] == "#main" and added.headers["HX-Reswap"] == "innerHTML"
    assert "<html" not in added.text and "账号 desk.li（李服务，服务台）已添加。" in added.text
    password = re.search(r'<code id="generated-password">([^<]+)</code>', added.text)
    assert password, added.text
    assert await can_log_in(console, "desk.li", password.group(1))

    staff_id = await staff_id_of(console, env, "desk.li")
    page = await console.get(f"/console/accounts/{staff_id}")
    assert page.status_code == 200 and password.group(1) not in page.text
    assert "服务台" in page.text and "S001 store S001" in page.text
    # The audit trail names the admin who added it by name, not by their staff id.
    added_row = re.search(r'<tr data-action="created">(.*?)</tr>', page.text, re.S)
    assert added_row and "admin.wang" in added_row.group(1) and "添加了账号" in added_row.group(1)
    # What it recorded, in the person's words: the codes the API answers are named.
    assert "登录名：desk.li<br>姓名：李服务<br>角色：服务台<br>门店：S001" in added_row.group(1)
    console.cookies.set("crm_console_lang", "en")
    english = await console.get(f"/console/accounts/{staff_id}")
    console.cookies.delete("crm_console_lang")
    added_row = re.search(r'<tr data-action="created">(.*?)</tr>', english.text, re.S)
    assert added_row and "Login name: desk.li<br>Name: 李服务<br>Role: Service desk<br>Store: S001" in added_row.group(1)

    # Without scripts the answer is a page of its own; a typed password is never shown back.
    form = await new_account_form(console)
    plain = await console.post("/console/accounts", data={
        **form, "login": "mkt.zhao", "name": "赵营销", "role": "marketing", "password": "a long enough secret"})
    assert plain.status_code == 200 and "<html" in plain.text and "generated-password" not in plain.text
    assert "本人使用表单中输入的密码登录。" in plain.text
    assert await can_log_in(console, "mkt.zhao", "a long enough secret")
    form = await new_account_form(console)
    spaced = await console.post("/console/accounts", headers=HTMX, data={
        **form, "login": "mkt.qian", "name": "钱营销", "role": "marketing", "password": " a long enough secret"})
    assert spaced.status_code == 422 and 'data-fields="password"' in spaced.text, spaced.text


@pytest.mark.parametrize(("typed", "field", "said", "status"), [
    ({"login": "desk.qian", "name": "钱", "role": "service_desk"}, "store_id", "门店：服务台在一家门店工作：请填写门店", 422),
    ({"login": "mkt.sun", "name": "孙", "role": "marketing", "store_id": "S001"}, "store_id", "门店：市场营销不属于某一门店：请留空", 422),
    ({"login": "am.zhou", "name": "周", "role": "account_manager"}, "account_manager_id",
     "员工名录编号：客户经理需要员工名录编号：系统凭它找到其负责的顾客", 422),
    ({"login": "desk.wu", "name": "吴", "role": "service_desk", "store_id": "S404"}, "store_id", "门店：门店 S404 不存在或已停业", 422),
    ({"login": "Zheng Wang", "name": "郑", "role": "marketing"}, "login",
     "登录名：2 至 64 个小写字母、数字、“.”、“_”或“-”，以字母或数字开头", 422),
    # Spaces only: a box left empty, as any other required one.
    ({"login": "mkt.feng", "name": "  ", "role": "marketing"}, "name", "姓名：必填", 422),
    ({"login": "mkt.chen", "name": "陈", "role": "cashier"}, "role", "角色：只能是以下之一：服务台 / 客户经理 / 店长 / 市场营销 / 管理员 / 运维人员", 422),
    ({"login": "mkt.chu", "name": "褚", "role": "marketing", "password": "short"}, "password", "密码：至少 12 个字符", 422),
    # A text's limit in characters, as the API words it, not "at most 128 items".
    ({"login": "mkt.wei", "name": "魏", "role": "marketing", "password": "x" * 129}, "password", "密码：最多 128 个字符", 422),
])
async def test_a_bad_new_account_is_refused_on_the_form_naming_its_field_in_chinese(console, env, typed, field, said, status) -> None:
    form = await new_account_form(console)
    refused = await console.post("/console/accounts", headers=HTMX, data={**form, **typed})
    assert refused.status_code == status, refused.text
    assert re.fullmatch(rf'\s*<p class="refusal" data-fields="{field}">{re.escape(said)}</p>\s*', refused.text), refused.text
    listed = await console.get("/identity/v1/staff", headers=admin(env), params={"include_deactivated": "true"})
    assert typed["login"].lower() not in [a["login"] for a in listed.json()]


async def test_an_empty_new_account_form_names_every_required_box_as_required(console, env) -> None:
    form = await new_account_form(console)
    refused = await console.post("/console/accounts", headers=HTMX, data={**form, "login": "", "name": " ", "role": ""})
    assert refused.status_code == 422, refused.text
    said = "登录名：必填；姓名：必填；角色：必填"
    assert re.fullmatch(rf'\s*<p class="refusal" data-fields="login name role">{re.escape(said)}</p>\s*', refused.text), refused.text


async def test_the_form_sent_again_after_a_lost_answer_shows_the_account_with_a_password_that_works(console, env) -> None:
    form = {**await new_account_form(console), "login": "desk.li", "name": "李服务", "role": "service_desk",
            "store_id": "S001", "password": ""}
    lost = await console.post("/console/accounts", headers=HTMX, data=form)
    again = await console.post("/console/accounts", headers=HTMX, data=form)
    assert lost.status_code == again.status_code == 200, again.text
    assert "账号 desk.li（李服务，服务台）已添加。" in again.text
    first, second = (re.search(r'<code id="generated-password">([^<]+)</code>', r.text).group(1) for r in (lost, again))
    assert first != second and await can_log_in(console, "desk.li", second) and not await can_log_in(console, "desk.li", first)
    page = await console.get(f"/console/accounts/{await staff_id_of(console, env, 'desk.li')}")
    assert '<tr data-action="creation_retried">' in page.text and "重试添加：已重新生成初始密码" in page.text
    # The same form sent again for another account, or once the person has logged in: said in Chinese,
    # with what to do on the console (a key is nothing its users see).
    other = await console.post("/console/accounts", headers=HTMX, data={**form, "role": "marketing", "store_id": ""})
    assert other.status_code == 409 and "此表单已用于另一项操作：请刷新页面后重新填写。" in other.text, other.text
    assert await can_log_in(console, "desk.li", second)
    used = await console.post("/console/accounts", headers=HTMX, data=form)
    assert used.status_code == 409 and "此表单已添加账号 desk.li，该账号此后已被使用或修改" in used.text, used.text
    # A form without its key is refused naming it, not taken without one.
    keyless = {name: value for name, value in form.items() if name != "idempotency_key"}
    refused = await console.post("/console/accounts", headers=HTMX, data={**keyless, "login": "desk.zhou"})
    assert refused.status_code == 422 and 'data-fields="idempotency_key"' in refused.text


async def test_a_login_taken_is_refused_in_chinese(console, env) -> None:
    await account(console, env, "desk.li", "service_desk", store_id="S001")
    form = await new_account_form(console)
    taken = await console.post("/console/accounts", headers=HTMX, data={**form, "login": "desk.li", "name": "另一个李", "role": "marketing"})
    assert taken.status_code == 409 and "登录名 desk.li 已被使用。" in taken.text
    # The box holding the login is marked for the person to change it (console.js reads `data-fields`).
    assert 'data-fields="login"' in taken.text, taken.text


async def test_the_list_shows_each_account_and_filters_by_role_store_and_the_deactivated(console, env) -> None:
    await account(console, env, "desk.li", "service_desk", store_id="S001")
    await account(console, env, "sm.zhou", "store_manager", store_id="S002")
    await account(console, env, "mkt.zhao", "marketing")
    gone = await staff_id_of(console, env, "mkt.zhao")
    assert (await console.post(f"/identity/v1/staff/{gone}/deactivate", headers=admin(env))).status_code == 200

    listed = await console.get("/console/accounts")
    assert listed.status_code == 200
    desk = row_of(listed.text, "desk.li")
    assert "服务台" in desk and "S001 store S001" in desk and "在用" in desk and "未开通" in desk
    assert 'data-account="mkt.zhao"' not in listed.text  # deactivated: only on request
    everyone = await console.get("/console/accounts", params={"include_deactivated": "yes"})
    assert "已停用" in row_of(everyone.text, "mkt.zhao")

    managers = await console.get("/console/accounts", params={"role": "store_manager"})
    assert re.findall(r'data-account="([^"]+)"', managers.text) == ["sm.zhou"]
    at_s001 = await console.get("/console/accounts", params={"store_id": "S001"})
    assert re.findall(r'data-account="([^"]+)"', at_s001.text) == ["desk.li"]
    unknown = await console.get("/console/accounts", params={"store_id": "S999"})
    assert unknown.status_code == 422 and "门店：门店 S999 不存在" in unknown.text
    no_role = await console.get("/console/accounts", params={"role": "cashier"})
    assert no_role.status_code == 422 and "角色：只能是以下之一" in no_role.text


async def test_changing_role_and_store_takes_effect_and_is_in_the_audit_trail(console, env) -> None:
    await account(console, env, "desk.li", "service_desk", store_id="S001")
    staff_id = await staff_id_of(console, env, "desk.li")
    form = await form_of(console, f"/console/accounts/{staff_id}")
    changed = await console.post(f"/console/accounts/{staff_id}", headers=HTMX, data={
        **form, "name": "李店长", "role": "store_manager", "store_id": "S002", "account_manager_id": ""})
    assert changed.status_code == 204 and changed.headers["HX-Redirect"] == f"/console/accounts/{staff_id}?done=changed"
    now = (await console.get("/identity/v1/staff/" + staff_id, headers=admin(env))).json()
    assert (now["name"], now["role"], now["store_id"]) == ("李店长", "store_manager", "S002")
    page = await console.get(f"/console/accounts/{staff_id}?done=changed")
    assert "账号已保存。" in page.text and "修改了账号" in page.text
    changed_row = re.search(r'<tr data-action="changed">(.*?)</tr>', page.text, re.S)
    assert changed_row and "姓名：desk.li → 李店长<br>角色：服务台 → 店长<br>门店：S001 → S002" in changed_row.group(1)

    # A role without a store keeps none: the form says so on the store field until it is emptied.
    kept = await console.post(f"/console/accounts/{staff_id}", headers=HTMX, data={
        **form, "name": "李店长", "role": "marketing", "store_id": "S002", "account_manager_id": ""})
    assert kept.status_code == 422 and 'data-fields="store_id"' in kept.text and "市场营销不属于某一门店" in kept.text
    cleared = await console.post(f"/console/accounts/{staff_id}", headers=HTMX, data={
        **form, "name": "李店长", "role": "marketing", "store_id": "", "account_manager_id": ""})
    assert cleared.status_code == 204
    now = (await console.get("/identity/v1/staff/" + staff_id, headers=admin(env))).json()
    assert (now["role"], now["store_id"]) == ("marketing", None)


async def test_a_form_sent_unchanged_changes_nothing_and_writes_no_audit_entry(console, env) -> None:
    await account(console, env, "desk.li", "service_desk", store_id="S001")
    staff_id = await staff_id_of(console, env, "desk.li")
    form = await form_of(console, f"/console/accounts/{staff_id}")
    same = await console.post(f"/console/accounts/{staff_id}", data={
        **form, "name": "desk.li", "role": "service_desk", "store_id": "S001", "account_manager_id": ""})
    assert same.status_code == 303
    trail = (await console.get(f"/identity/v1/staff/{staff_id}/audit", headers=admin(env))).json()
    assert [e["action"] for e in trail] == ["created"]


async def test_deactivating_ends_logins_and_reactivating_brings_them_back(console, env) -> None:
    password = await account(console, env, "desk.li", "service_desk", store_id="S001")
    staff_id = await staff_id_of(console, env, "desk.li")
    form = await form_of(console, f"/console/accounts/{staff_id}")
    off = await console.post(f"/console/accounts/{staff_id}/deactivate", data=form)
    assert off.status_code == 303 and off.headers["location"] == f"/console/accounts/{staff_id}?done=deactivated"
    assert not await can_log_in(console, "desk.li", password)
    page = await console.get(off.headers["location"])
    assert "账号已停用" in page.text and "已停用" in page.text and "重新启用" in page.text
    deactivated_row = re.search(r'<tr data-action="deactivated">(.*?)</tr>', page.text, re.S)
    assert deactivated_row and re.search(r"结束的登录会话：\d+", deactivated_row.group(1))
    # Sent again (a second click), it changes nothing and is no error.
    assert (await console.post(f"/console/accounts/{staff_id}/deactivate", data=form)).status_code == 303

    on = await console.post(f"/console/accounts/{staff_id}/reactivate", data=form)
    assert on.status_code == 303 and await can_log_in(console, "desk.li", password)
    assert "账号已重新启用。" in (await console.get(on.headers["location"])).text


async def test_the_last_admin_account_is_not_deactivated_and_the_form_says_why_in_chinese(console, env) -> None:
    staff_id = await staff_id_of(console, env, "admin.wang")
    form = await form_of(console, f"/console/accounts/{staff_id}")
    off = await console.post(f"/console/accounts/{staff_id}/deactivate", headers=HTMX, data=form)
    assert off.status_code == 409 and "admin.wang 是最后一个在用的管理员账户：请先将另一个账户设为管理员。" in off.text
    assert await staff_id_of(console, env, "admin.wang") == staff_id
    listed = (await console.get("/identity/v1/staff", headers=admin(env), params={"role": "admin"})).json()
    assert [a["login"] for a in listed] == ["admin.wang"]


async def test_a_new_password_generated_is_shown_once_and_a_short_one_is_refused(console, env) -> None:
    old = await account(console, env, "desk.li", "service_desk", store_id="S001")
    staff_id = await staff_id_of(console, env, "desk.li")
    form = await form_of(console, f"/console/accounts/{staff_id}")
    short = await console.post(f"/console/accounts/{staff_id}/password", headers=HTMX, data={**form, "password": "short"})
    assert short.status_code == 422 and re.fullmatch(r'\s*<p class="refusal" data-fields="password">密码：至少 12 个字符</p>\s*', short.text)
    # Refused as the API refuses it, not set without the spaces typed: that was not the password typed.
    for spaced in (" leading space 123", "trailing space 123  "):
        r = await console.post(f"/console/accounts/{staff_id}/password", headers=HTMX, data={**form, "password": spaced})
        assert r.status_code == 422 and 'data-fields="password"' in r.text, r.text
        assert not await can_log_in(console, "desk.li", spaced.strip())

    generated = await console.post(f"/console/accounts/{staff_id}/password", headers=HTMX, data={**form, "password": ""})
    assert generated.status_code == 200 and "新密码已设置；该账号的所有会话均已结束。" in generated.text
    found = re.search(r'<code id="generated-password">([^<]+)</code>', generated.text)
    assert found and await can_log_in(console, "desk.li", found.group(1))
    assert not await can_log_in(console, "desk.li", old)
    typed = await console.post(f"/console/accounts/{staff_id}/password", headers=HTMX, data={**form, "password": "typed by the admin 1"})
    assert typed.status_code == 200 and "generated-password" not in typed.text
    assert await can_log_in(console, "desk.li", "typed by the admin 1")
    page = await console.get(f"/console/accounts/{staff_id}")
    assert page.text.count('<tr data-action="password_set">') == 2 and "typed by the admin 1" not in page.text


async def test_the_second_factor_of_a_lost_phone_is_removed(console, env) -> None:
    await account(console, env, "sm.zhou", "store_manager", store_id="S001")
    staff_id = await staff_id_of(console, env, "sm.zhou")
    assert (await console.post(f"/identity/v1/staff/{staff_id}/totp", headers=admin(env))).status_code == 200
    page = await console.get(f"/console/accounts/{staff_id}")
    assert "已开通" in page.text and ">移除二次验证</button>" in page.text
    removed = await console.post(f"/console/accounts/{staff_id}/second-factor/remove", data={"csrf": csrf_of(page.text)})
    assert removed.status_code == 303
    page = await console.get(removed.headers["location"])
    assert "二次验证已移除" in page.text and ">移除二次验证</button>" not in page.text and "移除了二次验证" in page.text
    assert (await console.get(f"/identity/v1/staff/{staff_id}", headers=admin(env))).json()["totp_enabled"] is False


async def test_an_account_that_does_not_exist_is_a_page_saying_so(console) -> None:
    missing = await console.get("/console/accounts/stf_0000000000000000")
    assert missing.status_code == 404 and "未找到该员工账号。" in missing.text


async def test_a_form_without_the_console_s_csrf_token_changes_nothing(console, env) -> None:
    password = await account(console, env, "desk.li", "service_desk", store_id="S001")
    staff_id = await staff_id_of(console, env, "desk.li")
    forged = await console.post(f"/console/accounts/{staff_id}/deactivate", data={"csrf": "0" * 64})
    assert forged.status_code == 403 and await can_log_in(console, "desk.li", password)


@pytest.mark.parametrize("role", ["store_manager", "operator", "marketing"])
async def test_only_the_roles_of_the_staff_policy_see_the_link_and_open_the_pages(env: TestEnv, database_factory, role) -> None:
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as gateway:
        await account(gateway, env, "desk.li", "service_desk", store_id="S001")
        staff_id = await staff_id_of(gateway, env, "desk.li")
        await logged_in(gateway, env, "someone", role, **({"store_id": "S001"} if role == "store_manager" else {}))
        home = await gateway.get("/console")
        assert home.status_code == 200 and "/console/accounts" not in home.text
        for address in ("/console/accounts", "/console/accounts/new", f"/console/accounts/{staff_id}"):
            assert (await gateway.get(address)).status_code == 403, address
        refused = await gateway.post(f"/console/accounts/{staff_id}/deactivate", data={"csrf": csrf_of(home.text)})
        assert refused.status_code == 403


async def test_an_admin_sees_the_link_on_the_menu_and_the_home_page(console) -> None:
    home = await console.get("/console")
    assert home.text.count('href="/console/accounts"') == 2 and "员工账号" in home.text

