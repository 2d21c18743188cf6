"""The console as staff on the shop floor use it, checked against WCAG 2.1 AA in a real browser: one
walk through every page of the menu (an admin's, which offers nearly all of them, an account
manager's tracking queue, the desk's pages), each page checked for

- a label on every form field, a name on every button, headers in every table, none of them empty;
- a message area a screen reader announces (role=alert or aria-live) for every form htmx posts;
- a `lang` that is the chosen language, and a title of its own saying where the person is;
- touch targets of at least 44 by 44 px at a tablet's width (buttons, fields, the menu, action links;
  a checkbox by its label, which ticks it too);
- no sideways scrolling of the page at 320 px wide (what 200 % zoom on a 640 px window is), a wide
  table scrolling in its own box;

and the keyboard: the skip link is the first Tab, shows itself and moves on to the content; the
focus ring is drawn; a refused form's message is announced once, by the form's message area, and
the field it names is marked invalid, described by the message and given the focus (the next
refusal moving the marking to the field it names); a barcode scanner (which types the card number
and presses Enter) searches by the card just scanned on the desk's and the customer search's pages,
also when the field still holds the number scanned before or the form a name searched before, and
at the desk a card one customer holds opens that customer's page.
Screenshots at 320 px under screenshots/."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import expect

from shared.auth import Role
from tests.browser.conftest import chromium, log_in, served
from tests.support.factories import member_body
from tests.support.platform import TestEnv, platform

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]

TABLET = {"width": 800, "height": 1024}
NARROWEST = {"width": 320, "height": 640}

# What is wrong with the page shown, by WCAG's rules a script can check; [] when nothing is.
AUDIT = """(lang) => {
  const wrong = [];
  const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const said = (el) => (el.textContent || "").trim();
  const label = (el) => (el.getAttribute("aria-label") || "").trim()
    || [...(el.labels || [])].map(said).join(" ").trim()
    || (el.getAttribute("aria-labelledby") || "").split(/\\s+/).map((id) => document.getElementById(id))
         .filter(Boolean).map(said).join(" ").trim();
  const what = (el) => el.outerHTML.slice(0, 140);
  if (document.documentElement.lang !== lang) wrong.push(`lang is ${document.documentElement.lang}, not ${lang}`);
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (!label(el)) wrong.push(`a field without a label: ${what(el)}`);
  }
  for (const el of document.querySelectorAll("button")) {
    if (!said(el) && !label(el)) wrong.push(`a button without a name: ${what(el)}`);
  }
  for (const el of document.querySelectorAll("[hx-target]")) {
    const area = document.querySelector(el.getAttribute("hx-target"));
    if (!area || !(area.getAttribute("role") === "alert" || area.hasAttribute("aria-live"))) {
      wrong.push(`a form whose message is not announced: ${what(el)}`);
    }
  }
  for (const el of document.querySelectorAll("main table")) {
    if (!el.querySelector("th")) wrong.push(`a table without headers: ${what(el)}`);
    for (const th of el.querySelectorAll("th")) if (!said(th)) wrong.push(`an empty header: ${what(th)}`);
  }
  const targets = "button, select, textarea, input:not([type=hidden]):not([type=checkbox]), header a, .actions a, .tiles a";
  for (const el of document.querySelectorAll(targets)) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.height < 43.5 || r.width < 43.5) wrong.push(`a target of ${r.width.toFixed(0)}x${r.height.toFixed(0)} px: ${what(el)}`);
  }
  for (const el of document.querySelectorAll("input[type=checkbox]")) {
    const box = (el.labels && el.labels[0]) || el;
    const r = box.getBoundingClientRect();
    if (shown(el) && (r.height < 43.5 || r.width < 43.5)) wrong.push(`a checkbox's target of ${r.width.toFixed(0)}x${r.height.toFixed(0)} px: ${what(el)}`);
  }
  return wrong;
}"""

# The fields of the page marked invalid, each with what describes it; the focused field; the
# alerts inside the form's message area (none: the area announces it).
REFUSED = """() => [
  [...document.querySelectorAll("[aria-invalid=true]")].flatMap((el) => [el.id, el.getAttribute("aria-describedby")]),
  document.activeElement.id,
  document.querySelectorAll("#register-message [role=alert], #register-message [aria-live]").length,
]"""

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


async def _walk(page: Any, base: str, paths: list[str], lang: str, titles: dict[str, str], screenshots: Any) -> list[str]:
    """Every page of `paths` checked at a tablet's width and at the narrowest; what is wrong."""
    wrong: list[str] = []
    for path in paths:
        await page.set_viewport_size(TABLET)
        answer = await page.goto(base + path)
        assert answer is not None and answer.ok, f"{path}: {answer.status if answer else 'no answer'}"
        wrong += [f"{path}: {w}" for w in await page.evaluate(AUDIT, lang)]
        titles.setdefault(path.split("?")[0], await page.title())
        await page.set_viewport_size(NARROWEST)
        if (wider := await page.evaluate(OVERFLOW)) > 0:
            wrong.append(f"{path}: {wider} px wider than a 320 px screen")
            await page.screenshot(path=screenshots / f"a11y-320-{len(wrong)}.png", full_page=True)
    return wrong


async def _scan(page: Any, card: str, opens: str = "") -> None:
    """A barcode scanner: the number typed into whatever has the focus, then Enter; the search's
    results, or the page at `opens` the search goes on to."""
    await page.keyboard.type(card)
    await page.keyboard.press("Enter")
    if opens:
        await page.wait_for_url(lambda url: urlsplit(url).path == opens)
    else:
        await page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("card_no") == [card])


async def test_every_page_is_labelled_titled_reachable_by_keyboard_and_fits_a_tablet_and_a_phone(
    env: TestEnv, database_factory, screenshots, tmp_path,
) -> None:
    async with platform(env, database_factory) as p:
        gw, admin = p.gateway, env.auth(Role.ADMIN)
        assert (await gw.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=admin)).status_code == 200
        desk_token = env.auth(Role.SERVICE_DESK, store_id="S001")
        members = []
        for name in ("赵敏", "钱芳"):
            r = await gw.post("/api/v1/members", json=member_body(name=name, community="阳光花园小区"), headers=desk_token)
            assert r.status_code == 201, r.text
            members.append(r.json())
        first, second = members
        r = await gw.post("/api/members/v1/staff", headers=admin, json={
            "id": "am-a11y", "name": "李经理", "work_phone": "0571-88881234", "store_id": "S001", "role": "account_manager"})
        assert r.status_code == 201, r.text
        passwords, staff_ids = {}, {}
        for login, role, extra in (("a11y.admin", "admin", {}), ("a11y.desk", "service_desk", {"store_id": "S001"}),
                                   ("a11y.am", "account_manager", {"store_id": "S001", "account_manager_id": "am-a11y"})):
            r = await gw.post("/identity/v1/staff", headers=admin, json={"login": login, "name": login, "role": role, **extra})
            assert r.status_code == 201, r.text
            passwords[login], staff_ids[login] = r.json()["password"], r.json()["staff_id"]

        async with served(p.apps["gateway"]) as base, chromium(tmp_path / "profile", viewport=TABLET) as page:
            titles: dict[str, str] = {}
            wrong = await _walk(page, base, ["/console/login"], "zh-CN", titles, screenshots)

            # The skip link: the first Tab shows it, Enter moves on to the content, and the next
            # Tab is the content's first link, not the menu's; the focus ring is drawn.
            await log_in(page, base, "a11y.admin", passwords["a11y.admin"])
            await page.keyboard.press("Tab")
            skip = await page.evaluate("() => { const a = document.activeElement, r = a.getBoundingClientRect();"
                                       " return [a.className, r.left >= 0 && r.top >= 0 && r.width > 0]; }")
            assert skip == ["skip", True]
            await page.keyboard.press("Enter")
            assert await page.evaluate("() => document.activeElement.id") == "main"
            await page.keyboard.press("Tab")
            focused = await page.evaluate("() => { const a = document.activeElement, s = getComputedStyle(a);"
                                          " return [!!a.closest('main'), s.outlineStyle, parseFloat(s.outlineWidth)]; }")
            assert focused[0] and focused[1] != "none" and focused[2] >= 2, focused

            # The person's name in the header leads to their password, and says so.
            assert await page.get_by_role("link", name="a11y.admin (我的密码)").count() == 1
            menu = await page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
            assert len(menu) >= 12, menu
            details = [f"/console/customers?card_no={first['card_no']}", f"/console/customers/{first['id']}",
                       f"/console/desk?phone={first['phone']}", f"/console/desk/members/{first['id']}",
                       "/console/desk/stock?store_id=S001", "/console/desk/gift-register?store_id=S001",
                       f"/console/infobase/communities/{first['community_id']}", f"/console/infobase/members/{first['id']}",
                       "/console/password", "/console/accounts/new", f"/console/accounts/{staff_ids['a11y.desk']}",
                       "/console/segments/new"]
            wrong += await _walk(page, base, menu + details, "zh-CN", titles, screenshots)
            # On paper, a table of figures inside a form stays (the gift stock, beside its counts).
            await page.goto(f"{base}/console/desk/stock?store_id=S001")
            await page.emulate_media(media="print")
            assert await page.locator("#gift-stock").is_visible()
            assert not await page.get_by_role("button", name="保存盘点").is_visible()
            await page.emulate_media(media="screen")
            # A refusal is a page of its own too, not one more "CRM console".
            await page.goto(f"{base}/console/customers/no-such-customer")
            titles["a refusal"] = await page.title()

            await page.set_viewport_size(TABLET)
            await page.goto(f"{base}/console")
            await page.get_by_role("button", name="English").click()
            await page.wait_for_url(f"{base}/console")
            wrong += await _walk(page, base, ["/console", "/console/desk"], "en", {}, screenshots)
            await page.get_by_role("button", name="中文").click()
            await page.get_by_role("button", name="退出登录").click()
            await page.wait_for_url(f"{base}/console/login")

            await log_in(page, base, "a11y.am", passwords["a11y.am"])
            wrong += await _walk(page, base, ["/console/tracking"], "zh-CN", titles, screenshots)
            await page.get_by_role("button", name="退出登录").click()
            await page.wait_for_url(f"{base}/console/login")

            await log_in(page, base, "a11y.desk", passwords["a11y.desk"])
            await page.set_viewport_size(TABLET)
            for search, field in (("/console/desk", "d-card"), ("/console/customers", "s-card")):
                # The card field has the focus when the page opens: the scan goes into it, and the
                # scanner's Enter searches. The next scan replaces the number left in the field.
                await page.goto(base + search)
                if search == "/console/customers":
                    # After a search by name, a scanned card finds its customer, whatever name
                    # the form still holds.
                    await page.get_by_label("姓名").fill(second["name"])
                    await page.keyboard.press("Enter")
                    await page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("name") == [second["name"]])
                # Focused once the page has opened (expect waits): autofocus may come after the load event.
                await expect(page.locator(f"#{field}")).to_be_focused()
                if search == "/console/desk":
                    # At the desk a card no one holds leaves its number in the field, and the card
                    # scanned next opens its holder's page straight away.
                    await _scan(page, "8899999999")
                    assert await page.locator(f"#{field}").input_value() == "8899999999"
                    await expect(page.locator(f"#{field}")).to_be_focused()
                    await _scan(page, first["card_no"], f"/console/desk/members/{first['id']}")
                    assert first["name"] in await page.locator("main h1").inner_text()
                    continue
                await _scan(page, first["card_no"])
                assert first["name"] in await page.locator("main table tbody").inner_text()
                await expect(page.locator(f"#{field}")).to_be_focused()
                await _scan(page, second["card_no"])
                assert await page.locator(f"#{field}").input_value() == second["card_no"]
                rows = await page.locator("main table tbody").inner_text()
                assert second["name"] in rows and first["name"] not in rows

            # A refused registration: the message is said under the form, and the focus stays
            # on the form, where the person puts it right.
            await page.goto(f"{base}/console/desk")
            form = page.locator('form[action="/console/desk/register"]')
            for label, value in (("姓名", "孙丽"), ("电话", "123"), ("小区", "阳光花园"), ("地址", "阳光花园1幢")):
                await form.get_by_label(label).fill(value)
            await form.get_by_role("button", name="注册").click()
            await page.locator("#register-message .refusal").wait_for()
            assert await page.evaluate("() => !!document.activeElement.closest('form[action=\"/console/desk/register\"]')")
            # The field refused is marked, described by the message, and has the focus; the
            # message is announced by its area alone, not by an alert inside it as well.
            assert await page.evaluate(REFUSED) == [["r-phone", "register-message"], "r-phone", 0]
            # Put right, the next refusal names another field: that one is marked, the phone no more.
            await form.get_by_label("电话").fill("13912340009")
            await form.get_by_label("卡号（留空则发新卡）").fill("88-00")
            await form.get_by_role("button", name="注册").click()
            await page.wait_for_function("() => document.activeElement.id === 'r-card'")
            assert await page.evaluate(REFUSED) == [["r-card", "register-message"], "r-card", 0]

        # Each page says where the person is: a title of its own, more than the console's name.
        wrong += [f"{path}: the title {title!r} says no more than the console's name"
                  for path, title in titles.items() if title in ("", "CRM 控制台")]
        wrong += [f"{path}: the title {title!r} is another page's too"
                  for path, title in titles.items() if list(titles.values()).count(title) > 1]
        assert wrong == [], "\n".join(wrong)
