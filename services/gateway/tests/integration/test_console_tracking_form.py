"""The account manager's daily tracking form carries a key of its own, made with the page, so that
the form sent twice (a double click, a retry) is one line of the day's report: members records a
line once per key (services/members tests), the console sends every submission of a page under
that page's key."""

import re

import httpx
import pytest

from gateway.adapters.clients import Downstream
from tests.support.console import csrf_of, logged_in
from tests.support.identity import MovableClock, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

QUEUE = {"items": [{"member_id": "m-1", "name": "赵敏", "community": "阳光花园", "last_purchase_at": None,
                    "last_tracked_on": None, "churn_risk": "low"}], "total": 1}


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


def members_recording(sent: list[httpx.Request]) -> Downstream:
    def members(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/tracking/queue":
            return httpx.Response(200, json=QUEUE)
        if request.url.path == "/v1/tracking/reports/daily":
            return httpx.Response(200, json={"records": []})
        if request.url.path == "/v1/staff":  # the account managers a store manager's report chooses from
            return httpx.Response(200, json=[])
        if request.method == "POST" and request.url.path == "/v1/tracking/records":
            sent.append(request)
            return httpx.Response(201, json={"id": len(sent)})
        return httpx.Response(404, json={"detail": "not here"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(members), base_url="http://members")
    return Downstream(members=client, points=client)


async def test_a_tracking_form_sent_twice_goes_to_members_under_one_key(gateway, env) -> None:
    await logged_in(gateway, env, "zhou.am", "account_manager", store_id="S001", account_manager_id="am-017")
    sent: list[httpx.Request] = []
    gateway.app.state.downstream = members_recording(sent)

    page = await gateway.get("/console/tracking")
    assert page.status_code == 200, page.text
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page.text)
    assert key, "the form has no key of its own"
    form = {"csrf": csrf_of(page.text), "idempotency_key": key.group(1), "tracked_on": "2026-12-01", "member_id": "m-1",
            "contact": "本人", "method": "phone", "rating": "4", "notes": ""}
    for _ in range(2):
        r = await gateway.post("/console/tracking", data=form)
        assert r.status_code == 303 and r.headers["location"].endswith("/console/tracking?recorded=1")
    assert [request.headers["Idempotency-Key"] for request in sent] == [key.group(1)] * 2
    # The next page's form is another contact, under a key of its own.
    again = await gateway.get("/console/tracking")
    assert key.group(1) not in again.text

    r = await gateway.post("/console/tracking", data={**form, "idempotency_key": "bad"})
    assert r.status_code == 422 and "表单已损坏或已过期：请刷新页面后重新填写。" in r.text
    assert len(sent) == 2


@pytest.mark.parametrize(("role", "extra", "linked"), [
    ("account_manager", {"store_id": "S001", "account_manager_id": "am-017"}, True),
    ("store_manager", {"store_id": "S001"}, False),  # keeps no queue: the link would be a refusal page
])
async def test_the_daily_report_links_to_the_tracking_queue_only_for_those_who_keep_one(gateway, env, role, extra, linked) -> None:
    await logged_in(gateway, env, "someone", role, **extra)
    gateway.app.state.downstream = members_recording([])
    report = await gateway.get("/console/tracking/report")
    assert report.status_code == 200, report.text
    assert ('href="/console/tracking"' in report.text) is linked
