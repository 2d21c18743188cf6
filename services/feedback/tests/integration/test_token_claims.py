"""A token lacking the claim its role is scoped by never reaches a route (it used to list
everyone's complaints: a member token without member_id filtered by nothing)."""

import pytest

from shared.auth import Role

pytestmark = pytest.mark.integration


async def test_a_member_token_without_member_id_is_401_not_everyones_complaints(fb) -> None:
    await fb.register("m-someone-else", "S001")
    await fb.file(member_id="m-someone-else")
    r = await fb.client.get("/v1/complaints", headers=fb.as_(Role.MEMBER, "app-anonymous"))
    assert r.status_code == 401
    assert r.json()["detail"] == "invalid token: token for role member must carry claim member_id"


async def test_a_member_token_with_member_id_still_lists_only_its_own(fb) -> None:
    await fb.register("m-someone-else", "S001")
    await fb.file(member_id="m-someone-else")
    r = await fb.client.get("/v1/complaints", headers=fb.member("m-me"))
    assert r.status_code == 200 and r.json() == []
