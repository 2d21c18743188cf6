"""A member edits their profile in the app, against the real members service: null clears exactly
the fields members clears, and a rule only members checks comes back in the app's one 422 shape."""

from contextlib import AsyncExitStack

import httpx
import pytest

from gateway.adapters.clients import Downstream
from gateway.api.app_schemas import ProfileEdit
from gateway.config import Settings as GatewaySettings
from gateway.main import create_app as gateway_app
from shared.auth import Role
from tests.support.factories import member_body
from tests.support.platform import TestEnv, away, service

pytestmark = pytest.mark.integration


@pytest.fixture
async def platform(env: TestEnv, database_factory):
    from members.config import Settings as MembersSettings
    from members.main import create_app as members_app

    async with AsyncExitStack() as stack:
        members = await stack.enter_async_context(service(members_app(env.settings(MembersSettings, await database_factory("members")))))
        app = gateway_app(env.settings(GatewaySettings, await database_factory("gateway")))
        app.state.downstream = Downstream(
            members=httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members"),  # type: ignore[attr-defined]
            points=away("http://points.invalid"),  # a profile edit asks members alone
        )
        gateway = await stack.enter_async_context(service(app))
        yield gateway, members


def test_the_app_takes_null_for_exactly_the_fields_members_clears_with_it() -> None:
    from members.domain.profile import MemberUpdate

    def takes_null(model: type, field: str) -> bool:
        try:
            model.model_validate({field: None})
        except ValueError:
            return False
        return True

    assert {f: takes_null(ProfileEdit, f) for f in ProfileEdit.model_fields} == {f: takes_null(MemberUpdate, f) for f in ProfileEdit.model_fields}
    assert {f for f in ProfileEdit.model_fields if takes_null(ProfileEdit, f)} == {"email", "birthday"}


async def test_a_member_clears_their_email_and_birthday_and_cannot_clear_their_address(platform, env: TestEnv) -> None:
    gateway, members = platform
    r = await members.post("/v1/members", json=member_body(email="li.na@example.com", birthday="1990-05-17"),
                           headers=env.auth(Role.SERVICE_DESK, store_id="S001"))
    assert r.status_code == 201, r.text
    member = r.json()
    mine = env.auth(Role.MEMBER, member_id=member["id"])

    cleared = await gateway.patch("/app/v1/me", json={"email": None, "birthday": None}, headers=mine)
    assert cleared.status_code == 200, cleared.text
    after = (await gateway.get("/app/v1/me", headers=mine)).json()
    assert (after["email"], after["birthday"]) == (None, None)
    assert (after["address"], after["community"]) == (member["address"], member["community"])

    kept = await gateway.patch("/app/v1/me", json={"address": None}, headers={**mine, "Accept-Language": "en"})
    assert kept.status_code == 422
    assert [(e["loc"], e["type"]) for e in kept.json()["detail"]] == [(["body", "address"], "not_clearable")]
    assert kept.json()["message_en"] == "Some details are not valid; please check: address."
    assert kept.json()["message_zh"] == "填写的信息有误，请检查：地址。"

    # Only members knows the chain's date: its refusal names the field as the gateway's own would.
    future = await gateway.patch("/app/v1/me", json={"birthday": "2999-01-01"}, headers=mine)
    assert future.status_code == 422
    [error] = future.json()["detail"]
    assert error["loc"] == ["body", "birthday"] and "future" in error["msg"] and error["type"]
    assert future.json()["message_zh"] == "填写的信息有误，请检查：生日。"
