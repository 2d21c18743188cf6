"""The link in a customer's survey invitation opens on the gateway's public address and is answered
there once: feedback builds it on CRM_PUBLIC_URL, the gateway forwards `/surveys/<token>` to
feedback's answer endpoints with the member's own token. Feedback runs in-process behind the
gateway, on the test's database."""

import uuid

import httpx
import pytest

from feedback.config import Settings as FeedbackSettings
from feedback.main import create_app as feedback_app
from gateway.adapters.clients import Downstream
from gateway.config import Settings as GatewaySettings
from gateway.main import create_app as gateway_app
from shared.auth import Role
from tests.support.factories import keyed
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration
# Members' ids are UUIDs: feedback refuses a complaint for an id members could never have given.
M1, M2 = str(uuid.uuid4()), str(uuid.uuid4())

PUBLIC = "https://crm.example.cn"
ANSWER = {"ratings": {"product_quality": 5, "service": 4, "price": 3, "store_environment": 5, "after_sales": 4}, "nps": 9}


@pytest.fixture
async def stack(env: TestEnv, database_factory):
    feedback = feedback_app(env.settings(FeedbackSettings, await database_factory("feedback"), public_url=PUBLIC))
    gateway = gateway_app(env.settings(GatewaySettings, await database_factory("gateway")))
    async with service(feedback) as fb:
        unused = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(599)), base_url="http://unused")
        gateway.state.downstream = Downstream(
            members=unused, points=unused,
            feedback=httpx.AsyncClient(transport=httpx.ASGITransport(app=feedback), base_url="http://feedback"),
        )
        async with service(gateway) as gw:
            yield fb, gw


async def _link_of_a_resolved_complaint(fb: httpx.AsyncClient, env: TestEnv, member_id: str) -> str:
    desk = env.auth(Role.SERVICE_DESK, store_id="S001")
    r = await fb.post("/v1/complaints", json={"category": "price", "severity": "low", "description": "价签不符",
                                              "member_id": member_id}, headers=keyed(desk))
    assert r.status_code == 201, r.text
    for action, body in (("acknowledge", None), ("resolve", {"note": "已退差价"})):
        r = await fb.post(f"/v1/complaints/{r.json()['id']}/{action}", json=body, headers=desk)
        assert r.status_code == 200, r.text
    [invitation] = (await fb.get("/v1/surveys/invitations", headers=env.auth(Role.MEMBER, member_id=member_id))).json()
    return invitation["link"]


async def test_the_link_a_customer_receives_opens_on_the_gateway_and_is_answered_once(stack, env: TestEnv) -> None:
    fb, gateway = stack
    link = await _link_of_a_resolved_complaint(fb, env, M1)
    assert link.startswith(f"{PUBLIC}/surveys/") and ":8004" not in link
    path = link.removeprefix(PUBLIC)
    me = env.auth(Role.MEMBER, member_id=M1)
    form = await gateway.get(path, headers=me)
    assert form.status_code == 200, form.text
    assert form.json()["store_id"] == "S001" and form.json()["template"]["ask_nps"] is True
    first = await gateway.post(path, json=ANSWER, headers=me)
    assert first.status_code == 201, first.text
    again = await gateway.post(path, json=ANSWER, headers=me)
    assert again.status_code == 409 and "already answered" in again.json()["detail"]


async def test_the_link_answers_only_for_its_member_and_never_without_a_token(stack, env: TestEnv) -> None:
    fb, gateway = stack
    path = (await _link_of_a_resolved_complaint(fb, env, M2)).removeprefix(PUBLIC)
    assert (await gateway.post(path, json=ANSWER)).status_code == 401  # refused before it is forwarded
    assert (await gateway.post(path, json=ANSWER, headers=env.auth(Role.MEMBER, member_id="m3"))).status_code == 403
    assert (await gateway.get(f"{path[:-2]}xx", headers=env.auth(Role.MEMBER, member_id=M2))).status_code == 404
    # Refused answers left the invitation open for its member.
    assert (await gateway.post(path, json=ANSWER, headers=env.auth(Role.MEMBER, member_id=M2))).status_code == 201


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_links_refusals_are_worded_for_the_customer(stack, env: TestEnv, language: str) -> None:
    fb, gateway = stack
    path = (await _link_of_a_resolved_complaint(fb, env, M1)).removeprefix(PUBLIC)
    me = {**env.auth(Role.MEMBER, member_id=M1), "Accept-Language": language}
    unknown = await gateway.get(f"{path[:-2]}xx", headers=me)
    assert unknown.status_code == 404 and unknown.json()["detail"] == "no survey invitation for this link"
    assert (unknown.json()["message_zh"], unknown.json()["message_en"]) == (
        "找不到这份问卷，请检查链接是否完整。", "We could not find this survey; please check the link is complete.")
    form = await gateway.get(path, headers=me)  # what is no refusal passes as feedback answered it
    assert form.status_code == 200 and "message" not in form.json() and "content-language" not in form.headers
    assert (await gateway.post(path, json=ANSWER, headers=me)).status_code == 201
    again = await gateway.post(path, json=ANSWER, headers=me)
    assert again.status_code == 409 and again.json()["detail"].startswith("this survey was already answered")
    assert (again.json()["message_zh"], again.json()["message_en"]) == ("您已填写过这份问卷。", "You have already answered this survey.")
    for told in (unknown, again):
        assert told.json()["message"] == told.json()["message_en" if language == "en" else "message_zh"]
        assert told.headers["content-language"] == language[:2]
