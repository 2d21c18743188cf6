"""The sections of the customer-360 view: shown when their services answer, reported unavailable
(with the rest of the page intact) when they do not. Members answers the profile and purchases in
one call, campaigns the coupons and messages in one."""

import logging

import httpx
import pytest

from gateway.adapters.clients import Downstream
from gateway.service_layer.customer360 import customer_360

PROFILE = {"id": "m1", "lifetime_spend": "10.00", "purchase_count": 1}
COMPLAINTS = [{"id": "c1", "status": "resolved", "compensation_points": 300}]
COUPONS = [{"coupon_id": "k1", "code": "ABCDEFGHJKLM", "name": "满100减20", "state": "issued"}]
MESSAGES = [{"id": "msg1", "channel": "sms", "status": "cancelled", "reason": "no marketing_sms consent"}]
PURCHASES = [{"store_id": "S001", "pos_txn_id": "T1", "total": "10.00", "lines": [], "returns": []}]


def _client(routes: dict[str, tuple[int, object]]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        status, body = routes[request.url.path]
        return httpx.Response(status, json=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://downstream")


def _downstream(feedback: httpx.AsyncClient | None, campaigns: httpx.AsyncClient | None = None) -> Downstream:
    members = _client({"/v1/members/m1/overview": (200, {"member": PROFILE, "recent_purchases": PURCHASES})})
    points = _client({"/v1/accounts/m1": (200, {"member_id": "m1", "balance": 300, "entries": []})})
    if campaigns is None:
        campaigns = _client({"/v1/members/m1/overview": (200, {"coupons": COUPONS, "messages": MESSAGES})})
    return Downstream(members=members, points=points, feedback=feedback, campaigns=campaigns)


async def test_the_members_complaints_are_a_section_of_the_view() -> None:
    seen: list[httpx.URL] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=COMPLAINTS)

    feedback = httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://feedback")
    view = await customer_360(_downstream(feedback), "m1", "Bearer t", timeout=1.0)
    assert view.complaints == COMPLAINTS and view.unavailable == []
    assert seen[0].path == "/v1/complaints" and seen[0].params["member_id"] == "m1"


async def test_feedback_failing_or_missing_costs_only_the_complaints_section() -> None:
    failing = _client({"/v1/complaints": (500, {"detail": "boom"})})
    for feedback, reason in ((failing, "answered 500"), (None, "not configured")):
        view = await customer_360(_downstream(feedback), "m1", "Bearer t", timeout=1.0)
        assert view.complaints is None and view.points["balance"] == 300 and view.member == PROFILE
        [gap] = view.unavailable
        assert gap.section == "complaints" and reason in gap.reason


async def test_the_members_coupons_are_a_section_and_a_customer_campaigns_never_saw_has_none() -> None:
    feedback = _client({"/v1/complaints": (200, [])})
    view = await customer_360(_downstream(feedback), "m1", "Bearer t", timeout=1.0)
    assert view.coupons == COUPONS and view.messages == MESSAGES and view.unavailable == []
    unknown = _client({"/v1/members/m1/overview": (404, {"detail": "no customer m1"})})
    view = await customer_360(_downstream(feedback, unknown), "m1", "Bearer t", timeout=1.0)
    assert view.coupons == [] and view.messages == [] and view.unavailable == []


async def test_campaigns_failing_costs_only_the_coupons_and_messages_sections() -> None:
    feedback = _client({"/v1/complaints": (200, COMPLAINTS)})
    down = _client({"/v1/members/m1/overview": (503, {"detail": "starting"})})
    view = await customer_360(_downstream(feedback, down), "m1", "Bearer t", timeout=1.0)
    assert view.coupons is None and view.messages is None
    assert view.complaints == COMPLAINTS and view.points["balance"] == 300
    assert {(gap.section, gap.reason) for gap in view.unavailable} == {
        ("coupons", "answered 503"), ("messages", "answered 503")}


async def test_a_section_that_gets_no_answer_is_logged_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    feedback = httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url="http://feedback")
    with caplog.at_level(logging.WARNING, logger="gateway.service_layer.customer360"):
        view = await customer_360(_downstream(feedback), "m1", "Bearer t", timeout=1.0)
    [gap] = view.unavailable
    assert gap.section == "complaints" and gap.reason == "unreachable: ConnectError"
    assert [r.getMessage() for r in caplog.records] == ["customer-360 section complaints unavailable: unreachable: ConnectError"]

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gateway.service_layer.customer360"):
        await customer_360(_downstream(_client({"/v1/complaints": (200, [])})), "m1", "Bearer t", timeout=1.0)
    assert caplog.records == []  # a whole view logs nothing


async def test_each_service_is_called_once_and_its_answer_fills_its_sections() -> None:
    calls: list[str] = []

    async def record(request: httpx.Request) -> None:
        calls.append(request.url.raw_path.decode())

    downstream = _downstream(_client({"/v1/complaints": (200, COMPLAINTS)}))
    for client in (downstream.members, downstream.points, downstream.feedback, downstream.campaigns):
        client.event_hooks["request"].append(record)
    view = await customer_360(downstream, "m1", "Bearer t", timeout=1.0)
    assert sorted(calls) == sorted([
        "/v1/members/m1/overview?purchases=10", "/v1/accounts/m1?entries=10",
        "/v1/complaints?member_id=m1&limit=10", "/v1/members/m1/overview?messages=10",
    ])
    assert view.member == PROFILE and view.recent_purchases == PURCHASES
    assert view.lifetime_spend == 10 and view.purchase_count == 1
    assert view.coupons == COUPONS and view.messages == MESSAGES and view.complaints == COMPLAINTS


async def test_members_failing_costs_the_profile_and_purchases_sections_together() -> None:
    feedback = _client({"/v1/complaints": (200, COMPLAINTS)})
    downstream = _downstream(feedback)
    downstream.members = _client({"/v1/members/m1/overview": (500, {"detail": "boom"})})
    view = await customer_360(downstream, "m1", "Bearer t", timeout=1.0)
    assert view.member is None and view.recent_purchases is None and view.points["balance"] == 300
    assert {(gap.section, gap.reason) for gap in view.unavailable} == {
        ("member", "answered 500"), ("purchases", "answered 500")}
