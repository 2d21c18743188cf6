"""Resolving a complaint on the console when it is resolved already (a second click, a resend after
a slow answer, a colleague a moment earlier): the person is shown the complaint as it was resolved,
not feedback's refusal that the compensation was granted already; a complaint that is open again
(reopened after its compensation) still gets the refusal, since nothing resolved it."""

from typing import Any

import httpx
import pytest

from tests.support.console import csrf_of, logged_in
from tests.support.identity import MovableClock, answering, gateway_with_stores
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

GRANTED = "compensation was already granted on 2026-12-06T05:27+08:00; a complaint is compensated once"


def complaint(status: str) -> dict[str, Any]:
    return {"id": "c-1", "category": "delivery", "status": status, "severity": "medium", "store_id": "S001",
            "filed_at": "2026-12-05T21:26:47+00:00", "channel": "service_desk", "description": "瓷砖送货晚了一天",
            "member_id": "m-1", "next_due_at": None, "resolution_note": "已处理", "compensation_points": 100}


@pytest.fixture
async def gateway(env: TestEnv, database_factory):
    async with gateway_with_stores(env, await database_factory("gateway"), MovableClock()) as client:
        yield client


async def resolve_twice_with(gateway: httpx.AsyncClient, env: TestEnv, status_now: str) -> httpx.Response:
    """Feedback refusing the resolution as compensated already, the complaint being `status_now`."""
    def feedback(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/complaints/c-1/resolve":
            return httpx.Response(409, json={"detail": GRANTED})
        return httpx.Response(200, json=complaint(status_now))

    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "feedback", feedback):
        form = await gateway.get("/console/complaints/c-1")
        answer = await gateway.post("/console/complaints/c-1/resolve",
                                    data={"csrf": csrf_of(form.text), "note": "已处理", "points": "100", "coupon_value": ""})
        if answer.status_code == 303:
            answer = await gateway.get(answer.headers["location"])
    return answer


async def test_a_complaint_resolved_already_is_shown_as_it_was_resolved(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    page = await resolve_twice_with(gateway, env, "resolved")
    assert page.status_code == 200, page.text[page.text.find("<main"):]
    assert str(page.url).endswith("/console/complaints/c-1?already=resolve")
    assert "该投诉已处理完毕，以下为当时的处理结果。" in page.text
    assert '<td id="resolution-note">已处理</td>' in page.text


async def test_a_complaint_open_again_is_still_refused(gateway: httpx.AsyncClient, env: TestEnv) -> None:
    page = await resolve_twice_with(gateway, env, "in_progress")
    assert page.status_code == 409
    assert "已于 2026-12-06 05:27 给予补偿：每宗投诉只补偿一次。" in page.text


SURVEY = {"id": "i-1", "source": "complaint", "store_id": "S001", "member_id": "m-1", "created_at": "2026-12-06T02:00:00+00:00",
          "expires_at": "2026-12-13T02:00:00+00:00", "answered_at": None}


@pytest.mark.parametrize(("member_id", "survey", "said"), [
    ("m-1", SURVEY, "投诉已处理完成；已邀请客户参加满意度调查。"),
    (None, None, "投诉已处理完成。"),
])
async def test_the_resolved_notice_speaks_of_a_survey_only_when_one_was_sent(
    gateway: httpx.AsyncClient, env: TestEnv, member_id: str | None, survey: dict | None, said: str,
) -> None:
    def feedback(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={**complaint("resolved"), "member_id": member_id, "survey": survey})

    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "feedback", feedback):
        page = await gateway.get("/console/complaints/c-1?done=1")
    assert page.status_code == 200
    notice = page.text[page.text.find('<p class="notice" role="status">'):]
    assert notice.startswith(f'<p class="notice" role="status">{said}</p>')


@pytest.mark.parametrize(("member_id", "offered"), [("m-1", True), (None, False)])
async def test_compensation_is_offered_for_a_member_s_complaint_only(
    gateway: httpx.AsyncClient, env: TestEnv, member_id: str | None, offered: bool,
) -> None:
    def feedback(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={**complaint("in_progress"), "member_id": member_id, "compensation_points": None})

    await logged_in(gateway, env, "li.fuwutai", "service_desk", store_id="S001")
    async with answering(gateway, "feedback", feedback):
        page = await gateway.get("/console/complaints/c-1")
    assert page.status_code == 200 and 'name="note"' in page.text
    assert ('name="points"' in page.text) is offered and ('name="coupon_value"' in page.text) is offered
