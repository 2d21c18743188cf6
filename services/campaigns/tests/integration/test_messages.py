"""The sender through the app, on SQLite and PostgreSQL: requests from members and from campaigns
become one message each whatever the redelivery, consent and the weekly cap are applied, quiet
hours defer, the dispatch job hands messages to the local outbox with retries and backoff, erasure
cancels what is queued, and the inbox, campaign counts and outbox answer per the access policy."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from campaigns.adapters.members_api import Contact
from campaigns.adapters.tables import MessageRow
from campaigns.adapters.transports import Outgoing, Receipt, TransportError
from campaigns.service_layer import messages
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import (
    CAMPAIGN_NOTIFICATION_REQUESTED,
    CAMPAIGN_NOTIFICATION_REQUESTED_V1,
    NOTIFICATION_REQUESTED,
)
from tests.support.audience import T0, consent, erased, registered
from tests.support.factories import keyed

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
SIGN = "【邻里生活超市】"
MANAGER = {"manager_name": "王芳", "manager_phone": "021-5555-0101", "store_id": "S001", "store_name": "城东店"}


def welcome(member_id: str, *, event_id: str | None = None, notification_id: str = "n-welcome-1", **fields: Any) -> Envelope:
    """Members asks for a new VIP's welcome (a service message: no consent needed)."""
    data = c.NotificationRequestedV1(notification_id=notification_id, member_id=member_id,
                                     template=fields.pop("template", "vip_welcome"), params=fields.pop("params", MANAGER),
                                     requested_at=T0, **fields)
    return new_event(NOTIFICATION_REQUESTED, data, source="crm/members", subject=member_id,
                     event_id=event_id or str(uuid.uuid4()))


def offer(member_id: str, campaign_id: str = "camp-1", occasion: str = "once", *, marketing: bool = True,
          template: str = "coupon_offer", params: dict[str, str] | None = None, channel: str = "sms") -> Envelope:
    """A campaign's message request, as service_layer/campaigns.py `_reach` emits it."""
    data = c.CampaignNotificationRequestedV1(
        notification_id=str(uuid.uuid4()), member_id=member_id, campaign_id=campaign_id, occasion=occasion,
        template=template, channel=channel, params={"offer": "满100减20"} if params is None else params,  # type: ignore[arg-type]
        requires_consent=f"marketing_{channel}" if marketing else None, requested_at=T0,  # type: ignore[arg-type]
    )
    return new_event(CAMPAIGN_NOTIFICATION_REQUESTED, data, source="crm/campaigns", subject=member_id)


async def rows(cmp, member_id: str) -> list[MessageRow]:
    async with cmp.app.state.sessions() as s:
        return list((await s.exec(select(MessageRow).where(MessageRow.member_id == member_id).order_by(col(MessageRow.created_at)))).all())


async def inbox(cmp, member_id: str, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    r = await cmp.client.get(f"/v1/members/{member_id}/messages", headers=headers or cmp.member(member_id))
    assert r.status_code == status, r.text
    return r.json()


async def outbox(cmp) -> list[dict[str, Any]]:
    r = await cmp.client.get("/v1/outbox", headers=cmp.env.auth(Role.OPERATOR))
    assert r.status_code == 200, r.text
    return r.json()


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def segment(cmp, rule: dict[str, Any]) -> str:
    r = await cmp.client.post("/v1/segments", json={"name": "with SMS consent", "rule": rule}, headers=cmp.marketing())
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def campaign(cmp, **body: Any) -> dict[str, Any]:
    r = await cmp.client.post("/v1/campaigns", json={"name": "Coupon offer", **body}, headers=keyed(cmp.marketing()))
    assert r.status_code == 201, r.text
    return r.json()


async def act(cmp, campaign_id: str, action: str) -> dict[str, Any]:
    r = await cmp.client.post(f"/v1/campaigns/{campaign_id}/{action}", headers=cmp.marketing())
    assert r.status_code == 200, r.text
    return r.json()


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


async def test_a_vip_welcome_is_sent_once_to_the_local_outbox_and_the_inbox(cmp) -> None:
    await cmp.apply(registered("m-1"))
    request = welcome("m-1", event_id="e-1")
    await cmp.apply(request)
    # Redelivered (same event id) and republished under another id: still one message.
    await cmp.apply(request)
    await cmp.apply(welcome("m-1", event_id="e-2"))
    (queued,) = await rows(cmp, "m-1")
    assert (queued.status, queued.channel, queued.marketing, queued.language) == ("queued", "sms", False, "zh-CN")
    assert queued.params == MANAGER
    assert await inbox(cmp, "m-1") == []  # not sent yet: not in the inbox

    summary = await cmp.run_job("message-dispatch")
    assert (summary["due"], summary["sent"]) == (1, 1)
    assert (await cmp.run_job("message-dispatch"))["due"] == 0

    (sent,) = await outbox(cmp)
    # No service credential to reach members here: the member is greeted neutrally, as stored.
    text = "【邻里生活超市】尊敬的会员，恭喜您成为城东店的VIP会员！我是您的专属客户经理王芳，工作电话021-5555-0101，有需要随时联系。"
    assert (sent["member_id"], sent["channel"], sent["text"]) == ("m-1", "sms", text)
    (message,) = await inbox(cmp, "m-1")
    assert (message["status"], message["text"], message["attempts"], message["read_at"]) == ("sent", text, 1, None)
    assert at(message["sent_at"]) == cmp.clock.now

    cmp.clock.advance(minutes=5)
    r = await cmp.client.post(f"/v1/members/m-1/messages/{message['id']}/read", headers=cmp.member("m-1"))
    assert r.status_code == 200, r.text
    read_at = r.json()["read_at"]
    assert read_at is not None
    cmp.clock.advance(minutes=5)  # reading again keeps the first time
    r = await cmp.client.post(f"/v1/members/m-1/messages/{message['id']}/read", headers=cmp.member("m-1"))
    assert r.json()["read_at"] == read_at


async def test_marketing_needs_consent_on_its_channel_service_messages_their_own(cmp) -> None:
    await cmp.apply(registered("m-yes"), consent("m-yes", "marketing_sms", True),
                    registered("m-no"), consent("m-no", "marketing_email", True),
                    registered("m-tips"), registered("m-tips-yes"), consent("m-tips-yes", "service_tips_sms", True))
    await cmp.apply(offer("m-yes"), offer("m-no"),
                    welcome("m-tips", template="service_tip", params={"tip": "本周六延长营业至22点"},
                            requires_consent="service_tips_sms"),
                    welcome("m-tips-yes", template="service_tip", params={"tip": "本周六延长营业至22点"},
                            requires_consent="service_tips_sms"))
    (yes,), (no,) = await rows(cmp, "m-yes"), await rows(cmp, "m-no")
    assert yes.status == "queued" and yes.text == f"{SIGN}您有一张满100减20优惠券已放入会员卡包，结账时出示会员卡即可使用。回T退订"
    assert (no.status, no.reason) == ("cancelled", "no marketing_sms consent") and no.cancelled_at == T0
    (tips,), (tips_yes,) = await rows(cmp, "m-tips"), await rows(cmp, "m-tips-yes")
    assert (tips.status, tips.reason) == ("cancelled", "no service_tips_sms consent")
    assert tips_yes.status == "queued" and tips_yes.text == f"{SIGN}温馨提示：本周六延长营业至22点"  # a service message: no opt-out line

    # Consent withdrawn before the dispatch: the message is stopped at send time too.
    await cmp.apply(consent("m-yes", "marketing_sms", False, at=T0 + timedelta(minutes=1)))
    summary = await cmp.run_job("message-dispatch")
    assert (summary["cancelled"], summary["sent"]) == (1, 1)
    (yes,) = await rows(cmp, "m-yes")
    assert (yes.status, yes.reason) == ("cancelled", "no marketing_sms consent")
    assert [e["member_id"] for e in await outbox(cmp)] == ["m-tips-yes"]


def campaign_tip(member_id: str, *, version: int = 2) -> Envelope:
    """A service campaign's message request: v2 requires the service tips consent, v1 (still on the
    topic from before) could name none."""
    model = c.CampaignNotificationRequestedV2 if version == 2 else c.CampaignNotificationRequestedV1
    data = model(
        notification_id=str(uuid.uuid4()), member_id=member_id, campaign_id="camp-tips", occasion="once",
        template="service_tip", channel="sms", params={"tip": "本周六延长营业至22点"},
        requires_consent="service_tips_sms" if version == 2 else None, requested_at=T0,  # type: ignore[arg-type]
    )
    kind = CAMPAIGN_NOTIFICATION_REQUESTED if version == 2 else CAMPAIGN_NOTIFICATION_REQUESTED_V1
    return new_event(kind, data, source="crm/campaigns", subject=member_id)


async def test_a_service_campaigns_message_needs_the_service_tips_consent_and_a_v1_request_still_goes(cmp) -> None:
    await cmp.apply(registered("m-tips"), registered("m-tips-yes"), consent("m-tips-yes", "service_tips_sms", True),
                    registered("m-old"))
    await cmp.apply(campaign_tip("m-tips"), campaign_tip("m-tips-yes"), campaign_tip("m-old", version=1))
    (tips,), (tips_yes,), (old,) = await rows(cmp, "m-tips"), await rows(cmp, "m-tips-yes"), await rows(cmp, "m-old")
    assert (tips.status, tips.reason) == ("cancelled", "no service_tips_sms consent")
    # A service message: no opt-out line, and not marketing for the weekly cap.
    assert tips_yes.status == "queued" and tips_yes.text == f"{SIGN}温馨提示：本周六延长营业至22点" and not tips_yes.marketing
    assert old.status == "queued" and not old.marketing and old.requires_consent is None


async def test_the_weekly_cap_cancels_marketing_beyond_it_and_service_messages_are_not_counted(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    await cmp.apply(offer("m-1", "camp-a"), offer("m-1", "camp-b"), welcome("m-1"), offer("m-1", "camp-c"))
    by_source = {r.source: r for r in await rows(cmp, "m-1")}
    assert by_source["camp-a"].status == by_source["camp-b"].status == by_source["members:vip_welcome"].status == "queued"
    assert by_source["camp-c"].status == "cancelled"
    assert by_source["camp-c"].reason == "weekly cap: 2 marketing messages in the last 7 days (cap 2)"

    cmp.clock.advance(days=7)  # the first two leave the 7-day window
    await cmp.apply(offer("m-1", "camp-d"))
    by_source = {r.source: r for r in await rows(cmp, "m-1")}
    assert by_source["camp-d"].status == "queued"


async def test_a_batch_of_requests_counts_the_cap_and_duplicates_within_itself(cmp) -> None:
    """A launch's requests arrive a batch at a time: the cap counts the batch's own earlier
    messages, the same (member, campaign, occasion) twice in one batch is one message, and a batch
    requested again (republished under new event ids) adds nothing."""
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True), registered("m-2"),
                    consent("m-2", "marketing_sms", True))
    batch = [offer("m-1", "camp-a"), offer("m-2", "camp-a"), offer("m-1", "camp-b"), offer("m-1", "camp-b"),
             offer("m-1", "camp-c")]
    await cmp.apply(*batch)
    by_source = {r.source: r for r in await rows(cmp, "m-1")}
    assert len(await rows(cmp, "m-1")) == 3
    assert by_source["camp-a"].status == by_source["camp-b"].status == "queued"
    assert (by_source["camp-c"].status, by_source["camp-c"].reason) == (
        "cancelled", "weekly cap: 2 marketing messages in the last 7 days (cap 2)")
    assert [r.status for r in await rows(cmp, "m-2")] == ["queued"]

    await cmp.apply(*[offer("m-1", campaign) for campaign in ("camp-a", "camp-b", "camp-c")])
    assert len(await rows(cmp, "m-1")) == 3


async def test_a_message_requested_in_quiet_hours_goes_out_at_eight(cmp) -> None:
    await cmp.apply(registered("m-1"))
    cmp.clock.now = local(5, 22, 30)
    await cmp.apply(welcome("m-1"))
    (row,) = await rows(cmp, "m-1")
    assert (row.status, row.not_before, row.reason) == ("deferred", local(6, 8), "quiet hours")

    cmp.clock.now = local(6, 7, 59)
    assert (await cmp.run_job("message-dispatch"))["due"] == 0
    assert await outbox(cmp) == []
    cmp.clock.now = local(6, 8, 0)
    assert (await cmp.run_job("message-dispatch"))["sent"] == 1
    (sent,) = await outbox(cmp)
    assert at(sent["sent_at"]) == local(6, 8)


async def test_a_missing_template_or_parameter_is_a_failed_message_not_a_failed_consumer(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    await cmp.apply(offer("m-1", "camp-a", template="no_such_template"), offer("m-1", "camp-b", params={}),
                    offer("m-1", "camp-c"))
    by_source = {r.source: r for r in await rows(cmp, "m-1")}
    assert (by_source["camp-a"].status, by_source["camp-a"].reason) == ("failed", "template: no template 'no_such_template'")
    assert by_source["camp-b"].status == "failed" and by_source["camp-b"].reason == "template: 'offer' is undefined"
    assert by_source["camp-a"].failed_at == T0 and by_source["camp-b"].text is None
    # Failed ones do not count against the cap: the third still goes.
    assert by_source["camp-c"].status == "queued"


class Refusing:
    """A transport whose provider is down: every hand-over fails."""

    def __init__(self, retryable: bool = True) -> None:
        self.calls: list[Outgoing] = []
        self.retryable = retryable

    async def send(self, message: Outgoing) -> Receipt:
        self.calls.append(message)
        raise TransportError("provider answered 503", retryable=self.retryable)


async def dispatch(cmp, transport: Any, contacts: Any = None) -> dict[str, int]:
    async with cmp.app.state.commands() as uow:
        return await messages.dispatch(uow, transport, cmp.clock.now, 100, contacts)


class Recording:
    """A transport that takes every message."""

    def __init__(self) -> None:
        self.calls: list[Outgoing] = []

    async def send(self, message: Outgoing) -> Receipt:
        self.calls.append(message)
        return Receipt(ref=f"ref-{len(self.calls)}", status="sent")


class Directory:
    """Members' answers at sending time, as `ContactDirectory.contact` gives them."""

    def __init__(self, answers: dict[str, Contact | TransportError]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def contact(self, member_id: str) -> Contact:
        self.asked.append(member_id)
        answer = self.answers[member_id]
        if isinstance(answer, TransportError):
            raise answer
        return answer


async def test_a_vip_welcome_greets_the_member_by_name_as_sent_and_stores_no_name(cmp) -> None:
    await cmp.apply(registered("m-1"), registered("m-2"), registered("m-3"), consent("m-3", "marketing_sms", True))
    await cmp.apply(welcome("m-1"), welcome("m-2", notification_id="n-2"), offer("m-3"))
    sent = Recording()
    directory = Directory({"m-1": Contact(phone="13800001111", email=None, family_name="欧阳", gender="female"),
                           "m-2": Contact(phone="13800002222", email=None, family_name="Smith", gender="unspecified")})
    assert (await dispatch(cmp, sent, directory))["sent"] == 3
    by_member = {m.member_id: m for m in sent.calls}
    assert by_member["m-1"].text == ("【邻里生活超市】欧阳女士，恭喜您成为城东店的VIP会员！我是您的专属客户经理王芳，"
                                     "工作电话021-5555-0101，有需要随时联系。")
    # The provider's approved template gets the greeting as a parameter, and the number read with it.
    assert (by_member["m-1"].params["salutation"], by_member["m-1"].address) == ("欧阳女士", "13800001111")
    assert by_member["m-2"].text.startswith("【邻里生活超市】Smith先生/女士，恭喜您")
    # A template that greets nobody costs no look-up.
    assert "m-3" not in directory.asked and by_member["m-3"].address is None
    for member_id in ("m-1", "m-2"):  # what campaigns keeps (the inbox, the customer-360) names nobody
        (row,) = await rows(cmp, member_id)
        assert row.text is not None and row.text.startswith("【邻里生活超市】尊敬的会员，") and "salutation" not in row.params


async def test_a_greeting_members_cannot_answer_now_is_retried_and_one_without_a_phone_fails(cmp) -> None:
    await cmp.apply(registered("m-1"), registered("m-2"))
    await cmp.apply(welcome("m-1"), welcome("m-2", notification_id="n-2"))
    sent = Recording()
    directory = Directory({"m-1": TransportError("contact look-up: members answered 503"),
                           "m-2": Contact(phone=None, email=None, family_name=None, gender="unspecified")})
    outcome = await dispatch(cmp, sent, directory)
    assert (outcome["retrying"], outcome["failed"], sent.calls) == (1, 1, [])
    (waiting,) = await rows(cmp, "m-1")
    assert (waiting.status, waiting.reason) == ("queued", "attempt 1: contact look-up: members answered 503")
    (failed,) = await rows(cmp, "m-2")
    assert (failed.status, failed.reason) == ("failed", "attempt 1: contact look-up: member m-2 has no phone")


async def test_failed_hand_overs_are_retried_with_backoff_then_failed(cmp) -> None:
    await cmp.apply(registered("m-1"))
    await cmp.apply(welcome("m-1"))
    down = Refusing()
    waits = []
    for attempt in range(1, 5):  # CRM_MESSAGE_MAX_ATTEMPTS is 5 by default
        assert (await dispatch(cmp, down))["retrying"] == 1
        (row,) = await rows(cmp, "m-1")
        assert (row.status, row.attempts, row.reason) == ("queued", attempt, f"attempt {attempt}: provider answered 503")
        waits.append(row.not_before - cmp.clock.now)
        assert (await dispatch(cmp, down))["due"] == 0  # not before its backoff
        cmp.clock.now = row.not_before
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    assert (await dispatch(cmp, down))["failed"] == 1
    (row,) = await rows(cmp, "m-1")
    assert (row.status, row.attempts, row.reason) == ("failed", 5, "attempt 5: provider answered 503")
    assert row.failed_at == cmp.clock.now and len(down.calls) == 5
    assert await inbox(cmp, "m-1") == []


async def test_a_members_export_lists_every_message_and_the_inbox_only_what_reached_them(cmp) -> None:
    await cmp.apply(registered("m-1"))
    await cmp.apply(welcome("m-1", event_id="e-1"))  # an SMS, queued: not in the inbox yet
    assert await inbox(cmp, "m-1") == []
    r = await cmp.client.get("/v1/members/m-1/messages", params={"all": "true"}, headers=cmp.member("m-1"))
    assert r.status_code == 200 and [(m["channel"], m["status"]) for m in r.json()] == [("sms", "queued")], r.text
    # Another member's messages stay theirs, whatever is asked.
    r = await cmp.client.get("/v1/members/m-1/messages", params={"all": "true"}, headers=cmp.member("m-2"))
    assert r.status_code in (403, 404), r.text


async def test_an_inbox_message_is_not_held_by_quiet_hours(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    cmp.clock.now = local(5, 22, 30)
    # As an offer list's round asks (offer_lists._requests): the list by SMS and the same in the inbox.
    asked = [messages.Request(member_id="m-1", source="camp-a", occasion=f"offer_list:{channel}", notification_id=f"n-{channel}",
                              channel=channel, template="offer_list", marketing=channel == "sms", requires_consent="marketing_sms",
                              params={"count": "1", "first": "满100减20", "personal": "no", "link": "https://example.test/app/v1/offers"})
             for channel in ("sms", "inbox")]
    async with cmp.app.state.commands() as uow:
        await messages.request(uow, asked)
    by_channel = {r.channel: r for r in await rows(cmp, "m-1")}
    assert (by_channel["sms"].status, by_channel["sms"].reason) == ("deferred", "quiet hours")
    assert (by_channel["inbox"].status, by_channel["inbox"].reason) == ("queued", None)
    assert (await cmp.run_job("message-dispatch"))["due"] == 1
    assert [m["status"] for m in await inbox(cmp, "m-1")] == ["delivered"]


def offer_list(member_id: str, source: str) -> list[messages.Request]:
    """An offer list's announcement as its round asks for it (offer_lists._requests): by SMS and the
    same text in the inbox."""
    return [messages.Request(
        member_id=member_id, source=source, occasion=f"offer_list:{channel}", notification_id=f"n-{source}-{channel}",
        channel=channel, template="offer_list", marketing=channel == "sms", requires_consent="marketing_sms",
        params={"count": "1", "first": "满100减20", "personal": "no", "link": "https://example.test/app/v1/offers"},
    ) for channel in ("sms", "inbox")]


async def test_the_member_reads_a_message_sent_by_sms_and_in_the_inbox_once_staff_see_both_deliveries(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    for source in ("round-1", "round-2"):  # two lists: two messages, each once in the app
        async with cmp.app.state.commands() as uow:
            await messages.request(uow, offer_list("m-1", source))
        cmp.clock.advance(minutes=1)
    await cmp.apply(welcome("m-1"))  # by SMS alone: the app shows it as it was sent
    assert (await cmp.run_job("message-dispatch"))["due"] == 5
    mine = await inbox(cmp, "m-1")
    assert [(m["source"], m["channel"], m["status"]) for m in mine] == [
        ("members:vip_welcome", "sms", "sent"), ("round-2", "inbox", "delivered"), ("round-1", "inbox", "delivered")]
    # What the app shows is the inbox's own text: no sign name, no opt-out line of the SMS.
    assert not mine[1]["text"].startswith(SIGN) and "回T退订" not in mine[1]["text"]
    # Staff (the customer-360) and the member's export see every delivery with its status.
    staff = cmp.env.auth(Role.SERVICE_DESK, store_id="S001")
    expected = [("members:vip_welcome", "sms", "sent"), ("round-2", "sms", "sent"), ("round-2", "inbox", "delivered"),
                ("round-1", "sms", "sent"), ("round-1", "inbox", "delivered")]
    assert sorted((m["source"], m["channel"], m["status"]) for m in await inbox(cmp, "m-1", headers=staff)) == sorted(expected)
    r = await cmp.client.get("/v1/members/m-1/overview", params={"messages": 10}, headers=staff)
    assert r.status_code == 200, r.text
    assert sorted((m["source"], m["channel"], m["status"]) for m in r.json()["messages"]) == sorted(expected)
    r = await cmp.client.get("/v1/members/m-1/messages", params={"all": "true"}, headers=cmp.member("m-1"))
    assert r.status_code == 200 and len(r.json()) == 5, r.text
    # The member's own overview lists what their inbox does; a page counts each message once.
    r = await cmp.client.get("/v1/members/m-1/overview", headers=cmp.member("m-1"))
    assert r.status_code == 200 and r.json()["messages"] == mine, r.text
    r = await cmp.client.get("/v1/members/m-1/messages", params={"limit": 2, "offset": 1}, headers=cmp.member("m-1"))
    assert r.status_code == 200 and [m["id"] for m in r.json()] == [m["id"] for m in mine[1:]], r.text
    # Marking read follows the inbox: the inbox copy is the one read, its SMS is not in the inbox.
    sms = next(m for m in await inbox(cmp, "m-1", headers=staff) if (m["source"], m["channel"]) == ("round-1", "sms"))
    r = await cmp.client.post(f"/v1/members/m-1/messages/{sms['id']}/read", headers=cmp.member("m-1"))
    assert r.status_code == 404, r.text
    r = await cmp.client.post(f"/v1/members/m-1/messages/{mine[2]['id']}/read", headers=cmp.member("m-1"))
    assert r.status_code == 200 and r.json()["read_at"] is not None, r.text


async def test_an_sms_whose_inbox_copy_did_not_reach_the_member_stays_in_their_inbox(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    async with cmp.app.state.commands() as uow:
        await messages.request(uow, offer_list("m-1", "round-1"))
    async with cmp.app.state.sessions() as s:  # the inbox copy not delivered (yet): the SMS is all they got
        inbox_copy = (await s.exec(select(MessageRow).where(MessageRow.channel == "inbox"))).one()
        inbox_copy.status, inbox_copy.not_before = "queued", cmp.clock.now + timedelta(hours=1)
        s.add(inbox_copy)
        await s.commit()
    assert (await cmp.run_job("message-dispatch"))["due"] == 1
    assert [(m["channel"], m["status"]) for m in await inbox(cmp, "m-1")] == [("sms", "sent")]
    cmp.clock.advance(hours=1)
    await cmp.run_job("message-dispatch")
    assert [(m["channel"], m["status"]) for m in await inbox(cmp, "m-1")] == [("inbox", "delivered")]


async def in_the_app(cmp, member_id: str, *sources: str) -> None:
    """An offer list's inbox copy per source, recorded in one batch (one `created_at`) and delivered:
    messages of the member's inbox alone."""
    async with cmp.app.state.commands() as uow:
        await messages.request(uow, [r for source in sources for r in offer_list(member_id, source) if r.channel == "inbox"])
    await cmp.run_job("message-dispatch")


async def page(cmp, member_id: str, headers: dict[str, str] | None = None, **params: Any) -> list[dict[str, Any]]:
    r = await cmp.client.get(f"/v1/members/{member_id}/messages", params=params, headers=headers or cmp.member(member_id))
    assert r.status_code == 200, r.text
    return r.json()


async def test_paging_on_from_the_last_message_seen_lists_each_once_though_a_newer_one_arrived(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    for n in range(1, 6):
        await in_the_app(cmp, "m-1", f"round-{n}")
        cmp.clock.advance(minutes=1)
    first = await page(cmp, "m-1", limit=2)
    assert [m["source"] for m in first] == ["round-5", "round-4"]
    await in_the_app(cmp, "m-1", "round-6")  # arrives while the member scrolls
    # What the app did by offset: the next page starts one late, round-4 listed twice.
    assert [m["source"] for m in await page(cmp, "m-1", limit=2, offset=2)] == ["round-4", "round-3"]
    second = await page(cmp, "m-1", limit=2, before_id=first[-1]["id"])
    third = await page(cmp, "m-1", limit=2, before_id=second[-1]["id"])
    assert [m["source"] for m in first + second + third] == [f"round-{n}" for n in range(5, 0, -1)]
    assert await page(cmp, "m-1", limit=2, before_id=third[-1]["id"]) == []  # the end: an empty page, not a refusal
    # The newer message is where a reload finds it, at the top.
    assert [m["source"] for m in await page(cmp, "m-1", limit=1)] == ["round-6"]


async def test_messages_of_the_same_time_page_on_by_id_across_a_page_boundary(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    await in_the_app(cmp, "m-1", "round-a", "round-b", "round-c", "round-d")  # one batch: one created_at
    cmp.clock.advance(minutes=1)
    await in_the_app(cmp, "m-1", "round-e")
    everything = await page(cmp, "m-1")
    ties = everything[1:]
    assert everything[0]["source"] == "round-e" and len({at(m["created_at"]) for m in ties}) == 1
    assert [m["id"] for m in ties] == sorted(m["id"] for m in ties)  # as old: by id
    first = await page(cmp, "m-1", limit=2)
    second = await page(cmp, "m-1", limit=2, before_id=first[-1]["id"])  # the boundary splits the batch
    third = await page(cmp, "m-1", limit=2, before_id=second[-1]["id"])
    assert [m["id"] for m in first + second + third] == [m["id"] for m in everything]
    # An offset with it counts from the message named: one skipped after it.
    skipped = await page(cmp, "m-1", limit=2, before_id=first[-1]["id"], offset=1)
    assert [m["id"] for m in skipped] == [m["id"] for m in everything[3:5]]


async def test_a_page_goes_on_from_a_message_the_inbox_does_not_list_by_its_place(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    for source in ("round-1", "round-2"):  # each by SMS and in the inbox, the two at one time
        async with cmp.app.state.commands() as uow:
            await messages.request(uow, offer_list("m-1", source))
        cmp.clock.advance(minutes=1)
    assert (await cmp.run_job("message-dispatch"))["due"] == 4
    # Staff's archive lists both copies; a page of 3 ends between the two of round-1.
    staff = cmp.env.auth(Role.SERVICE_DESK, store_id="S001")
    archive = await page(cmp, "m-1", staff)
    first = await page(cmp, "m-1", staff, limit=3)
    second = await page(cmp, "m-1", staff, limit=3, before_id=first[-1]["id"])
    assert [m["id"] for m in first + second] == [m["id"] for m in archive] and len(archive) == 4
    assert [m["source"] for m in first] == ["round-2", "round-2", "round-1"]
    # The app's inbox lists the inbox copies alone: named by round-2's SMS, which it does not list
    # (the app's last item may have left the inbox since), it goes on from that SMS's place.
    listed = {m["id"] for m in await inbox(cmp, "m-1")}
    sms = next(m for m in archive if (m["source"], m["channel"]) == ("round-2", "sms"))
    assert sms["id"] not in listed
    following = [m["id"] for m in archive[archive.index(sms) + 1:] if m["id"] in listed]
    assert [m["id"] for m in await page(cmp, "m-1", before_id=sms["id"])] == following
    assert "round-1" in {m["source"] for m in archive[archive.index(sms) + 1:] if m["id"] in listed}


async def test_paging_on_from_another_members_or_an_unknown_message_is_refused_naming_before_id(cmp) -> None:
    await cmp.apply(registered("m-1"), registered("m-2"), consent("m-1", "marketing_sms", True),
                    consent("m-2", "marketing_sms", True))
    await in_the_app(cmp, "m-1", "round-1")
    await in_the_app(cmp, "m-2", "round-1")
    (theirs,) = await inbox(cmp, "m-2")
    staff = cmp.env.auth(Role.SERVICE_DESK, store_id="S001")
    unknown = str(uuid.uuid4())
    for before_id, headers, params in ((theirs["id"], cmp.member("m-1"), {}), (theirs["id"], cmp.member("m-1"), {"all": "true"}),
                                       (theirs["id"], staff, {}), (unknown, cmp.member("m-1"), {})):
        r = await cmp.client.get("/v1/members/m-1/messages", params={"before_id": before_id, **params}, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["detail"] == f"before_id: no message {before_id} of member m-1: name the last message of the page before"
    for bad in ("", "x" * 37, "a\x00b"):  # nothing, longer than any id, a NUL PostgreSQL refuses
        r = await cmp.client.get("/v1/members/m-1/messages", params={"before_id": bad}, headers=cmp.member("m-1"))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "before_id"], r.text


async def test_a_retry_falling_into_quiet_hours_is_deferred_and_a_permanent_refusal_fails_at_once(cmp) -> None:
    await cmp.apply(registered("m-1"), registered("m-2"))
    cmp.clock.now = local(5, 20, 59)
    await cmp.apply(welcome("m-1"))
    await dispatch(cmp, Refusing())  # the retry is due at 21:00, in quiet hours
    cmp.clock.now = local(5, 21, 0)
    assert (await cmp.run_job("message-dispatch"))["deferred"] == 1
    (row,) = await rows(cmp, "m-1")
    assert (row.status, row.not_before) == ("deferred", local(6, 8))

    cmp.clock.now = local(6, 9)
    await cmp.apply(welcome("m-2"))
    assert (await dispatch(cmp, Refusing(retryable=False)))["failed"] == 2
    assert {r.status for r in await rows(cmp, "m-1") + await rows(cmp, "m-2")} == {"failed"}


async def test_erasure_cancels_what_is_queued_and_empties_the_inbox(cmp) -> None:
    await cmp.apply(registered("m-1"), consent("m-1", "marketing_sms", True))
    await cmp.apply(welcome("m-1"))
    await cmp.run_job("message-dispatch")
    cmp.clock.now = local(5, 23)
    await cmp.apply(offer("m-1"))  # deferred to the morning
    cmp.clock.advance(minutes=10)
    await cmp.apply(erased("m-1", at=cmp.clock.now))
    by_status = {r.status: r for r in await rows(cmp, "m-1")}
    assert set(by_status) == {"sent", "cancelled"}
    assert by_status["cancelled"].reason == "the member was erased" and by_status["cancelled"].cancelled_at == cmp.clock.now
    assert by_status["sent"].text is None and by_status["sent"].params == {}
    assert await outbox(cmp) == []
    cmp.clock.now = local(6, 8)
    assert (await cmp.run_job("message-dispatch"))["due"] == 0
    # A request arriving after the erasure makes a cancelled message, nothing to send.
    await cmp.apply(welcome("m-1", notification_id="n-welcome-2"))
    assert {r.status for r in await rows(cmp, "m-1")} == {"sent", "cancelled"}
    assert len(await rows(cmp, "m-1")) == 3


async def test_a_launched_campaign_reaches_members_through_the_sender_and_counts_per_status(cmp) -> None:
    members = [f"m-{i}" for i in range(4)]
    for m in members:
        await cmp.apply(registered(m), consent(m, "marketing_sms", True))
    seg = await segment(cmp, {"field": "marketing_consent", "channel": "sms"})
    made = await campaign(cmp, kind="one_off", segment_id=seg, coupon_template_id=await cmp.template(),
                          message={"template": "coupon_offer", "params": {"offer": "满100减20"}}, control_share="0")
    await act(cmp, made["id"], "launch")
    requests = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    assert len(requests) == 4
    envelopes = [new_event(CAMPAIGN_NOTIFICATION_REQUESTED, c.CampaignNotificationRequestedV1.model_validate(d),
                           source="crm/campaigns", subject=d["member_id"], event_id=d["notification_id"]) for d in requests]
    await cmp.apply(*envelopes)
    await cmp.apply(consent("m-3", "marketing_sms", False, at=T0 + timedelta(minutes=1)))
    await cmp.apply(*envelopes)  # redelivered: nothing new
    await cmp.run_job("message-dispatch")

    r = await cmp.client.get(f"/v1/campaigns/{made['id']}/messages", headers=cmp.marketing())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 4
    assert body["counts"] == {"queued": 0, "deferred": 0, "sent": 3, "delivered": 0, "failed": 0, "cancelled": 1}
    texts = {e["member_id"]: e["text"] for e in await outbox(cmp)}
    assert set(texts) == {"m-0", "m-1", "m-2"} and all(t.startswith(SIGN) and t.endswith("回T退订") for t in texts.values())
    r = await cmp.client.get("/v1/campaigns/no-such-campaign/messages", headers=cmp.marketing())
    assert r.status_code == 404


async def test_a_campaigns_message_still_waiting_at_its_end_is_cancelled_not_sent(cmp) -> None:
    # Deferred by quiet hours to 08:00, the campaign ended at 03:47: nothing reaches anyone after its end.
    members = ["m-0", "m-1"]
    for m in members:
        await cmp.apply(registered(m), consent(m, "marketing_sms", True))
    seg = await segment(cmp, {"field": "marketing_consent", "channel": "sms"})
    made = await campaign(cmp, kind="one_off", segment_id=seg, coupon_template_id=await cmp.template(),
                          message={"template": "coupon_offer", "params": {"offer": "满100减20"}}, control_share="0")
    cmp.clock.now = local(5, 22, 30)
    await act(cmp, made["id"], "launch")
    requests = await cmp.outbox(CAMPAIGN_NOTIFICATION_REQUESTED)
    await cmp.apply(*(new_event(CAMPAIGN_NOTIFICATION_REQUESTED, c.CampaignNotificationRequestedV1.model_validate(d),
                                source="crm/campaigns", subject=d["member_id"], event_id=d["notification_id"]) for d in requests))
    assert [row.status for m in members for row in await rows(cmp, m)] == ["deferred", "deferred"]
    cmp.clock.now = local(6, 3, 47)
    await act(cmp, made["id"], "end")
    cmp.clock.now = local(6, 8, 0)
    assert (await cmp.run_job("message-dispatch"))["cancelled"] == 2
    assert await outbox(cmp) == []
    assert [(row.status, row.reason) for m in members for row in await rows(cmp, m)] == [
        ("cancelled", "the campaign ended before it was sent")] * 2


async def test_who_may_read_messages_and_the_outbox(cmp) -> None:
    await cmp.apply(registered("m-1", home_store_id="S001"), registered("m-2", home_store_id="S002"))
    await cmp.apply(welcome("m-1"))
    await cmp.run_job("message-dispatch")
    cmp.clock.advance(minutes=1)
    await cmp.apply(welcome("m-2", notification_id="n-2"))
    await cmp.run_job("message-dispatch")
    (mine,) = await inbox(cmp, "m-1")
    (theirs,) = await inbox(cmp, "m-2")

    # A member reads only their own inbox and marks only their own messages.
    await inbox(cmp, "m-2", 403, cmp.member("m-1"))
    r = await cmp.client.post(f"/v1/members/m-1/messages/{theirs['id']}/read", headers=cmp.member("m-1"))
    assert r.status_code == 404
    r = await cmp.client.post(f"/v1/members/m-2/messages/{theirs['id']}/read", headers=cmp.member("m-1"))
    assert r.status_code == 403
    # Staff see a customer's messages within their scope; marking read is the member's alone.
    assert [m["id"] for m in await inbox(cmp, "m-1", headers=cmp.env.auth(Role.SERVICE_DESK, store_id="S001"))] == [mine["id"]]
    await inbox(cmp, "m-2", 403, cmp.env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert len(await inbox(cmp, "m-1", headers=cmp.marketing())) == 1
    r = await cmp.client.post(f"/v1/members/m-1/messages/{mine['id']}/read", headers=cmp.env.auth(Role.ADMIN))
    assert r.status_code == 403
    await inbox(cmp, "m-1", 403, cmp.till())
    # The outbox: operators and admins only, newest first, a page at a time.
    for role in (Role.MARKETING, Role.SERVICE_DESK):
        r = await cmp.client.get("/v1/outbox", headers=cmp.env.auth(role, store_id="S001") if role == Role.SERVICE_DESK else cmp.env.auth(role))
        assert r.status_code == 403, role
    everything = await outbox(cmp)
    assert [e["member_id"] for e in everything] == ["m-2", "m-1"]
    r = await cmp.client.get("/v1/outbox?limit=1&offset=1", headers=cmp.env.auth(Role.ADMIN))
    assert [e["member_id"] for e in r.json()] == ["m-1"]
    r = await cmp.client.get("/v1/outbox?limit=0", headers=cmp.env.auth(Role.ADMIN))
    assert r.status_code == 422 and "limit" in str(r.json()["detail"][0]["loc"])


async def test_staff_see_every_status_the_member_only_what_reached_them(cmp) -> None:
    await cmp.apply(registered("m-1"))
    await cmp.apply(offer("m-1"))  # no consent: cancelled
    await cmp.apply(welcome("m-1"))
    await cmp.run_job("message-dispatch")
    staff = await inbox(cmp, "m-1", headers=cmp.env.auth(Role.ADMIN))
    assert sorted(m["status"] for m in staff) == ["cancelled", "sent"]
    assert [m["status"] for m in await inbox(cmp, "m-1")] == ["sent"]


async def test_a_members_overview_is_their_wallet_and_latest_messages_as_each_route_gives_them(cmp) -> None:
    await cmp.apply(registered("m-1", home_store_id="S001"), registered("m-2", home_store_id="S002"))
    await cmp.issue(await cmp.template(), ["m-1"])
    await cmp.apply(offer("m-1"))  # no consent: cancelled, which staff see and the member does not
    await cmp.apply(welcome("m-1"))
    await cmp.run_job("message-dispatch")
    for headers in (cmp.member("m-1"), cmp.env.auth(Role.SERVICE_DESK, store_id="S001")):
        r = await cmp.client.get("/v1/members/m-1/overview", headers=headers)
        assert r.status_code == 200, r.text
        wallet = await cmp.client.get("/v1/members/m-1/coupons", headers=headers)
        assert r.json() == {"coupons": wallet.json(), "messages": await inbox(cmp, "m-1", headers=headers)}
    assert len(r.json()["coupons"]) == 1 and len(r.json()["messages"]) == 2  # staff: both statuses
    r = await cmp.client.get("/v1/members/m-1/overview?messages=1", headers=cmp.env.auth(Role.ADMIN))
    assert [m["status"] for m in r.json()["messages"]] == [(await inbox(cmp, "m-1", headers=cmp.env.auth(Role.ADMIN)))[0]["status"]]
    # The reach of the wallet and the inbox: another member's, another store's customer, a till.
    assert (await cmp.client.get("/v1/members/m-2/overview", headers=cmp.member("m-1"))).status_code == 403
    manager = cmp.env.auth(Role.STORE_MANAGER, store_id="S001")
    assert (await cmp.client.get("/v1/members/m-2/overview", headers=manager)).status_code == 403
    assert (await cmp.client.get("/v1/members/m-1/overview", headers=cmp.till())).status_code == 403
    r = await cmp.client.get("/v1/members/m-1/overview?messages=0", headers=cmp.env.auth(Role.ADMIN))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "messages"]
