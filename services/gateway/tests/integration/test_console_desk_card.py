"""The desk's card replacement: its reason box offers a lost or a damaged card in the desk's words,
and a reason members refuses (a form tampered with) is told under that box's own label, its choices
in the same words: not as the dead-letter form's reason for discarding, nor a churn risk's 'lost'.
Members is the real service; points answers as it does for a customer with a balance."""


import httpx
import pytest

from gateway.api.console.i18n import translations
from shared.auth import Role
from tests.support.console import csrf_of, logged_in
from tests.support.factories import member_body
from tests.support.identity import answering, gateway_with_members
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_members(env, database_factory) as client:
        yield client


def points(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.startswith("/v1/accounts/"):
        return httpx.Response(200, json={"balance": 500})
    if path.endswith("/gifts"):
        return httpx.Response(200, json={"gifts": []})
    if path == "/v1/gifts/stock":
        return httpx.Response(200, json=[])
    return httpx.Response(200, json=[])


async def test_a_reason_the_card_form_does_not_offer_is_refused_in_the_words_of_its_options(gateway, env: TestEnv) -> None:
    registered = await gateway.app.state.downstream.members.post(  # type: ignore[attr-defined]
        "/v1/members", json=member_body(card_no="8800000054321", home_store_id="S001"),
        headers=env.auth(Role.SERVICE_DESK, store_id="S001"))
    assert registered.status_code == 201, registered.text
    at = f"/console/desk/members/{registered.json()['id']}"
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "points", points):
        desk = await gateway.get(at)
    assert desk.status_code == 200, desk.text
    assert '<select id="c-reason" name="card_reason" required>' in desk.text
    assert '<option value="lost">遗失</option><option value="damaged">损坏</option></select>' in desk.text

    sent = {"csrf": csrf_of(desk.text), "replaces": "8800000054321", "card_reason": "stolen"}
    r = await gateway.post(f"{at}/card", data=sent, headers={"HX-Request": "true"})
    assert r.status_code == 422, r.text
    assert 'data-fields="card_reason"' in r.text and ">原因：只能是以下之一：遗失 / 损坏<" in r.text, r.text
    assert "丢弃原因" not in r.text and "已流失" not in r.text and "damaged" not in r.text

    gateway.cookies.set("crm_console_lang", "en")
    r = await gateway.post(f"{at}/card", data=sent, headers={"HX-Request": "true"})
    assert r.status_code == 422 and ">Why: one of: Lost / Damaged<" in r.text, r.text
    # The box's own words do not change what a churn risk's code is called elsewhere.
    assert translations("zh-CN").gettext("lost") == "已流失"
