"""Logging in to the console in tests: a staff account made by the admin, then the login form
with its CSRF field, as a browser would."""

import re

import httpx

from tests.support.identity import admin
from tests.support.platform import TestEnv


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def account(gateway: httpx.AsyncClient, env: TestEnv, login: str, role: str, **extra: str) -> str:
    """A new staff account; answers its generated password."""
    r = await gateway.post("/identity/v1/staff", headers=admin(env), json={"login": login, "name": login, "role": role, **extra})
    assert r.status_code == 201, r.text
    return str(r.json()["password"])


async def log_in(gateway: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    form = await gateway.get("/console/login")
    assert form.status_code == 200
    return await gateway.post("/console/login", data={"csrf": csrf_of(form.text), "login": login, "password": password})


async def logged_in(gateway: httpx.AsyncClient, env: TestEnv, login: str, role: str, **extra: str) -> None:
    """A new account of `role`, logged in: the client holds its session cookie from now on."""
    r = await log_in(gateway, login, await account(gateway, env, login, role, **extra))
    assert r.status_code == 303, r.text


async def form_of(gateway: httpx.AsyncClient, address: str) -> dict[str, str]:
    """The CSRF field of the page at `address`, to post its forms with."""
    shown = await gateway.get(address)
    assert shown.status_code == 200, shown.text
    return {"csrf": csrf_of(shown.text)}
