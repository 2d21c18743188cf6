"""The console's browser session against the real gateway (SQLite and PostgreSQL): the login form
posts to the staff login, the tokens live in an HttpOnly SameSite=Strict cookie and are refreshed
by the server, every form needs the CSRF token, logging out ends the session; pages are zh-CN
until the language is switched; a role without the right gets a page saying so."""

import asyncio
import re
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pyotp
import pytest

from shared.auth import Principal, Role, TokenVerifier
from tests.support.console import account, csrf_of, log_in
from tests.support.identity import MovableClock, admin, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def gateway(env: TestEnv, database_factory, clock: MovableClock):
    async with gateway_with_stores(env, await database_factory("gateway"), clock) as client:
        yield client


async def test_logging_in_keeps_the_tokens_in_a_strict_http_only_cookie(gateway, env) -> None:
    password = await account(gateway, env, "op.zhang", "operator")
    page = await gateway.get("/console/login")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text and "登录名" in page.text
    csrf_cookie = page.headers["set-cookie"]
    assert "crm_console_csrf=" in csrf_cookie and "HttpOnly" in csrf_cookie and "SameSite=strict" in csrf_cookie

    r = await gateway.post("/console/login", data={"csrf": csrf_of(page.text), "login": "op.zhang", "password": password})
    assert r.status_code == 303 and r.headers["location"] == "/console"
    session = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("crm_console="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/console" in session
    assert "Secure" not in session  # served over http here, at an http public address

    home = await gateway.get("/console")
    assert home.status_code == 200 and "运维人员" in home.text and (
        '<a href="/console/password" title="我的密码">op.zhang<span class="visually-hidden"> (我的密码)</span></a> · 运维人员'
        in home.text)
    assert 'href="/console/ops/health"' in home.text



async def test_a_wrong_password_is_refused_on_the_page_in_the_person_s_language(gateway, env) -> None:
    await account(gateway, env, "op.zhang", "operator")
    r = await log_in(gateway, "op.zhang", "not the password at all")
    assert r.status_code == 401 and "登录名或密码错误。" in r.text
    assert "crm_console=" not in r.headers.get("set-cookie", "")
    assert (await gateway.get("/console")).status_code == 303


async def test_a_person_with_a_second_factor_is_told_to_type_the_code_or_that_it_was_wrong(gateway, env, clock) -> None:
    password = await account(gateway, env, "mgr.wang", "store_manager", store_id="S001")
    [staff] = (await gateway.get("/identity/v1/staff", headers=admin(env))).json()
    r = await gateway.post(f"/identity/v1/staff/{staff['staff_id']}/totp", headers=admin(env))
    totp = pyotp.parse_uri(r.json()["otpauth_uri"])

    async def with_code(code: str) -> httpx.Response:
        form = await gateway.get("/console/login")
        return await gateway.post("/console/login", data={
            "csrf": csrf_of(form.text), "login": "mgr.wang", "password": password, "totp_code": code})

    # Both are refusals of a right password: "wrong login or password" would send the person
    # looking for a typo in the wrong field.
    r = await with_code("")
    assert r.status_code == 401 and "请同时输入身份验证器应用中的一次性验证码。" in r.text and "登录名或密码错误" not in r.text
    r = await with_code(totp.at(clock.now - timedelta(minutes=5)))
    assert r.status_code == 401 and "一次性验证码错误。" in r.text and "登录名或密码错误" not in r.text
    assert (await with_code(totp.at(clock.now))).status_code == 303


async def test_behind_a_proxy_ending_tls_the_cookies_are_secure_by_the_public_address(env: TestEnv, database_factory) -> None:
    # The Ingress ends TLS and talks http to the gateway: the request alone says http. (The test
    # client keeps Secure cookies from an http address to itself: they are sent by hand here.)
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock(),
                                   public_url="https://crm.example.cn") as gateway:
        password = await account(gateway, env, "op.zhang", "operator")
        page = await gateway.get("/console/login")
        assert "Secure" in page.headers["set-cookie"]
        csrf = csrf_of(page.text)
        r = await gateway.post("/console/login", data={"csrf": csrf, "login": "op.zhang", "password": password},
                               headers={"Cookie": f"crm_console_csrf={csrf}"})
        assert r.status_code == 303, r.text
        session = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("crm_console="))
        assert "Secure" in session and "HttpOnly" in session
        logout = await gateway.post("/console/logout", data={"csrf": csrf}, headers={
            "Cookie": f"crm_console_csrf={csrf}; {session.split(';')[0]}"})
        ended = next(v for k, v in logout.headers.multi_items() if k == "set-cookie" and v.startswith("crm_console="))
        assert logout.status_code == 303 and "Secure" in ended and "Max-Age=0" in ended


async def test_a_form_without_the_browser_s_csrf_token_is_refused(gateway, env) -> None:
    password = await account(gateway, env, "op.zhang", "operator")
    await gateway.get("/console/login")
    r = await gateway.post("/console/login", data={"csrf": "0" * 64, "login": "op.zhang", "password": password})
    assert r.status_code == 403 and "表单已过期或并非来自本系统：请刷新页面后重试。" in r.text
    assert "crm_console=" not in r.headers.get("set-cookie", "")
    # Logged in, a post without the token does not log out either.
    assert (await log_in(gateway, "op.zhang", password)).status_code == 303
    assert (await gateway.post("/console/logout", data={})).status_code == 403
    assert (await gateway.get("/console")).status_code == 200


async def test_an_expired_access_token_is_refreshed_once_for_concurrent_pages(gateway, env, clock) -> None:
    password = await account(gateway, env, "op.zhang", "operator")
    clock.now -= timedelta(minutes=5)  # the tokens are issued five minutes ago: expired now
    assert (await log_in(gateway, "op.zhang", password)).status_code == 303
    clock.now += timedelta(minutes=5)
    old = gateway.cookies.get("crm_console")
    gateway.cookies.delete("crm_console")
    # A page and its fragments arrive together with the same expired token: all are served, and
    # the swapped refresh token is not mistaken for a stolen one.
    pages = await asyncio.gather(*(gateway.get("/console", headers={"Cookie": f"crm_console={old}"}) for _ in range(3)))
    assert [p.status_code for p in pages] == [200, 200, 200]
    renewed = {p.cookies.get("crm_console") for p in pages}
    assert len(renewed) == 1 and None not in renewed and old not in renewed
    gateway.cookies.set("crm_console", renewed.pop(), path="/console")
    assert (await gateway.get("/console")).status_code == 200


async def test_logging_out_ends_the_session(gateway, env) -> None:
    password = await account(gateway, env, "op.zhang", "operator")
    await log_in(gateway, "op.zhang", password)
    home = await gateway.get("/console")
    kept = gateway.cookies.get("crm_console")
    r = await gateway.post("/console/logout", data={"csrf": csrf_of(home.text)})
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert (await gateway.get("/console")).status_code == 303
    # The refresh token in a copy of the cookie is dead too.
    refresh = kept.strip('"').partition("|")[2]
    assert (await gateway.post("/identity/v1/refresh", json={"refresh_token": refresh})).status_code == 401


IDLE_PAGE = "您的会话已因 30 分钟未使用而结束。"


def going_of(html: str) -> str:
    """Where the login form goes on to once logged in."""
    found = re.search(r'action="/console/login".*?name="next" value="([^"]*)"', html, re.DOTALL)
    assert found, html
    return found.group(1).replace("&amp;", "&")


class VerifierOnTheClock:
    """The gateway's check of access tokens judged at the test's clock rather than the wall clock:
    moving the clock on by minutes, the session's access token runs out as it would in real life,
    and the next page swaps the refresh token."""

    def __init__(self, verifier: TokenVerifier, clock: MovableClock) -> None:
        self.verifier, self.clock = verifier, clock

    def verify(self, token: str) -> Principal:
        return self.verifier.verify_at(token, self.clock())


def on_the_clock(gateway: httpx.AsyncClient, clock: MovableClock) -> None:
    gateway.app.state.verifier = VerifierOnTheClock(gateway.app.state.verifier, clock)


async def test_a_session_used_within_the_idle_time_goes_on_and_one_left_alone_ends_with_a_word_why(gateway, env, clock) -> None:
    password = await account(gateway, env, "op.zhang", "operator")
    on_the_clock(gateway, clock)
    assert (await log_in(gateway, "op.zhang", password)).status_code == 303
    # A page every 20 minutes: an hour on, the session goes on (CRM_STAFF_IDLE_TIMEOUT_S, 30 minutes).
    for _ in range(3):
        clock.now += timedelta(minutes=20)
        assert (await gateway.get("/console")).status_code == 200
    left = gateway.cookies.get("crm_console")

    # Left on the desk for half an hour: the next page is the login page, saying why, and the
    # session's cookie goes.
    clock.now += timedelta(minutes=30)
    r = await gateway.get("/console/password?changed=1")
    going = "/console/password?changed=1"
    assert r.status_code == 303 and r.headers["location"] == "/console/login?" + urlencode({"next": going, "ended": "idle"})
    ended = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("crm_console="))
    assert "Max-Age=0" in ended
    english = await gateway.get(r.headers["location"], headers={"Cookie": "crm_console_lang=en"})
    assert "Your session ended after 30 minutes without use." in english.text
    login = await gateway.get(r.headers["location"])
    assert login.status_code == 200 and IDLE_PAGE in login.text and going_of(login.text) == going
    # It ended at the gateway, not only in this browser: a copy of the cookie says the same.
    again = await gateway.get("/console", headers={"Cookie": f"crm_console={left}"})
    assert again.headers["location"] == "/console/login?ended=idle"
    refresh = left.strip('"').partition("|")[2]
    assert (await gateway.post("/identity/v1/refresh", json={"refresh_token": refresh})).status_code == 401

    # Logged in again, the person is back where they were going.
    r = await gateway.post("/console/login", data={"csrf": csrf_of(login.text), "login": "op.zhang", "password": password,
                                                   "next": going_of(login.text)})
    assert r.status_code == 303 and r.headers["location"] == going
    assert (await gateway.get(going)).status_code == 200


async def test_a_fragment_of_a_page_left_alone_sends_the_page_to_the_login(gateway, env, clock) -> None:
    password = await account(gateway, env, "op.zhang", "operator")
    on_the_clock(gateway, clock)
    assert (await log_in(gateway, "op.zhang", password)).status_code == 303
    clock.now += timedelta(minutes=31)
    r = await gateway.get("/console/ops/jobs", headers={
        "HX-Request": "true", "HX-Current-URL": "http://testserver/console/ops/dead-letters?state=open"})
    assert r.status_code == 204
    assert r.headers["HX-Redirect"] == "/console/login?" + urlencode({"next": "/console/ops/dead-letters?state=open", "ended": "idle"})


async def test_a_session_that_ended_otherwise_gets_the_plain_login_and_the_login_never_leaves_the_console(gateway, env) -> None:
    password = await account(gateway, env, "op.zhang", "operator")
    r = await gateway.get("/console/password")
    assert r.headers["location"] == "/console/login?next=%2Fconsole%2Fpassword"  # no word about idleness
    form = await gateway.get(r.headers["location"])
    assert IDLE_PAGE not in form.text and going_of(form.text) == "/console/password"
    assert IDLE_PAGE not in (await gateway.get("/console/login?ended=other")).text
    for elsewhere in ("https://elsewhere/console", "//elsewhere/console", "/console/../identity/v1/staff"):
        form = await gateway.get("/console/login", params={"next": elsewhere})
        assert going_of(form.text) == "/console"
        r = await gateway.post("/console/login", data={"csrf": csrf_of(form.text), "login": "op.zhang", "password": password,
                                                       "next": elsewhere})
        assert r.status_code == 303 and r.headers["location"] == "/console", elsewhere


async def test_the_language_switch_shows_english_and_back(gateway, env) -> None:
    password = await account(gateway, env, "op.zhang", "operator")
    await log_in(gateway, "op.zhang", password)
    home = await gateway.get("/console")
    r = await gateway.post("/console/language", data={"csrf": csrf_of(home.text), "lang": "en", "next": "/console"})
    assert r.status_code == 303 and r.headers["location"] == "/console"
    english = await gateway.get("/console")
    assert '<html lang="en">' in english.text and "Log out" in english.text and "退出登录" not in english.text
    r = await gateway.post("/console/language", data={"csrf": csrf_of(english.text), "lang": "zh-CN", "next": "https://elsewhere"})
    assert r.headers["location"] == "/console"  # never sent off the console
    assert "退出登录" in (await gateway.get("/console")).text
    for elsewhere in ("/console/../identity/v1/staff", "//elsewhere/console", "https://elsewhere/console"):
        r = await gateway.post("/console/language", data={"csrf": csrf_of(english.text), "lang": "zh-CN", "next": elsewhere})
        assert r.headers["location"] == "/console", elsewhere


def back_of(html: str) -> str:
    found = re.search(r'name="next" value="([^"]*)"', html)
    assert found, html
    return found.group(1).replace("&amp;", "&")


async def test_the_language_switch_returns_to_the_page_with_its_filters_and_after_a_form_to_the_forms_page(gateway, env) -> None:
    password = await account(gateway, env, "op.zhang", "operator")
    await log_in(gateway, "op.zhang", password)
    filtered = await gateway.get("/console/ops/dead-letters?state=open&topic=crm.pos.purchases")
    assert back_of(filtered.text) == "/console/ops/dead-letters?state=open&topic=crm.pos.purchases"
    # The answer to a form has no address of its own: the switch goes back to the page the form was on.
    answered = await gateway.post("/console/ops/jobs/run", data={"csrf": csrf_of(filtered.text), "job": "nonesuch"},
                                  headers={"Referer": "http://testserver/console/ops/jobs"})
    assert back_of(answered.text) == "/console/ops/jobs"
    answered = await gateway.post("/console/ops/jobs/run", data={"csrf": csrf_of(filtered.text), "job": "nonesuch"})
    assert back_of(answered.text) == "/console"



async def test_a_store_manager_is_told_the_operators_pages_are_not_theirs(gateway, env) -> None:
    password = await account(gateway, env, "wang.li", "store_manager", store_id="S001")
    await log_in(gateway, "wang.li", password)
    home = await gateway.get("/console")
    assert home.status_code == 200 and "/console/ops/health" not in home.text
    for path in ("/console/ops/health", "/console/ops/dead-letters", "/console/ops/jobs"):
        r = await gateway.get(path)
        assert r.status_code == 403 and "您的角色无权打开此页面。" in r.text, path


async def test_the_static_files_are_served_from_the_package(gateway) -> None:
    r = await gateway.get("/console/static/htmx.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "0BSD" in r.text[:400]
    assert (await gateway.get("/console/static/..%2Fmain.py")).status_code == 404


async def test_bearer_tokens_do_not_open_console_pages(gateway, env) -> None:
    r = await gateway.get("/console", headers=env.auth(Role.OPERATOR))
    assert r.status_code == 303 and r.headers["location"] == "/console/login"


async def test_a_person_changes_their_own_password_on_the_console_and_stays_logged_in(gateway, env) -> None:
    password = await account(gateway, env, "op.zhang", "operator")
    assert (await log_in(gateway, "op.zhang", password)).status_code == 303
    other_browser = await gateway.post("/identity/v1/login", json={"login": "op.zhang", "password": password})
    assert other_browser.status_code == 200
    form = await gateway.get("/console/password")
    assert form.status_code == 200 and 'value="op.zhang"' in form.text and "修改我的密码" in form.text
    assert 'href="/console/password"' in (await gateway.get("/console")).text  # from every page's header
    csrf = csrf_of(form.text)

    async def change(**fields: str):
        return await gateway.post("/console/password", data={"csrf": csrf, "password": password, **fields})

    # Refused, each naming the field in the person's language; the password stays as it was.
    r = await change(new_password="a brand new secret", repeat_password="a brand new secreT")
    assert r.status_code == 422 and "再次输入新密码：与新密码不一致" in r.text, r.text
    r = await change(new_password="short", repeat_password="short")
    assert r.status_code == 422 and "新密码：至少 12 个字符" in r.text, r.text
    r = await change(new_password=password, repeat_password=password)
    assert r.status_code == 422 and "新密码：不能与当前密码相同" in r.text, r.text
    r = await gateway.post("/console/password", data={
        "csrf": csrf, "password": "not my password", "new_password": "a brand new secret", "repeat_password": "a brand new secret"})
    # The login is the session's own: what is wrong is the current password, said so on its box.
    assert r.status_code == 401 and '<p class="refusal" data-fields="password">当前密码不正确。</p>' in r.text, r.text
    assert "登录名或密码错误" not in r.text
    # A form naming someone else's login changes only the session's own account.
    r = await change(login="someone.else", new_password="a brand new secret", repeat_password="a brand new secret")
    assert r.status_code == 303 and r.headers["location"] == "/console/password?changed=1"

    done = await gateway.get("/console/password?changed=1")
    assert done.status_code == 200 and "密码已修改" in done.text  # this browser goes on, with its new session
    r = await gateway.post("/identity/v1/refresh", json={"refresh_token": other_browser.json()["refresh_token"]})
    assert r.status_code == 401  # the other browser's session ended
    assert (await gateway.post("/identity/v1/login", json={"login": "op.zhang", "password": password})).status_code == 401
    r = await gateway.post("/identity/v1/login", json={"login": "op.zhang", "password": "a brand new secret"})
    assert r.status_code == 200, r.text


async def test_a_session_without_a_staff_account_has_no_password_to_change(gateway, env) -> None:
    # A token minted with `crm token`: no account stands behind its subject.
    gateway.cookies.set("crm_console", f"{env.issuer.mint('op-cli', Role.OPERATOR)}|rt_none", path="/console")
    page = await gateway.get("/console/password")
    assert page.status_code == 200 and "此会话不属于员工账号" in page.text and 'name="new_password"' not in page.text


async def test_the_password_page_is_the_active_accounts_whose_directory_id_the_session_names(gateway, env) -> None:
    # Chen left; the directory id went to the account of who took over, and that is whose page it is.
    await account(gateway, env, "am.chen", "account_manager", account_manager_id="am-1")
    [chen] = (await gateway.get("/identity/v1/staff", headers=admin(env))).json()
    assert (await gateway.post(f"/identity/v1/staff/{chen['staff_id']}/deactivate", headers=admin(env))).status_code == 200
    password = await account(gateway, env, "am.zhou", "account_manager", account_manager_id="am-1")
    assert (await log_in(gateway, "am.zhou", password)).status_code == 303
    form = await gateway.get("/console/password")
    assert form.status_code == 200 and 'value="am.zhou"' in form.text


async def test_a_csv_download_sends_back_the_session_it_refreshed(gateway, env, clock) -> None:
    def members(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="community,households\n", headers={"content-type": "text/csv"})

    password = await account(gateway, env, "adm.wu", "admin")
    clock.now -= timedelta(minutes=5)  # the access token has expired by the download
    assert (await log_in(gateway, "adm.wu", password)).status_code == 303
    clock.now += timedelta(minutes=5)
    old = gateway.cookies.get("crm_console")
    gateway.app.state.downstream.members = httpx.AsyncClient(transport=httpx.MockTransport(members), base_url="http://members")
    r = await gateway.get("/console/infobase/export", params={"level": "communities"})
    assert r.status_code == 200 and r.text == "community,households\n"
    renewed = r.cookies.get("crm_console")
    assert renewed and renewed != old
    # Long after the swap was forgotten, the next page still finds the session alive.
    gateway.app.state.console_successors._issued.clear()
    assert (await gateway.get("/console")).status_code == 200
