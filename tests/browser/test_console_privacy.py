"""A customer asks at the desk for a copy of their data, then to be erased: head office (the admin,
who handles privacy requests) downloads the copy from the customer's page on the console and hands
it over, then erases the customer there. The copy is the member app's export, read with the admin's
own token from every service, and recorded in the customer's access log; the erasure is the app's,
the customer's sign-ins ending at once. Nobody else is offered either or may do them."""

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from shared.auth import Role
from tests.browser.conftest import chromium, log_in, served
from tests.support.factories import member_body, sale_body, spend_line
from tests.support.platform import TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no csrf field"
    return found.group(1)


@asynccontextmanager
async def _console(p, env: TestEnv, login: str, role: str, store: str | None) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (the console's session lives in cookies), signed in as a new staff account."""
    r = await p.gateway.post("/identity/v1/staff", headers=env.auth(Role.ADMIN),
                             json={"login": login, "name": login, "role": role, "store_id": store})
    assert r.status_code == 201, r.text
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=p.apps["gateway"]), base_url="http://test") as browser:
        form = await browser.get("/console/login")
        signed_in = await browser.post("/console/login", data={"csrf": _csrf(form.text), "login": login, "password": r.json()["password"]})
        assert signed_in.status_code == 303, signed_in.text
        yield browser


async def test_head_office_hands_a_customer_their_data_then_erases_them_and_the_desk_cannot(
    env: TestEnv, database_factory, screenshots, tmp_path,
) -> None:
    async with platform(env, database_factory) as p:
        admin, desk = env.auth(Role.ADMIN), env.auth(Role.SERVICE_DESK, store_id="S001")
        assert (await p.gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=admin)).status_code == 200
        r = await p.gateway.post("/api/v1/members", json=member_body(name="钱芳"), headers=desk)
        assert r.status_code == 201, r.text
        member = r.json()
        sale = sale_body(member={"card_no": member["card_no"]}, lines=[spend_line("88.00")])
        assert (await p.gateway.post("/pos/v1/purchases", json=sale, headers=env.auth(Role.POS, store_id="S001"))).status_code == 202

        async def credited() -> bool:
            return bool((await p.points.get(f"/v1/accounts/{member['id']}", headers=admin)).json().get("balance") == 88)
        await eventually(credited, timeout=60, what="the sale's points")

        # Through the API: the whole document, each service having checked the admin's token.
        r = await p.gateway.post(f"/api/v1/customers/{member['id']}/export", headers=admin)
        assert r.status_code == 200, r.text
        assert r.headers["content-disposition"] == f'attachment; filename="member-{member["id"]}.json"'
        data = r.json()
        assert data["profile"]["id"] == member["id"] and data["profile"]["phone"] == member["phone"]
        assert [x["pos_txn_id"] for x in data["purchases"]] == [sale["pos_txn_id"]]
        assert (data["points"]["balance"], [e["points"] for e in data["points"]["ledger"]]) == (88, [88])
        assert set(data["feedback"]) == {"complaints", "surveys", "comment_book"}
        assert {"coupons", "messages", "offers", "entitlements", "consents"} <= set(data)
        # Nobody else: not the desk where the customer asked, not the customer's own token (their
        # copy is the app's), not a customer nobody has.
        assert (await p.gateway.post(f"/api/v1/customers/{member['id']}/export", headers=desk)).status_code == 403
        own = env.auth(Role.MEMBER, member_id=member["id"])
        assert (await p.gateway.post(f"/api/v1/customers/{member['id']}/export", headers=own)).status_code == 403
        assert (await p.gateway.post("/api/v1/customers/nobody/export", headers=admin)).status_code == 404

        # On the console: the customer's page offers the download to the admin, and it is a file.
        async with _console(p, env, "privacy.office", "admin", None) as office:
            shown = await office.get(f"/console/customers/{member['id']}")
            assert shown.status_code == 200
            action = f'action="/console/customers/{member["id"]}/export"'
            assert action in shown.text
            refused = await office.post(f"/console/customers/{member['id']}/export", data={"csrf": "forged"})
            assert refused.status_code == 403
            download = await office.post(f"/console/customers/{member['id']}/export", data={"csrf": _csrf(shown.text)})
            assert download.status_code == 200, download.text
            assert download.headers["content-type"] == "application/json"
            assert re.fullmatch(rf'attachment; filename="customer-{member["id"]}-\d{{4}}-\d\d-\d\d\.json"',
                                download.headers["content-disposition"])
            copy = download.json()
            assert (copy["profile"]["id"], copy["points"]["balance"]) == (member["id"], 88)
            assert [x["pos_txn_id"] for x in copy["purchases"]] == [sale["pos_txn_id"]]
            # An erasure is refused unless the box is ticked (the browser asks first; a form sent otherwise is refused).
            unticked = await office.post(f"/console/customers/{member['id']}/erasure", data={"csrf": _csrf(shown.text)})
            assert unticked.status_code == 422 and "请勾选，确认是顾客本人申请注销" in unticked.text
        # Each copy handed out is in the customer's access log, as the admin's.
        log = (await p.gateway.get("/api/members/v1/privacy/access-log", params={"member_id": member["id"]}, headers=admin)).json()
        exports = [e for e in log["items"] if e["purpose"] == "members.export"]
        assert len(exports) == 2 and {e["role"] for e in exports} == {"admin"}

        async with _console(p, env, "desk.s001", "service_desk", "S001") as clerk:
            shown = await clerk.get(f"/console/customers/{member['id']}")
            assert shown.status_code == 200 and "/export" not in shown.text
            taken = await clerk.post(f"/console/customers/{member['id']}/export", data={"csrf": _csrf(shown.text)})
            assert taken.status_code == 403
            # A desk is offered neither the erasure nor the copy, and cannot erase by hand.
            assert "/erasure" not in shown.text
            kept = await clerk.post(f"/console/customers/{member['id']}/erasure", data={"csrf": _csrf(shown.text), "confirm": "yes"})
            assert kept.status_code == 403
        assert (await p.gateway.post(f"/api/v1/customers/{member['id']}/erasure", headers=desk)).status_code == 403
        assert (await p.gateway.post(f"/api/v1/customers/{member['id']}/erasure", headers=own)).status_code == 403

        r = await p.gateway.post("/identity/v1/staff", headers=admin, json={"login": "zhou.dpo", "name": "周主管", "role": "admin"})
        assert r.status_code == 201, r.text
        async with served(p.apps["gateway"]) as base, chromium(tmp_path / "profile", viewport={"width": 1024, "height": 900}) as page:
            await log_in(page, base, "zhou.dpo", r.json()["password"])
            await page.goto(f"{base}/console/customers/{member['id']}")
            privacy = page.locator("section", has=page.get_by_role("heading", name="个人信息保护"))
            async with page.expect_download() as download:
                await privacy.get_by_role("button", name="下载顾客数据（JSON）").click()
            saved = tmp_path / "copy.json"
            await (await download.value).save_as(saved)
            assert (await download.value).suggested_filename.startswith(f"customer-{member['id']}-")
            assert json.loads(saved.read_text())["profile"]["id"] == member["id"]
            await page.screenshot(path=screenshots / "40-privacy.png", full_page=True)
            # Only once the box is ticked: an erasure cannot be undone.
            await privacy.get_by_role("button", name="注销该顾客").click()
            assert page.url == f"{base}/console/customers/{member['id']}"
            assert (await p.gateway.get("/app/v1/me", headers=own)).status_code == 200
            await privacy.get_by_label("顾客本人提出了注销申请，我已核实其身份。").check()
            await privacy.get_by_role("button", name="注销该顾客").click()
            await page.wait_for_url(f"{base}/console/customers/{member['id']}?notice=erased")
            assert "该顾客已注销" in await page.locator("main").inner_text()
            assert await page.get_by_role("heading", name="个人信息保护").count() == 0
            assert member["phone"] not in await page.content()
            await page.screenshot(path=screenshots / "41-erased.png", full_page=True)
        # The customer's tokens end at once, not when the event reaches the gateway.
        assert (await p.gateway.get("/app/v1/me", headers=own)).status_code == 401
        again = await p.gateway.post(f"/api/v1/customers/{member['id']}/erasure", headers=admin)
        assert again.status_code == 409, again.text
        # What is kept after it is under no name: a copy now has no personal data left to give.
        remains = (await p.gateway.post(f"/api/v1/customers/{member['id']}/export", headers=admin)).json()
        assert (remains["profile"]["erased"], remains["profile"]["name"], remains["profile"]["phone"]) == (True, "已注销用户", None)
        assert [x["pos_txn_id"] for x in remains["purchases"]] == [sale["pos_txn_id"]]
