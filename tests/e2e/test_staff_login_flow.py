"""A store manager's way in, as a new user would take it: an admin creates the account at the
gateway, the manager logs in with the password shown once, and sees the members of their own
store only, through the gateway's one address; logging out and deactivation end the session."""

import pytest

from shared.auth import Role
from tests.support.factories import member_body
from tests.support.platform import TestEnv, platform

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


async def test_an_admin_creates_a_store_manager_who_logs_in_and_sees_only_their_store(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        gw = p.gateway
        admin = p.env.auth(Role.ADMIN)
        for store in ("S001", "S002"):
            assert (await gw.put(f"/api/v1/stores/{store}", json={"name": f"store {store}"}, headers=admin)).status_code == 200
        members = {}
        for store in ("S001", "S002"):
            r = await gw.post("/api/v1/members", json=member_body(home_store_id=store), headers=admin)
            assert r.status_code == 201, r.text
            members[store] = r.json()["id"]

        r = await gw.post("/identity/v1/staff", headers=admin, json={
            "login": "wang.li", "name": "王丽", "role": "store_manager", "store_id": "S001",
        })
        assert r.status_code == 201, r.text
        account = r.json()
        r = await gw.post("/identity/v1/login", json={"login": "wang.li", "password": account["password"]})
        assert r.status_code == 200, r.text
        session = r.json()
        manager = {"Authorization": f"Bearer {session['access_token']}"}

        listed = await gw.get("/api/v1/members", headers=manager)
        assert listed.status_code == 200, listed.text
        assert [m["id"] for m in listed.json()["items"]] == [members["S001"]]
        assert (await gw.get(f"/api/v1/members/{members['S001']}", headers=manager)).status_code == 200
        other = await gw.get(f"/api/v1/members/{members['S002']}", headers=manager)
        assert other.status_code == 403, other.text

        # A swapped refresh token keeps the manager working; logging out ends the session.
        r = await gw.post("/identity/v1/refresh", json={"refresh_token": session["refresh_token"]})
        assert r.status_code == 200, r.text
        refreshed = r.json()
        again = await gw.get("/api/v1/members", headers={"Authorization": f"Bearer {refreshed['access_token']}"})
        assert [m["id"] for m in again.json()["items"]] == [members["S001"]]
        assert (await gw.post("/identity/v1/logout", json={"refresh_token": refreshed["refresh_token"]})).status_code == 204
        assert (await gw.post("/identity/v1/refresh", json={"refresh_token": refreshed["refresh_token"]})).status_code == 401

        # Deactivated, the password no longer opens a session.
        r = await gw.post(f"/identity/v1/staff/{account['staff_id']}/deactivate", headers=admin)
        assert r.status_code == 200, r.text
        r = await gw.post("/identity/v1/login", json={"login": "wang.li", "password": account["password"]})
        assert r.status_code == 401
