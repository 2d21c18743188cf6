"""A member in the app in the moment after registration, before points has opened their account (it
does on `member_registered`): the gateway against the real members and points services, points'
consumer handed the registration by the test. The card shows 0 points, the ledger is empty and the
catalogue is the one points answers once it knows the member, at the member's channel's prices
and with their home store's stock."""

from contextlib import AsyncExitStack

import httpx
import pytest

from gateway.adapters.clients import Downstream
from gateway.config import Settings as GatewaySettings
from gateway.main import create_app as gateway_app
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import MEMBER_REGISTERED
from tests.support.factories import member_body
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration


@pytest.fixture
async def platform(env: TestEnv, database_factory):
    from members.config import Settings as MembersSettings
    from members.main import create_app as members_app
    from points.config import Settings as PointsSettings
    from points.main import create_app as points_app

    async with AsyncExitStack() as stack:
        members = await stack.enter_async_context(service(members_app(env.settings(MembersSettings, await database_factory("members")))))
        points = await stack.enter_async_context(service(points_app(env.settings(PointsSettings, await database_factory("points")))))
        app = gateway_app(env.settings(GatewaySettings, await database_factory("gateway")))
        app.state.downstream = Downstream(
            members=httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members"),  # type: ignore[attr-defined]
            points=httpx.AsyncClient(transport=httpx.ASGITransport(app=points.app), base_url="http://points"),  # type: ignore[attr-defined]
        )
        gateway = await stack.enter_async_context(service(app))
        yield gateway, members, points


def ours(catalogue: dict) -> list[tuple[str, int, int | None]]:
    """The test's gifts (points' migrations seed a catalogue of their own)."""
    return [(g["gift_id"], g["points"], g["stock_at_home_store"]) for g in catalogue["gifts"] if g["gift_id"].startswith("app-")]


async def test_a_new_member_sees_no_points_an_empty_ledger_and_the_catalogue_at_their_prices(platform, env: TestEnv) -> None:
    gateway, members, points = platform
    r = await members.post("/v1/members", json=member_body(channel="partner"), headers=env.auth(Role.SERVICE_DESK, store_id="S001"))
    assert r.status_code == 201, r.text
    member = r.json()
    admin = env.auth(Role.ADMIN)
    for gift_id, prices in (("app-cushion", {"retail": 10_000, "partner": 8_000}), ("app-kettle", {"retail": 5_000})):
        r = await points.put(f"/v1/gifts/{gift_id}", json={"name_zh": gift_id, "name_en": gift_id, "prices": prices}, headers=admin)
        assert r.status_code == 200, r.text
    r = await points.put("/v1/gifts/app-cushion/stock/S001", json={"quantity": 2}, headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert r.status_code == 200, r.text
    mine = env.auth(Role.MEMBER, member_id=member["id"])

    card = await gateway.get("/app/v1/card", headers=mine)
    assert card.status_code == 200 and card.json()["points"]["balance"] == 0
    ledger = await gateway.get("/app/v1/points/ledger", headers=mine)
    assert (ledger.status_code, ledger.json()) == (200, {"items": [], "next_cursor": None})
    before = await gateway.get("/app/v1/gifts", headers=mine)
    assert before.status_code == 200, before.text
    assert ours(before.json()) == [("app-cushion", 8_000, 2)]  # no retail-only kettle; the home store's stock

    # Points opens the account: its own answer takes over, and it is the same.
    consumer = points.app.state.consumer  # type: ignore[attr-defined]
    registered = c.MemberRegisteredV1(member_id=member["id"], card_no=member["card_no"], channel="partner",
                                      home_store_id=member["home_store_id"], registered_at=member["created_at"])  # type: ignore[arg-type]
    await consumer.apply_batch([consumer.delivery(new_event(MEMBER_REGISTERED, registered, source="crm/members", subject=member["id"]))])
    after = await gateway.get("/app/v1/gifts", headers=mine)
    assert after.status_code == 200, after.text
    assert ours(after.json()) == [("app-cushion", 8_000, 2)]
    assert before.json() == after.json()
    assert after.json()["home_store_id"] == "S001"
