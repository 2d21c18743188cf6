"""Every page of the console's menu opens for the role it is offered to. The menu follows the
access policy; each page's own reads must follow it too (an admin's Complaints page once answered
403: the policy lets head office handle every store's complaints, feedback gave them no queue)."""

import re

import httpx
import pytest

from shared.auth import Role
from tests.support.platform import TestEnv, platform

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]

# (role, store, account manager id): as the demo's staff (crm_cli.demo_staff).
STAFF = [
    ("admin", None, None), ("operator", None, None), ("marketing", None, None),
    ("store_manager", "S001", None), ("account_manager", "S001", "am-s001-menu"), ("service_desk", "S001", None),
]


@pytest.fixture
def backend() -> str:
    return "sqlite"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no csrf field"
    return found.group(1)


async def test_every_page_of_each_roles_menu_opens(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        assert (await p.gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=env.auth(Role.ADMIN))).status_code == 200
        for role, store, manager in STAFF:
            r = await p.gateway.post("/identity/v1/staff", headers=env.auth(Role.ADMIN), json={
                "login": f"menu.{role.replace('_', '-')}", "name": f"菜单{role}", "role": role, "store_id": store,
                **({"account_manager_id": manager} if manager else {})})
            assert r.status_code == 201, r.text
            # A browser of their own: the console's session lives in cookies.
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=p.apps["gateway"]), base_url="http://test") as browser:
                form = await browser.get("/console/login")
                signed_in = await browser.post("/console/login", data={
                    "csrf": _csrf(form.text), "login": f"menu.{role.replace('_', '-')}", "password": r.json()["password"]})
                assert signed_in.status_code == 303, signed_in.text
                home = await browser.get("/console")
                nav = re.search(r"<nav [^>]*>(.*?)</nav>", home.text, re.S)
                assert nav, home.text[:500]
                links = re.findall(r'href="(/console[^"]*)"', nav.group(1))
                assert len(links) > 1, f"{role}: a menu of {links}"
                opened = {link: (await browser.get(link)).status_code for link in links}
                assert set(opened.values()) == {200}, f"{role}: {opened}"
