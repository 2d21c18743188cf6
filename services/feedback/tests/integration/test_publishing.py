"""On the real broker: complaint events reach the topic once, keyed by member, with no free text."""

import json

import pytest

from feedback.service_layer.escalation import escalate_overdue
from shared.events.registry import (
    COMPLAINT_ESCALATED,
    COMPLAINT_FILED,
    COMPLAINT_RESOLVED,
    FEEDBACK_NOTIFICATION_REQUESTED,
    Topics,
)
from tests.support.kafka_reader import read_topic
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


async def _published(fb) -> bool:
    return await fb.app.state.relay.pending() == 0


async def test_compensation_and_escalation_are_published_once_even_when_requests_and_runs_repeat(fb, env) -> None:
    await fb.register("m1", "S001")
    c = await fb.file(member_id="m1", severity="high", description="冷柜温度过高")
    fb.clock.advance(hours=5)
    await escalate_overdue(fb.app.state.commands, fb.app.state.settings, fb.clock())
    await escalate_overdue(fb.app.state.commands, fb.app.state.settings, fb.clock())
    await fb.ok(c["id"], "acknowledge")
    await fb.ok(c["id"], "resolve", note="退款并补偿", compensation={"points": 200})
    repeated = await fb.act(c["id"], "resolve", note="退款并补偿", compensation={"points": 200})  # a client retry
    assert repeated.status_code == 409
    await eventually(lambda: _published(fb), what="outbox drained")

    # Four events, each exactly once: the three steps, and the request to send the survey invitation
    # the resolution made. The outbox is drained, so every record the relay will ever publish is
    # already in the log, in this one partition (all keyed m1), right behind the four: a duplicate
    # would arrive with them or within a second. So read the four, then keep reading for a short,
    # fixed grace (1 s) to catch a fifth, instead of waiting a whole deadline for a record that must
    # never come (this read once asked for one more with an 8 s timeout: 8 s on every run).
    records = await read_topic(env.broker.bootstrap, env.prefix + Topics.FEEDBACK, expected=4, then_wait=1.0)
    events = [json.loads(r.value) | {"type": dict(r.headers)["ce_type"].decode(), "key": r.key.decode()} for r in records]
    assert [e["type"] for e in events] == [
        COMPLAINT_FILED, COMPLAINT_ESCALATED, COMPLAINT_RESOLVED, FEEDBACK_NOTIFICATION_REQUESTED]
    assert {e["key"] for e in events} == {"m1"}
    assert events[2]["compensation_points"] == 200 and events[2]["complaint_id"] == c["id"]
    assert all("冷柜" not in json.dumps(e, ensure_ascii=False) and "退款" not in json.dumps(e, ensure_ascii=False) for e in events)
