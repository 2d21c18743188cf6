"""The sender end to end with the real SMS transport, on SQLite and PostgreSQL: the dispatch job
sends through a local server speaking Alibaba Cloud's SendSms API, the provider's delivery reports
move messages forward only, and a customer's reply T reaches members through the service token,
withdraws marketing SMS, and the next marketing SMS is not sent."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import select

from campaigns.adapters.aliyun_sms import AliyunConfig, AliyunSmsTransport
from campaigns.adapters.members_api import ContactDirectory, MembersClient, ReplyForwarder
from campaigns.adapters.tables import MessageRow
from campaigns.adapters.transports import Providers
from campaigns.config import Settings
from campaigns.main import create_app
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import CAMPAIGN_NOTIFICATION_REQUESTED, NOTIFICATION_REQUESTED
from tests.support.audience import T0, consent, registered
from tests.support.campaigns import CampaignsDriver, Clock
from tests.support.members import outbox as members_outbox
from tests.support.members import register
from tests.support.platform import service
from tests.support.providers import ACCESS_KEY_ID, ACCESS_KEY_SECRET, FakeAliyun, ServiceTokens, serving

pytestmark = pytest.mark.integration

SECRET = "callback-secret-42"
MANAGER = {"manager_name": "王芳", "manager_phone": "021-5555-0101", "store_id": "S001", "store_name": "城东店"}
REPORTS, REPLIES = "/v1/providers/aliyun/sms-reports", "/v1/providers/aliyun/sms-replies"


@pytest.fixture
async def aliyun():
    fake = FakeAliyun(sign_name="邻里生活超市", templates={"SMS_100": {"manager_name", "manager_phone", "store_name"},
                                                        "SMS_200": {"offer"}})
    async with serving(fake.app()) as url:
        fake.url = url
        yield fake


@pytest.fixture
async def sender(env, database_factory, members, aliyun):
    """Campaigns with the Aliyun transport for SMS, members reached in-process with a service token."""
    clock = Clock()
    settings = env.settings(Settings, await database_factory("campaigns"), aliyun_callback_token=SECRET)
    async with service(create_app(settings, clock=clock)) as client:
        members_client = MembersClient("http://members", ServiceTokens(env.issuer), timeout_s=5,
                                       transport=httpx.ASGITransport(app=members.app))
        http = httpx.AsyncClient(timeout=5)
        config = AliyunConfig(endpoint=aliyun.url, access_key_id=ACCESS_KEY_ID, access_key_secret=ACCESS_KEY_SECRET,
                              region="cn-hangzhou", sign=settings.sms_sign,
                              templates={"vip_welcome": "SMS_100", "coupon_offer": "SMS_200"})
        # What start-up makes from the settings, with members in-process instead of over the network.
        await client.app.state.providers.aclose()
        client.app.state.providers = Providers(
            sms=AliyunSmsTransport(config, ContactDirectory(members_client), http),
            replies=ReplyForwarder(members_client), clients=[members_client, http])
        yield CampaignsDriver(client, env, clock)


def welcome(member_id: str) -> Envelope:
    data = c.NotificationRequestedV1(notification_id=f"n-{uuid.uuid4()}", member_id=member_id, template="vip_welcome",
                                     params=MANAGER, requested_at=T0)
    return new_event(NOTIFICATION_REQUESTED, data, source="crm/members", subject=member_id)


def offer(member_id: str, campaign_id: str) -> Envelope:
    data = c.CampaignNotificationRequestedV1(
        notification_id=str(uuid.uuid4()), member_id=member_id, campaign_id=campaign_id, occasion="once",
        template="coupon_offer", channel="sms", params={"offer": "满100减20"}, requires_consent="marketing_sms",
        requested_at=T0)
    return new_event(CAMPAIGN_NOTIFICATION_REQUESTED, data, source="crm/campaigns", subject=member_id)


async def messages_of(cmp: CampaignsDriver, member_id: str) -> list[MessageRow]:
    async with cmp.app.state.sessions() as s:
        return list((await s.exec(select(MessageRow).where(MessageRow.member_id == member_id))).all())


def report(out_id: str, success: bool, **fields: Any) -> dict[str, Any]:
    return {"phone_number": "1375555****", "send_time": "2026-12-05 10:00:00", "report_time": "2026-12-05 10:00:07",
            "success": success, "err_code": "DELIVERED" if success else "MK:0001",
            "err_msg": "用户接收成功" if success else "空号", "sms_size": "1", "biz_id": "1^0", "out_id": out_id, **fields}


async def push(cmp: CampaignsDriver, path: str, body: list[dict[str, Any]], token: str | None = SECRET) -> httpx.Response:
    return await cmp.client.post(path, json=body, params={"token": token} if token else {})


async def test_a_welcome_goes_through_the_provider_and_its_report_delivers_it_once(sender, members, env, aliyun) -> None:
    m = await register(members, env, phone="13755551111")
    await sender.apply(registered(m["id"]), welcome(m["id"]))
    summary = await sender.run_job("message-dispatch")
    assert (summary["due"], summary["sent"]) == (1, 1)
    [sent] = aliyun.accepted
    [row] = await messages_of(sender, m["id"])
    assert (row.status, row.transport_ref, sent["OutId"], sent["PhoneNumbers"]) == ("sent", "aliyun:1^0", row.id, "13755551111")
    assert json.loads(sent["TemplateParam"]) == MANAGER
    assert row.text is not None and row.text.startswith("【邻里生活超市】尊敬的会员")  # what the inbox shows

    r = await push(sender, REPORTS, [report(row.id, True)])
    assert (r.status_code, r.json()) == (200, {"code": 0, "msg": "成功"})
    [row] = await messages_of(sender, m["id"])
    assert row.status == "delivered"
    assert row.delivered_at == datetime(2026, 12, 5, 2, 0, 7, tzinfo=UTC)  # 10:00:07 China time
    # Repeated, and a late contradicting report: still delivered, as first reported.
    assert (await push(sender, REPORTS, [report(row.id, True, report_time="2026-12-05 10:09:00")])).status_code == 200
    assert (await push(sender, REPORTS, [report(row.id, False)])).status_code == 200
    [row] = await messages_of(sender, m["id"])
    assert (row.status, row.delivered_at, row.failed_at) == ("delivered", datetime(2026, 12, 5, 2, 0, 7, tzinfo=UTC), None)


async def test_a_failure_report_fails_the_message_with_the_provider_s_reason(sender, members, env) -> None:
    m = await register(members, env, phone="13755552222")
    await sender.apply(registered(m["id"]), welcome(m["id"]))
    await sender.run_job("message-dispatch")
    [row] = await messages_of(sender, m["id"])
    r = await push(sender, REPORTS, [report(row.id, False), report("not-one-of-ours", True), {**report("", True), "out_id": None}])
    assert r.status_code == 200
    [row] = await messages_of(sender, m["id"])
    assert (row.status, row.reason) == ("failed", "delivery report MK:0001: 空号")
    assert (await push(sender, REPORTS, [report(row.id, True)])).status_code == 200  # final: not revived
    assert (await messages_of(sender, m["id"]))[0].status == "failed"


async def test_a_number_the_provider_refuses_fails_at_once(sender, members, env, aliyun) -> None:
    m = await register(members, env, phone="13755553333")
    aliyun.refuse["13755553333"] = "isv.MOBILE_NUMBER_ILLEGAL"
    await sender.apply(registered(m["id"]), welcome(m["id"]))
    assert (await sender.run_job("message-dispatch"))["failed"] == 1
    [row] = await messages_of(sender, m["id"])
    assert row.status == "failed" and "isv.MOBILE_NUMBER_ILLEGAL" in (row.reason or "") and row.attempts == 1


async def test_callbacks_need_the_shared_secret(sender) -> None:
    for path, body in ((REPORTS, [report("x", True)]), (REPLIES, [])):
        missing = await push(sender, path, body, token=None)
        assert missing.status_code == 401 and "token" in missing.json()["detail"]
        wrong = await push(sender, path, body, token="callback-secret-43")
        assert wrong.status_code == 403 and "token" in wrong.json()["detail"]


async def test_a_bad_report_is_422_naming_the_field(sender) -> None:
    r = await push(sender, REPORTS, [{**report("x", True), "report_time": "yesterday"}])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "report_time"


def reply(phone: str, content: str) -> dict[str, Any]:
    return {"phone_number": phone, "send_time": "2026-12-05 10:05:00", "content": content, "sign_name": "邻里生活超市",
            "dest_code": "1234", "sequence_id": 981}


async def test_a_reply_t_withdraws_marketing_sms_and_the_next_campaign_sms_is_not_sent(sender, members, env) -> None:
    m = await register(members, env, phone="13755554444", consents={"sms": True})
    # Granted (in campaigns' read model) before members, on the real clock, records the withdrawal.
    await sender.apply(registered(m["id"]), consent(m["id"], "marketing_sms", True, at=datetime(2026, 1, 5, tzinfo=UTC)))
    await sender.apply(offer(m["id"], "camp-0"))  # before the reply: the consent lets it through
    assert [(row.campaign_id, row.status) for row in await messages_of(sender, m["id"])] == [("camp-0", "queued")]
    r = await push(sender, REPLIES, [reply("8613755554444", "ｔ"), reply("13900009999", "T"),
                                     reply("13755554444", "好的谢谢"), reply("not-a-number", "T")])
    assert (r.status_code, r.json()) == (200, {"code": 0, "msg": "成功"})
    consents = (await members.get(f"/v1/members/{m['id']}/consents", headers=env.auth(Role.SERVICE_DESK, store_id="S001"))).json()
    assert consents["in_force"]["marketing_sms"]["granted"] is False
    assert consents["in_force"]["marketing_sms"]["channel"] == "sms_reply"
    # Members announces it; campaigns' read model takes it, and marketing SMS stop.
    [announced] = await members_outbox(members, "crm.members.consent_changed.v2")
    await sender.apply(Envelope.model_validate_json(announced.envelope))
    await sender.apply(offer(m["id"], "camp-1"))
    [message] = [row for row in await messages_of(sender, m["id"]) if row.campaign_id == "camp-1"]
    assert (message.status, message.reason) == ("cancelled", "no marketing_sms consent")
    # Pushed again by the provider: answered the same, recorded once.
    assert (await push(sender, REPLIES, [reply("8613755554444", "ｔ")])).status_code == 200
    assert len(await members_outbox(members, "crm.members.consent_changed.v2")) == 1


async def test_replies_wait_for_members_when_it_is_away(sender, members, env) -> None:
    away = MembersClient("http://127.0.0.1:1", ServiceTokens(env.issuer), timeout_s=2)
    sender.app.state.providers.replies = ReplyForwarder(away)
    sender.app.state.providers.clients.append(away)
    r = await push(sender, REPLIES, [reply("13755555555", "T")])
    assert r.status_code == 503 and "members" in r.json()["detail"]
