"""The customer-360 view is refused whole when any service refuses the caller that customer: a
view must not show the points and complaints of a customer whose profile the caller may not see."""

import httpx
import pytest

from gateway.adapters.clients import Downstream
from gateway.service_layer.customer360 import Refused, customer_360

PROFILE = {"id": "m1", "lifetime_spend": "10.00", "purchase_count": 1}
NOT_YOURS = {"detail": "account managers may only act on the customers assigned to them"}


def _client(routes: dict[str, tuple[int, object]]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        status, body = routes[request.url.path]
        return httpx.Response(status, json=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://downstream")


def _downstream(*, members: int = 200, points: int = 200, feedback: int = 200, campaigns: int = 200) -> Downstream:
    return Downstream(
        members=_client({"/v1/members/m1/overview": (
            members, {"member": PROFILE, "recent_purchases": []} if members == 200 else NOT_YOURS)}),
        points=_client({"/v1/accounts/m1": (points, {"member_id": "m1", "balance": 3, "entries": []} if points == 200 else NOT_YOURS)}),
        feedback=_client({"/v1/complaints": (feedback, [] if feedback == 200 else NOT_YOURS)}),
        campaigns=_client({"/v1/members/m1/overview": (
            campaigns, {"coupons": [], "messages": []} if campaigns == 200 else NOT_YOURS)}),
    )


@pytest.mark.parametrize(("refusing", "section"), [("members", "member"), ("points", "points"), ("feedback", "complaints"), ("campaigns", "coupons")])
async def test_one_service_refusing_the_customer_refuses_the_whole_view(refusing, section) -> None:
    with pytest.raises(Refused, match=f"{section}: .*assigned to them"):
        await customer_360(_downstream(**{refusing: 403}), "m1", "Bearer t", timeout=1.0)


async def test_a_view_every_service_allows_comes_back_whole() -> None:
    view = await customer_360(_downstream(), "m1", "Bearer t", timeout=1.0)
    assert view.member == PROFILE and view.points["balance"] == 3 and view.unavailable == []
