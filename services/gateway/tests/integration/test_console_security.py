"""The console attacked as a page in a browser: its answers forbid framing, inline scripts and
foreign Referers; a login starts with a CSRF token nobody knew before it; the language switch
never leaves the console by a path that browsers read differently from the server."""

import re

import pytest

from gateway.console import TEMPLATES
from tests.support.console import account, csrf_of, log_in
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


def policy_of(headers) -> dict[str, str]:
    policy = headers.get("content-security-policy", "")
    return {d.split(" ", 1)[0]: d.partition(" ")[2] for d in (p.strip() for p in policy.split(";")) if d}


def assert_guarded(r) -> None:
    policy = policy_of(r.headers)
    assert policy.get("script-src") == "'self'", (r.url, r.headers)
    assert policy.get("frame-ancestors") == "'none'" and policy.get("object-src") == "'none'"
    assert policy.get("base-uri") == "'none'" and policy.get("form-action") == "'self'"
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


async def test_every_console_answer_forbids_framing_inline_scripts_and_foreign_referers(gateway, env) -> None:
    assert_guarded(await gateway.get("/console/login"))
    assert_guarded(await gateway.get("/console"))  # no session: the redirect to the login
    assert_guarded(await gateway.get("/console/static/console.js"))
    password = await account(gateway, env, "wang.li", "store_manager", store_id="S001")
    r = await log_in(gateway, "wang.li", password)
    assert r.status_code == 303
    assert_guarded(r)
    home = await gateway.get("/console")
    assert home.status_code == 200 and '<script src="/console/static/console.js" defer></script>' in home.text
    assert_guarded(home)
    refused = await gateway.get("/console/ops/health")
    assert refused.status_code == 403
    assert_guarded(refused)
    # The refusal page goes back without a `javascript:` address, which the policy would block.
    assert "javascript:" not in refused.text and 'data-back' in refused.text
    # The staff API keeps its own headers: its JSON is no page.
    assert "content-security-policy" not in (await gateway.get("/api/v1/stores")).headers


def test_no_template_carries_an_inline_script_a_handler_or_a_javascript_address() -> None:
    # What `script-src 'self'` refuses to run: such a page would lose its button in the browser.
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert "javascript:" not in text.lower(), template


async def test_print_buttons_are_run_by_the_console_s_own_script(gateway) -> None:
    script = await gateway.get("/console/static/console.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "[data-print]" in script.text and "window.print()" in script.text and "history.back()" in script.text
    printable = [t for t in TEMPLATES.rglob("*.html") if _("Print") in t.read_text()]
    assert printable and all("data-print" in t.read_text() for t in printable)


def _(message: str) -> str:
    return f'{{{{ _("{message}") }}}}'


async def test_logging_in_gives_the_browser_a_csrf_token_nobody_knew_before(gateway, env) -> None:
    password = await account(gateway, env, "op.zhang", "operator")
    # A token known before the login: one a sibling host set for the whole domain, say.
    planted = "e" * 64
    known = {"Cookie": f"crm_console_csrf={planted}"}
    form = await gateway.get("/console/login", headers=known)
    assert csrf_of(form.text) == planted
    r = await gateway.post("/console/login", data={"csrf": planted, "login": "op.zhang", "password": password}, headers=known)
    assert r.status_code == 303
    renewed = "".join(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("crm_console_csrf="))
    assert renewed, "the login kept the CSRF token the form came with"
    assert planted not in renewed and "HttpOnly" in renewed and "SameSite=strict" in renewed and "Path=/console" in renewed
    home = await gateway.get("/console")
    fresh = csrf_of(home.text)
    assert fresh != planted and gateway.cookies.get("crm_console_csrf") == fresh
    # The planted token no longer passes a form of the session; the new one does.
    assert (await gateway.post("/console/logout", data={"csrf": planted})).status_code == 403
    assert (await gateway.get("/console")).status_code == 200
    assert (await gateway.post("/console/logout", data={"csrf": fresh})).status_code == 303


@pytest.mark.parametrize("elsewhere", [
    "/console/%2e%2e/identity/v1/staff", "/console/%2E%2E/api/v1/stores", "/console/.%2e/x", "/console/%2e./x",
    "/console/a/%2e%2e/%2e%2e/x",
])
async def test_the_language_switch_is_not_led_off_the_console_by_escaped_dots(gateway, env, elsewhere) -> None:
    # Browsers read a `%2e%2e` segment as `..`: the server sees a console path, the browser goes elsewhere.
    page = await gateway.get("/console/login")
    r = await gateway.post("/console/language", data={"csrf": csrf_of(page.text), "lang": "en", "next": elsewhere})
    assert r.status_code == 303 and r.headers["location"] == "/console"
    r = await gateway.post("/console/language", data={"csrf": csrf_of(page.text), "lang": "en", "next": "/console/ops/jobs?x=%2e%2e"})
    assert r.headers["location"] == "/console/ops/jobs?x=%2e%2e"  # a query is no path


@pytest.mark.parametrize("broken", ["/console/\r\nSet-Cookie: crm_console=x", "/console/ops\tjobs", "/console/\x00"])
async def test_the_language_switch_sends_no_control_character_back_in_a_header(gateway, broken) -> None:
    # htmx follows `HX-Redirect`, a header: a line break in it would end the header (the server
    # refuses to send it and the switch fails); urlsplit reads past tabs and line breaks.
    page = await gateway.get("/console/login")
    r = await gateway.post("/console/language", data={"csrf": csrf_of(page.text), "lang": "en", "next": broken},
                           headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/console"
