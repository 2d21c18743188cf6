"""A resolved complaint's survey invitation reaches the customer and its link works: members,
feedback, campaigns and the gateway over the broker. Feedback asks for the message, the campaigns
sender delivers it to the local outbox with a link on the public address, and that link, opened on
the gateway with the member's own token, shows the survey and is answered once."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.adapters.tables import CustomerRow
from feedback.adapters.tables import MemberProfileRow
from shared.auth import Role
from shared.store_directory import StoreDirectoryRow
from tests.support.factories import keyed, member_body
from tests.support.platform import TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]

PUBLIC = "https://crm.example.cn"
ANSWER = {"ratings": {"product_quality": 4, "service": 5, "price": 4, "store_environment": 5, "after_sales": 5}, "nps": 10}


async def test_the_survey_link_a_customer_receives_opens_on_the_gateway_and_is_answered_once(env: TestEnv, database_factory) -> None:
    env.overrides.update(public_url=PUBLIC)
    async with platform(env, database_factory) as p:
        assert p.feedback is not None and p.campaigns is not None
        # The store's name, kept by the gateway, is the one the customer's message gives.
        r = await p.gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=p.env.auth(Role.ADMIN))
        assert r.status_code == 200, r.text
        desk = p.env.auth(Role.SERVICE_DESK, store_id="S001")
        body = member_body(consents={"sms": False, "service_tips_sms": True})
        r = await p.gateway.post("/api/v1/members", json=body, headers=desk)
        assert r.status_code == 201, r.text
        member_id = r.json()["id"]

        async def known_everywhere() -> bool:
            async with p.apps["feedback"].state.sessions() as s:
                profile = await s.get(MemberProfileRow, member_id)
            async with p.apps["campaigns"].state.sessions() as s:
                customer = await s.get(CustomerRow, member_id)
                store = await s.get(StoreDirectoryRow, "S001")
            return (profile is not None and customer is not None and customer.consent_service_tips_sms is True
                    and store is not None)

        await eventually(known_everywhere, timeout=60, what="feedback and campaigns learn the member, the consent and the store")

        r = await p.gateway.post("/api/feedback/v1/complaints", json={
            "member_id": member_id, "category": "checkout_queues", "severity": "low", "description": "收银排队太久"}, headers=keyed(desk))
        assert r.status_code == 201, r.text
        complaint_id = r.json()["id"]
        for action, payload in (("acknowledge", None), ("resolve", {"note": "已增开收银台"})):
            r = await p.gateway.post(f"/api/feedback/v1/complaints/{complaint_id}/{action}", json=payload, headers=desk)
            assert r.status_code == 200, r.text

        operator = p.env.auth(Role.OPERATOR)
        # Dispatch as of tomorrow 10:00 in the stores' time zone: a request made in quiet hours was
        # deferred to 08:00, and is due then all the same. The job's own runner is handed that
        # moment, as the schedule would hand it tomorrow: the run-now route refuses a moment ahead
        # of the service's clock (jobs act for real).
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)
        runner = p.apps["campaigns"].state.jobs
        dispatch = next(job for job in runner.jobs if job.name == "message-dispatch")

        async def received() -> list[dict] | None:
            summary = await runner.run_once(dispatch, tomorrow)
            assert summary.get("failed") is not True, summary
            sent = (await p.campaigns.get("/v1/outbox", headers=operator)).json()
            return [m for m in sent if m["member_id"] == member_id] or None

        [sms] = await eventually(received, timeout=60, what="the survey invitation in the local outbox")
        assert sms["channel"] == "sms" and "城东大卖场" in sms["text"] and "回T退订" not in sms["text"]
        [link] = re.findall(rf"{re.escape(PUBLIC)}/surveys/[A-Za-z0-9_-]+", sms["text"])
        assert ":8004" not in sms["text"] and body["phone"] not in sms["text"]

        path = link.removeprefix(PUBLIC)
        me = p.env.auth(Role.MEMBER, member_id=member_id)
        form = await p.gateway.get(path, headers=me)
        assert form.status_code == 200, form.text
        assert form.json()["store_id"] == "S001"
        first = await p.gateway.post(path, json=ANSWER, headers=me)
        assert first.status_code == 201, first.text
        again = await p.gateway.post(path, json=ANSWER, headers=me)
        assert again.status_code == 409 and "already answered" in again.json()["detail"]
        sent = (await p.feedback.get("/v1/surveys/sent", params={"member_id": member_id}, headers=desk)).json()
        assert [(s["source"], s["answered_at"] is not None) for s in sent] == [("complaint", True)]
