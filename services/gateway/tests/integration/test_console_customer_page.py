"""The console's customer page when a service is away: the sections that came back are shown, and
the missing ones say they are not available, as the 360 view's `unavailable` does."""

import httpx
import pytest

from gateway.adapters.clients import Downstream
from tests.support.console import logged_in
from tests.support.identity import MovableClock, gateway_with_stores

pytestmark = pytest.mark.integration


def _service(answer: httpx.Response) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda request: answer), base_url="http://service")


@pytest.fixture
async def gateway(env, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


async def test_with_members_away_the_page_shows_the_other_sections(gateway, env) -> None:
    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    gateway.app.state.downstream = Downstream(
        members=_service(httpx.Response(500, json={"detail": "members failed"})),
        points=_service(httpx.Response(200, json={"member_id": "m-1", "balance": 12000, "entries": []})),
        feedback=_service(httpx.Response(200, json=[])),
        campaigns=_service(httpx.Response(200, json={"coupons": [], "messages": []})),
    )
    gateway.cookies.set("crm_console_lang", "en")
    page = await gateway.get("/console/customers/m-1")
    assert page.status_code == 200, page.text
    assert '<span id="balance">12000</span>' in page.text
    assert 'id="profile"' not in page.text
    # The profile and the purchases are missing, not empty; the coupons came back with none.
    purchases = page.text.split('id="h-purchases"')[1].split("</section>")[0]
    coupons = page.text.split('id="h-coupons"')[1].split("</section>")[0]
    assert "Not available now" in purchases and "None yet." not in purchases
    assert "None yet." in coupons
