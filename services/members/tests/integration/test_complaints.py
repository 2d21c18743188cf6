"""Complaints from feedback: the member's summary and the churn risk they raise."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from members.service_layer import analytics
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import COMPLAINT_FILED, COMPLAINT_REOPENED, COMPLAINT_RESOLVED
from tests.support.factories import line
from tests.support.members import deliver_sale, desk, outbox, register

pytestmark = pytest.mark.integration

ATTRIBUTES = "crm.members.member_attributes.v1"


async def deliver(members, event_type: str, payload, event_id: str | None = None) -> None:
    envelope = new_event(event_type, payload, source="test/feedback", event_id=event_id or str(uuid.uuid4()))
    consumer = members.app.state.consumer
    await consumer.apply_batch([consumer.delivery(envelope)])


def filed(member_id: str | None, complaint_id: str, at: datetime, category: str = "service_attitude") -> c.ComplaintFiledV1:
    return c.ComplaintFiledV1(
        complaint_id=complaint_id, member_id=member_id, store_id="S001", category=category, severity="medium",
        channel="service_desk", filed_at=at,
    )


def resolved(member_id: str, complaint_id: str, at: datetime, category: str = "service_attitude") -> c.ComplaintResolvedV1:
    return c.ComplaintResolvedV1(
        complaint_id=complaint_id, member_id=member_id, store_id="S001", category=category, severity="medium",
        resolved_at=at,
    )


def reopened(member_id: str, complaint_id: str, at: datetime, round_: int = 1) -> c.ComplaintReopenedV1:
    return c.ComplaintReopenedV1(
        complaint_id=complaint_id, member_id=member_id, store_id="S001", reopen_count=round_, reopened_at=at,
    )


async def weekly_buyer(members, env, now: datetime) -> dict:
    """A customer who shops every week and was last in 5 days ago: low risk."""
    m = await register(members, env)
    for i in range(5):
        await deliver_sale(members, card_no=m["card_no"], occurred_at=now - timedelta(days=5 + 7 * i),
                           lines=[line(qty="1", unit_price="50.00")])
    return m


async def value(members, env, member: dict) -> dict:
    r = await members.get(f"/v1/members/{member['id']}/value", headers=desk(env))
    assert r.status_code == 200, r.text
    return r.json()


async def summary(members, env, member: dict) -> dict:
    r = await members.get(f"/v1/members/{member['id']}/complaints", headers=desk(env))
    assert r.status_code == 200, r.text
    return r.json()


async def test_summary_counts_each_complaint_once_whatever_the_order_and_event_ids(members, env) -> None:
    m = await register(members, env)
    now = datetime.now(UTC)
    await deliver(members, COMPLAINT_FILED, filed(m["id"], "C-1", now - timedelta(days=3)))
    await deliver(members, COMPLAINT_FILED, filed(m["id"], "C-1", now - timedelta(days=3)))  # re-sent, new id
    await deliver(members, COMPLAINT_FILED, filed(m["id"], "C-2", now - timedelta(days=1), "price"))
    await deliver(members, COMPLAINT_RESOLVED, resolved(m["id"], "C-1", now))
    await deliver(members, COMPLAINT_RESOLVED, resolved(m["id"], "C-1", now))
    # The resolution of C-3 overtakes its filing.
    await deliver(members, COMPLAINT_RESOLVED, resolved(m["id"], "C-3", now, "delivery"))
    await deliver(members, COMPLAINT_FILED, filed(m["id"], "C-3", now - timedelta(hours=2), "delivery"))

    s = await summary(members, env, m)
    assert (s["filed"], s["open"], s["resolved"]) == (3, 1, 2)
    assert datetime.fromisoformat(s["last_filed_at"]) == now - timedelta(hours=2)
    assert s["by_category"] == {"delivery": 1, "price": 1, "service_attitude": 1}


async def test_anonymous_complaints_touch_no_member(members, env) -> None:
    m = await register(members, env)
    await deliver(members, COMPLAINT_FILED, filed(None, "C-anon", datetime.now(UTC)))
    assert (await summary(members, env, m))["filed"] == 0


async def test_only_staff_who_may_see_the_member_read_their_complaints(members, env) -> None:
    m = await register(members, env)
    r = await members.get(f"/v1/members/{m['id']}/complaints", headers=env.auth(Role.ACCOUNT_MANAGER))
    assert r.status_code == 403 and "account managers" in r.json()["detail"]


async def test_a_filed_complaint_raises_the_stored_churn_risk_at_once_and_announces_it(members, env) -> None:
    now = datetime.now(UTC)
    m = await weekly_buyer(members, env, now)
    await analytics.run(members.app.state.commands, members.app.state.settings, now)
    assert (await value(members, env, m))["churn_risk"] == "low"
    assert len(await outbox(members, ATTRIBUTES)) == 1

    await deliver(members, COMPLAINT_FILED, filed(m["id"], "C-9", now))
    v = await value(members, env, m)
    assert (v["rhythm_churn_risk"], v["churn_risk"]) == ("low", "medium")
    events = [json.loads(r.envelope) for r in await outbox(members, ATTRIBUTES)]
    assert len(events) == 2 and events[-1]["data"]["churn_risk"] == "medium"

    # The next run reads the same complaint: the risk stays raised and nothing new is announced.
    rerun = await analytics.run(members.app.state.commands, members.app.state.settings, now + timedelta(minutes=1))
    assert (await value(members, env, m))["churn_risk"] == "medium" and rerun["published"] == 0


async def test_a_complaint_weighs_only_within_the_complaint_window(members, env) -> None:
    now = datetime.now(UTC)
    m = await weekly_buyer(members, env, now)
    await analytics.run(members.app.state.commands, members.app.state.settings, now)
    await deliver(members, COMPLAINT_FILED, filed(m["id"], "C-old", now - timedelta(days=31)))
    assert (await value(members, env, m))["churn_risk"] == "low"
    assert (await summary(members, env, m))["filed"] == 1


async def test_a_complaint_before_the_first_run_is_taken_in_by_the_run(members, env) -> None:
    now = datetime.now(UTC)
    m = await weekly_buyer(members, env, now)
    await deliver(members, COMPLAINT_FILED, filed(m["id"], "C-early", now - timedelta(days=2)))
    await analytics.run(members.app.state.commands, members.app.state.settings, now)
    v = await value(members, env, m)
    assert (v["rhythm_churn_risk"], v["churn_risk"]) == ("low", "medium")
    # Thirty days on, the complaint no longer counts (the customer kept to their rhythm meanwhile).
    later = now + timedelta(days=29)
    for i in range(5):
        await deliver_sale(members, card_no=m["card_no"], occurred_at=later - timedelta(days=7 * i),
                           lines=[line(qty="1", unit_price="50.00")])
    await analytics.run(members.app.state.commands, members.app.state.settings, later)
    v = await value(members, env, m)
    assert (v["rhythm_churn_risk"], v["churn_risk"]) == ("low", "low")


async def test_a_reopened_complaint_counts_open_until_it_is_resolved_again(members, env) -> None:
    m = await register(members, env)
    now = datetime.now(UTC)
    await deliver(members, COMPLAINT_FILED, filed(m["id"], "C-7", now - timedelta(days=2)))
    await deliver(members, COMPLAINT_RESOLVED, resolved(m["id"], "C-7", now - timedelta(days=1)))
    assert (await summary(members, env, m))["resolved"] == 1
    await deliver(members, COMPLAINT_REOPENED, reopened(m["id"], "C-7", now - timedelta(hours=5)))
    s = await summary(members, env, m)
    assert (s["filed"], s["open"], s["resolved"]) == (1, 1, 0)
    await deliver(members, COMPLAINT_RESOLVED, resolved(m["id"], "C-7", now))
    # A reopening older than the resolution on file (the first round's, replayed) undoes nothing.
    await deliver(members, COMPLAINT_REOPENED, reopened(m["id"], "C-7", now - timedelta(hours=5)))
    s = await summary(members, env, m)
    assert (s["open"], s["resolved"]) == (0, 1)
