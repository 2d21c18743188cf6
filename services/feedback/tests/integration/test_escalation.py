"""Deadlines and the escalation job, driven by the injected clock."""

import asyncio

import pytest

from feedback.service_layer.escalation import escalate_overdue
from shared.events.registry import COMPLAINT_ESCALATED

pytestmark = pytest.mark.integration


async def _escalate(fb) -> dict:
    return await escalate_overdue(fb.app.state.commands, fb.app.state.settings, fb.clock())


async def test_nothing_is_escalated_before_its_deadline(fb) -> None:
    await fb.file(severity="high")
    fb.clock.advance(hours=4)  # exactly at the acknowledgement deadline
    assert await _escalate(fb) == {"overdue": 0, "escalated": 0}
    assert await fb.outbox(COMPLAINT_ESCALATED) == []


async def test_an_unacknowledged_complaint_is_escalated_to_the_store_manager_once(fb) -> None:
    await fb.register("m1", "S001")
    c = await fb.file(member_id="m1", severity="high", category="service_attitude")
    fb.clock.advance(hours=4, seconds=1)
    assert await _escalate(fb) == {"overdue": 1, "escalated": 1}
    assert await _escalate(fb) == {"overdue": 1, "escalated": 0}
    [event] = await fb.outbox(COMPLAINT_ESCALATED)
    assert event["data"] == {
        "complaint_id": c["id"], "member_id": "m1", "store_id": "S001", "category": "service_attitude",
        "severity": "high", "overdue_step": "acknowledge", "due_at": "2026-11-23T06:00:00Z",
        "escalated_at": "2026-11-23T06:00:01Z",
    }
    detail = (await fb.client.get(f"/v1/complaints/{c['id']}", headers=fb.admin())).json()
    assert detail["escalated_to"] == "store_manager:S001" and detail["assignee"] == "desk:S001"
    assert [(e["step"], e["round"]) for e in detail["escalations"]] == [("acknowledge", 0)]
    assert detail["history"][-1]["action"] == "escalated" and detail["history"][-1]["actor"] == "system:escalation"
    queue = (await fb.client.get("/v1/complaints/queue", headers=fb.store_manager())).json()
    assert [q["id"] for q in queue] == [c["id"]] and queue[0]["overdue"] is True


async def test_each_overdue_step_is_escalated_once(fb) -> None:
    c = await fb.file(severity="medium")
    fb.clock.advance(hours=25)
    assert (await _escalate(fb))["escalated"] == 1  # acknowledgement (24 h) overdue
    await fb.ok(c["id"], "acknowledge")
    fb.clock.advance(hours=48)  # 73 h after filing: resolution (72 h) overdue
    assert (await _escalate(fb))["escalated"] == 1
    assert (await _escalate(fb))["escalated"] == 0
    steps = [e["data"]["overdue_step"] for e in await fb.outbox(COMPLAINT_ESCALATED)]
    assert steps == ["acknowledge", "resolve"]


async def test_a_complaint_overdue_on_both_steps_at_once_gets_two_escalations(fb) -> None:
    await fb.file(severity="high")
    fb.clock.advance(hours=30)
    assert (await _escalate(fb))["escalated"] == 2


async def test_acknowledged_in_time_then_resolved_in_time_is_never_escalated(fb) -> None:
    c = await fb.file(severity="high")
    fb.clock.advance(hours=3)
    await fb.ok(c["id"], "acknowledge")
    fb.clock.advance(hours=20)
    await fb.ok(c["id"], "resolve", note="ok")
    fb.clock.advance(days=30)
    assert await _escalate(fb) == {"overdue": 0, "escalated": 0}


async def test_a_reopened_complaint_can_be_escalated_again_against_its_new_deadline(fb) -> None:
    c = await fb.file(severity="high")
    await fb.ok(c["id"], "acknowledge")
    fb.clock.advance(hours=25)
    assert (await _escalate(fb))["escalated"] == 1
    await fb.ok(c["id"], "resolve", note="ok")
    await fb.ok(c["id"], "reopen", reason="顾客不满意")
    fb.clock.advance(hours=23)
    assert (await _escalate(fb))["escalated"] == 0
    fb.clock.advance(hours=2)
    assert (await _escalate(fb))["escalated"] == 1
    detail = (await fb.client.get(f"/v1/complaints/{c['id']}", headers=fb.admin())).json()
    assert [(e["step"], e["round"]) for e in detail["escalations"]] == [("resolve", 0), ("resolve", 1)]


async def test_concurrent_runs_escalate_once(fb) -> None:
    for _ in range(3):
        await fb.file(severity="high")
    fb.clock.advance(hours=5)
    results = await asyncio.gather(*(_escalate(fb) for _ in range(3)))
    assert sum(r["escalated"] for r in results) == 3
    assert len(await fb.outbox(COMPLAINT_ESCALATED)) == 3


async def test_queues_show_overdue_complaints_first(fb) -> None:
    low = await fb.file(severity="low")  # acknowledge within 48 h
    fb.clock.advance(hours=1)
    high = await fb.file(severity="high")  # acknowledge within 4 h, i.e. 05:00 + 4 h
    medium = await fb.file(severity="medium")
    done = await fb.file(severity="high")
    await fb.ok(done["id"], "acknowledge")
    await fb.ok(done["id"], "resolve", note="ok")
    fb.clock.advance(hours=4, minutes=30)
    queue = (await fb.client.get("/v1/complaints/queue", headers=fb.desk())).json()
    assert [(q["id"], q["overdue"]) for q in queue] == [(high["id"], True), (medium["id"], False), (low["id"], False)]
    listed = (await fb.client.get("/v1/complaints", headers=fb.desk())).json()
    assert [q["id"] for q in listed] == [high["id"], medium["id"], low["id"], done["id"]]
    overdue = (await fb.client.get("/v1/complaints", params={"overdue_only": True}, headers=fb.desk())).json()
    assert [q["id"] for q in overdue] == [high["id"]]


async def test_admins_run_the_job_through_the_api_with_the_service_clock(fb) -> None:
    await fb.file(severity="high")
    fb.clock.advance(hours=5)
    r = await fb.client.post("/v1/jobs/escalation/run", headers=fb.admin())
    assert r.status_code == 200 and r.json() == {"overdue": 1, "escalated": 1}
    assert (await fb.client.post("/v1/jobs/escalation/run", headers=fb.desk())).status_code == 403
    assert (await fb.client.post("/v1/jobs/nothing/run", headers=fb.admin())).status_code == 404


async def test_a_handler_narrows_the_queue_to_a_state_an_assignee_or_what_is_overdue(fb) -> None:
    waiting = await fb.file(severity="high")  # acknowledge within 4 h
    handed_up = await fb.file(severity="low")
    await fb.ok(handed_up["id"], "assign", assignee="store_manager:S001")
    started = await fb.file(severity="low")
    await fb.ok(started["id"], "acknowledge")
    await fb.ok(started["id"], "start")
    fb.clock.advance(hours=5)

    async def queue(**params: object) -> list[str]:
        r = await fb.client.get("/v1/complaints/queue", params=params, headers=fb.desk())
        assert r.status_code == 200, r.text
        return [q["id"] for q in r.json()]

    assert await queue(status="in_progress") == [started["id"]]
    assert await queue(overdue_only=True) == [waiting["id"]]
    assert await queue(assignee="store_manager:S001") == [handed_up["id"]]
    assert await queue(assignee="desk:S001", status="filed") == [waiting["id"]]
    # The queue holds open complaints: asking it for resolved ones is a mistake, not an empty list.
    r = await fb.client.get("/v1/complaints/queue", params={"status": "resolved"}, headers=fb.desk())
    assert r.status_code == 422 and r.json()["detail"].startswith("status: the queue holds open complaints"), r.text
