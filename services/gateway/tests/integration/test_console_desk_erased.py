"""An erased customer at the service desk: their page says they were erased and offers none of the
desk's actions, and a form sent for them anyway (a page opened before the erasure) is told the
services' refusal of an erased customer. Members is the real service (what it shows of an erased
customer, what it answers); points and feedback answer as they do."""

from typing import Any

import httpx
import pytest

from shared.auth import Role
from tests.support.console import csrf_of, logged_in
from tests.support.factories import member_body
from tests.support.identity import answering, gateway_with_members
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

ERASED = "该顾客的资料已删除，不能再记录任何内容。"
GIFT = {"gift_id": "cushion", "name_zh": "靠垫", "name_en": "Cushion", "points": 100, "kind": "gift", "stock_at_home_store": 3}
RESERVED = {"redemption_id": "r-1", "gift_id": "cushion", "points": 100, "status": "reserved", "redeemed_at": "2026-12-01T02:00:00+00:00"}
VISITS = {"kind": "leftover_collection_visit", "granted": 2, "used": 0, "remaining": 2}


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    """The gateway with the real members service behind it, and points as it answers for a customer
    with a balance, a gift waiting to be handed over and visits left."""
    async with gateway_with_members(env, database_factory) as client:
        yield client


def points(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if request.method == "POST":  # a redemption or a visit: points refuses an erased member
        member_id = path.split("/")[3] if path.startswith("/v1/entitlements/") else "m"
        return httpx.Response(409, json={"detail": f"member is erased ({member_id}): nothing more is recorded about them"})
    if path.startswith("/v1/accounts/"):
        return httpx.Response(200, json={"balance": 500})
    if path.endswith("/gifts"):
        return httpx.Response(200, json={"gifts": [GIFT]})
    if path == "/v1/gifts/stock":
        return httpx.Response(200, json=[{"gift_id": "cushion", "quantity": 3}])
    if path.endswith("/redemptions"):
        return httpx.Response(200, json=[RESERVED])
    return httpx.Response(200, json=[VISITS])


async def erased_customer(gateway: httpx.AsyncClient, env: TestEnv) -> dict[str, Any]:
    """A customer registered at S001 and erased at their request: as members shows them now."""
    registered = await gateway.app.state.downstream.members.post(  # type: ignore[attr-defined]
        "/v1/members", json=member_body(card_no="8800000012345", home_store_id="S001"),
        headers=env.auth(Role.SERVICE_DESK, store_id="S001"))
    assert registered.status_code == 201, registered.text
    member_id = registered.json()["id"]
    erased = await gateway.app.state.downstream.members.post(  # type: ignore[attr-defined]
        f"/v1/members/{member_id}/erasure", headers=env.auth(Role.ADMIN))
    assert erased.status_code == 200, erased.text
    shown = (await gateway.app.state.downstream.members.get(  # type: ignore[attr-defined]
        f"/v1/members/{member_id}", headers=env.auth(Role.ADMIN))).json()
    assert shown["erased"] and shown["card_no"].startswith("erased-"), shown
    return dict(shown)


async def test_an_erased_customers_desk_page_says_so_and_offers_no_action(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    """Finding: the page still offered redeeming, replacing the card and filing a complaint, and
    replacing the card failed as "not in the expected format" on the erased card's placeholder."""
    customer = await erased_customer(gateway, env)
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "points", points):
        page = await gateway.get(f"/console/desk/members/{customer['id']}")
    assert page.status_code == 200, page.text
    assert '<p class="notice" role="status" id="erased">该顾客的资料已删除，服务台不能再为其办理任何业务。</p>' in page.text
    for action in ("redeem", "card", "complaints", "visit", "hand-over"):
        assert f'/console/desk/members/{customer["id"]}/{action}"' not in page.text, action
    assert customer["card_no"] not in page.text.split("</h1>", 1)[1]  # no form holds the placeholder
    # What the desk did for them before stays in sight.
    assert '<tr data-redemption="r-1">' in page.text and 'id="entitlements"' in page.text


async def test_an_erased_customer_is_named_in_the_language_of_the_console(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    """Finding: the English console named them 已注销用户, members' placeholder, as the Chinese one does."""
    customer = await erased_customer(gateway, env)
    assert customer["name"] == "已注销用户"  # what members keeps: the console words it, members does not
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "points", points):
        chinese = await gateway.get(f"/console/desk/members/{customer['id']}")
        gateway.cookies.set("crm_console_lang", "en")
        english = await gateway.get(f"/console/desk/members/{customer['id']}")
    assert chinese.status_code == english.status_code == 200
    assert f"<h1>已注销用户 <small>{customer['card_no']}</small></h1>" in chinese.text
    assert f"<h1>Erased customer <small>{customer['card_no']}</small></h1>" in english.text
    assert "<title>Erased customer · Service desk" in english.text and "已注销用户" not in english.text


async def test_a_form_sent_for_an_erased_customer_is_refused_for_the_erasure(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    customer = await erased_customer(gateway, env)
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    csrf = csrf_of((await gateway.get("/console/desk")).text)
    at = f"/console/desk/members/{customer['id']}"

    # The card the page held for them, opened before the erasure.
    r = await gateway.post(f"{at}/card", data={"csrf": csrf, "replaces": "8800000012345", "card_reason": "lost"},
                           headers={"HX-Request": "true"})
    assert r.status_code == 409 and ERASED in r.text, r.text

    async with answering(gateway, "points", points):
        r = await gateway.post(f"{at}/redeem", data={"csrf": csrf, "idempotency_key": "k" * 32, "gift_id": "cushion"},
                               headers={"HX-Request": "true"})
    assert r.status_code == 409 and ERASED in r.text, r.text

    erased_in_feedback = {"detail": "member_id: member is erased; nothing more is recorded about them"}
    async with answering(gateway, "feedback", lambda _: httpx.Response(409, json=erased_in_feedback)):
        r = await gateway.post(f"{at}/complaints", data={"csrf": csrf, "idempotency_key": "c" * 32, "category": "delivery",
                                                         "severity": "low", "description": "送货晚了"}, headers={"HX-Request": "true"})
    assert r.status_code == 409 and ERASED in r.text, r.text
