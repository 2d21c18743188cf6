"""A store manager sets up their own second factor on the console: proven by their password, the
seed shown once as a QR code and as text, pending (logins need no code) until a code of it turns it
on, that code spent; then logins need a code, the account's trail says who enrolled it, and a second
set-up is refused until an admin removes it. Roles without a second factor are offered none."""

import re
from datetime import timedelta

import pyotp
import pytest

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


async def api_login(gateway, password: str, code: str | None = None):
    return await gateway.post("/identity/v1/login", json={"login": "mgr.wang", "password": password,
                                                          **({"totp_code": code} if code else {})})


async def test_a_store_manager_sets_up_their_own_second_factor(gateway, env, clock) -> None:
    password = await account(gateway, env, "mgr.wang", "store_manager", store_id="S001")
    assert (await log_in(gateway, "mgr.wang", password)).status_code == 303
    page = await gateway.get("/console/password")
    assert "两步登录" in page.text and "未开通。" in page.text and 'action="/console/second-factor"' in page.text

    wrong = await gateway.post("/console/second-factor", data={"csrf": csrf_of(page.text), "password": "not it"},
                               headers={"HX-Request": "true"})
    assert wrong.status_code == 401 and "登录名或密码错误。" in wrong.text

    shown = await gateway.post("/console/second-factor", data={"csrf": csrf_of(page.text), "password": password},
                               headers={"HX-Request": "true"})
    assert shown.status_code == 200 and shown.headers["HX-Retarget"] == "#main"
    assert "no-store" in shown.headers["cache-control"]
    assert re.search(r'<svg [^>]*class="segno"><title>身份验证器应用的二维码</title>', shown.text), shown.text
    seed = re.search(r'<code id="second-factor-seed">([A-Z2-7 ]+)</code>', shown.text).group(1).replace(" ", "")
    totp = pyotp.TOTP(seed)
    # Pending: a seed the app never took locks nobody out.
    assert (await api_login(gateway, password)).status_code == 200

    refused = await gateway.post("/console/second-factor/confirm", data={"csrf": csrf_of(page.text), "totp_code": "123456"},
                                 headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "一次性验证码：不是应用当前显示的验证码" in refused.text
    assert 'data-fields="totp_code"' in refused.text
    code = totp.at(clock.now)
    on = await gateway.post("/console/second-factor/confirm", data={"csrf": csrf_of(page.text), "totp_code": code})
    assert on.status_code == 303 and on.headers["location"] == "/console/password?second_factor=on"
    assert "两步登录已开通：今后登录时需输入应用中的验证码。" in (await gateway.get(on.headers["location"])).text

    assert (await api_login(gateway, password)).status_code == 401  # a code is needed now
    assert (await api_login(gateway, password, code)).status_code == 401  # the confirming code is spent
    assert (await api_login(gateway, password, totp.at(clock.now + timedelta(seconds=30)))).status_code == 200

    [staff] = (await gateway.get("/identity/v1/staff", headers=admin(env))).json()
    assert staff["totp_enabled"] is True
    trail = (await gateway.get(f"/identity/v1/staff/{staff['staff_id']}/audit", headers=admin(env))).json()
    assert [(e["action"], e["actor"]) for e in trail if e["action"] == "totp_enrolled"] == [("totp_enrolled", staff["staff_id"])]

    again = await gateway.post("/console/second-factor", data={"csrf": csrf_of(page.text), "password": password},
                               headers={"HX-Request": "true"})
    assert again.status_code == 409 and "两步登录已开通。手机丢失或更换时，须先由管理员移除。" in again.text


async def test_a_seed_set_up_again_replaces_the_pending_one(gateway, env, clock) -> None:
    password = await account(gateway, env, "mgr.wang", "store_manager", store_id="S001")
    await log_in(gateway, "mgr.wang", password)
    csrf = csrf_of((await gateway.get("/console/password")).text)
    seeds = []
    for _ in range(2):
        shown = await gateway.post("/console/second-factor", data={"csrf": csrf, "password": password})
        assert shown.status_code == 200 and "<h1>开通两步登录</h1>" in shown.text  # a page of its own without scripts
        seeds.append(re.search(r'<code id="second-factor-seed">([A-Z2-7 ]+)</code>', shown.text).group(1).replace(" ", ""))
    assert seeds[0] != seeds[1]
    stale = await gateway.post("/console/second-factor/confirm", data={"csrf": csrf, "totp_code": pyotp.TOTP(seeds[0]).at(clock.now)})
    assert stale.status_code == 422
    assert (await gateway.post("/console/second-factor/confirm",
                               data={"csrf": csrf, "totp_code": pyotp.TOTP(seeds[1]).at(clock.now)})).status_code == 303


async def test_roles_without_a_second_factor_are_offered_none(gateway, env) -> None:
    password = await account(gateway, env, "desk.li", "service_desk", store_id="S001")
    await log_in(gateway, "desk.li", password)
    page = await gateway.get("/console/password")
    assert page.status_code == 200 and "两步登录" not in page.text
    r = await gateway.post("/console/second-factor", data={"csrf": csrf_of(page.text), "password": password},
                           headers={"HX-Request": "true"})
    assert r.status_code == 409
    confirm = await gateway.post("/console/second-factor/confirm", data={"csrf": csrf_of(page.text), "totp_code": "123456"},
                                 headers={"HX-Request": "true"})
    assert confirm.status_code == 409


async def test_a_pending_seed_dropped_leaves_no_removal_of_a_factor_in_the_trail(gateway, env) -> None:
    # Started and never confirmed, it asked nobody for a code: neither a role without a second
    # factor nor an admin's removal tells the trail one was removed.
    password = await account(gateway, env, "mgr.wang", "store_manager", store_id="S001")
    await log_in(gateway, "mgr.wang", password)
    page = await gateway.get("/console/password")
    for then in ("role", "removal"):
        shown = await gateway.post("/console/second-factor", data={"csrf": csrf_of(page.text), "password": password},
                                   headers={"HX-Request": "true"})
        assert shown.status_code == 200, shown.text
        [staff] = (await gateway.get("/identity/v1/staff", headers=admin(env))).json()
        if then == "role":
            r = await gateway.patch(f"/identity/v1/staff/{staff['staff_id']}", json={"role": "service_desk"}, headers=admin(env))
            assert r.status_code == 200, r.text
            r = await gateway.patch(f"/identity/v1/staff/{staff['staff_id']}", json={"role": "store_manager"}, headers=admin(env))
            await log_in(gateway, "mgr.wang", password)
            page = await gateway.get("/console/password")
        else:
            r = await gateway.delete(f"/identity/v1/staff/{staff['staff_id']}/totp", headers=admin(env))
        assert r.status_code == 200 and r.json()["totp_enabled"] is False, r.text
    trail = (await gateway.get(f"/identity/v1/staff/{staff['staff_id']}/audit", headers=admin(env))).json()
    assert [e["action"] for e in trail] == ["created", "changed", "changed"]
