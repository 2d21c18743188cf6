"""The sender's real transports against real servers on this machine: contacts and account
managers looked up in the members service with a service token, SMS through a local server speaking Alibaba Cloud's SendSms
API (signature checked), e-mail through a real SMTP server (aiosmtpd, STARTTLS and sign-in)."""

import email
import email.policy
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from campaigns.adapters.aliyun_sms import AliyunConfig, AliyunSmsTransport
from campaigns.adapters.members_api import (
    ContactDirectory,
    Manager,
    ManagerUnavailable,
    MembersClient,
    StaffDirectory,
    UnknownManager,
)
from campaigns.adapters.outgoing import Outgoing, TransportError
from campaigns.adapters.smtp import SmtpConfig, SmtpTransport
from shared.auth import Role
from tests.support.factories import staff_body
from tests.support.members import register
from tests.support.providers import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    FakeAliyun,
    Mailbox,
    ServiceTokens,
    serving,
    smtp_server,
    tls_contexts,
)

pytestmark = pytest.mark.integration

SIGN = "【邻里生活超市】"
MANAGER = {"manager_name": "王芳", "manager_phone": "021-5555-0101", "store_name": "城东店"}
AT = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


def outgoing(member_id: str, *, channel: str = "sms", template: str = "vip_welcome", params: dict[str, str] | None = None,
             marketing: bool = False, message_id: str = "msg-1", text: str = "【邻里生活超市】恭喜您成为VIP会员！") -> Outgoing:
    return Outgoing(message_id=message_id, member_id=member_id, channel=channel, text=text, marketing=marketing,  # type: ignore[arg-type]
                    at=AT, template=template, params=MANAGER if params is None else params)


@pytest.fixture
async def tokens(env) -> ServiceTokens:
    return ServiceTokens(env.issuer)


@pytest.fixture
async def directory(members, tokens):
    client = MembersClient("http://members", tokens, timeout_s=5, transport=httpx.ASGITransport(app=members.app))
    yield ContactDirectory(client)
    await client.aclose()


# --- contacts


async def test_the_directory_reads_the_phone_or_e_mail_with_a_service_token(members, env, directory, tokens) -> None:
    m = await register(members, env, phone="13755550001", email="zhao@example.com")
    assert await directory.address(m["id"], "sms") == "13755550001"
    assert await directory.address(m["id"], "email") == "zhao@example.com"
    assert tokens.handed_out == 2
    log = (await members.get("/v1/privacy/access-log", params={"member_id": m["id"], "actor": "svc-campaigns"},
                             headers=env.auth(Role.ADMIN))).json()
    assert [e["purpose"] for e in log["items"]] == ["members.contact.read"] * 2


async def test_the_directory_reads_the_family_name_a_greeting_uses(members, env, directory) -> None:
    m = await register(members, env, name="司马光", gender="male", phone="13755550002")
    contact = await directory.contact(m["id"])
    assert (contact.phone, contact.family_name, contact.gender) == ("13755550002", "司马", "male")


async def test_nowhere_to_send_is_final_and_members_being_away_is_retried(members, env, directory, tokens) -> None:
    m = await register(members, env)  # no e-mail
    with pytest.raises(TransportError, match="has no email") as no_email:
        await directory.address(m["id"], "email")
    assert not no_email.value.retryable
    with pytest.raises(TransportError, match="no member") as unknown:
        await directory.address("no-such-member", "sms")
    assert not unknown.value.retryable
    await members.post(f"/v1/members/{m['id']}/erasure", headers=env.auth(Role.ADMIN))
    with pytest.raises(TransportError, match="has no phone") as erased:
        await directory.address(m["id"], "sms")
    assert not erased.value.retryable

    closed = MembersClient("http://127.0.0.1:1", tokens, timeout_s=2)
    with pytest.raises(TransportError, match="unreachable") as away:
        await ContactDirectory(closed).address(m["id"], "sms")
    assert away.value.retryable
    await closed.aclose()


@pytest.mark.parametrize("failure, reason", [
    (lambda request: httpx.Response(503, json={"detail": "database unavailable"}), "answered 503"),
    (lambda request: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=request)), "in time"),
])
async def test_a_5xx_or_a_timeout_of_members_is_retryable(tokens, failure, reason) -> None:
    client = MembersClient("http://members", tokens, timeout_s=1, transport=httpx.MockTransport(failure))
    with pytest.raises(TransportError, match=reason) as caught:
        await ContactDirectory(client).address("m-1", "sms")
    assert caught.value.retryable
    await client.aclose()


# --- account managers


async def test_the_staff_directory_reads_a_managers_name_and_work_phone_with_a_service_token(members, env, tokens) -> None:
    body = staff_body(name="陈静", work_phone="13900001234", store_id="S002")
    assert (await members.post("/v1/staff", json=body, headers=env.auth(Role.ADMIN))).status_code == 201
    client = MembersClient("http://members", tokens, timeout_s=5, transport=httpx.ASGITransport(app=members.app))
    staff = StaffDirectory(client)
    # Any store's manager: the sender serves every store (`members.staff.read`, scope all for `service`).
    assert await staff.manager(body["id"]) == Manager(name="陈静", work_phone="13900001234")
    with pytest.raises(UnknownManager, match="no staff member am-nobody"):
        await staff.manager("am-nobody")
    await client.aclose()

    closed = MembersClient("http://127.0.0.1:1", tokens, timeout_s=2)
    with pytest.raises(ManagerUnavailable, match="unreachable"):  # the welcome waits for members, not failed
        await StaffDirectory(closed).manager(body["id"])
    await closed.aclose()


# --- Alibaba Cloud SMS


@pytest.fixture
async def aliyun():
    fake = FakeAliyun(sign_name="邻里生活超市", templates={"SMS_100": {"manager_name", "manager_phone", "store_name"},
                                                        "SMS_200": {"offer"}})
    async with serving(fake.app()) as url:
        fake.url = url
        yield fake


def sms_transport(aliyun: FakeAliyun, directory: ContactDirectory, http: httpx.AsyncClient, *,
                  secret: str = ACCESS_KEY_SECRET) -> AliyunSmsTransport:
    config = AliyunConfig(endpoint=aliyun.url, access_key_id=ACCESS_KEY_ID, access_key_secret=secret, region="cn-hangzhou",
                          sign=SIGN, templates={"vip_welcome": "SMS_100", "coupon_offer": "SMS_200"})
    return AliyunSmsTransport(config, directory, http)


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def test_an_sms_goes_as_the_approved_template_with_our_parameters_and_id(members, env, directory, aliyun, http) -> None:
    m = await register(members, env, phone="13755550002")
    receipt = await sms_transport(aliyun, directory, http).send(outgoing(m["id"], message_id="msg-42"))
    assert (receipt.ref, receipt.status) == ("aliyun:1^0", "sent")
    [sent] = aliyun.accepted
    assert (sent["PhoneNumbers"], sent["SignName"], sent["TemplateCode"], sent["OutId"]) == (
        "13755550002", "邻里生活超市", "SMS_100", "msg-42")
    assert json.loads(sent["TemplateParam"]) == MANAGER


async def test_a_wrong_secret_is_refused_by_the_provider_signature_check(members, env, directory, aliyun, http) -> None:
    m = await register(members, env)
    with pytest.raises(TransportError, match="SignatureDoesNotMatch") as caught:
        await sms_transport(aliyun, directory, http, secret="not-the-secret").send(outgoing(m["id"]))
    assert caught.value.retryable  # a credential an operator fixes; the message waits meanwhile
    assert aliyun.accepted == []


@pytest.mark.parametrize("code, retryable", [
    ("isv.MOBILE_NUMBER_ILLEGAL", False),
    ("isv.BUSINESS_LIMIT_CONTROL", True),
    ("Throttling.User", True),
])
async def test_the_provider_s_refusals_are_final_or_retried_by_their_code(members, env, directory, aliyun, http,
                                                                          code, retryable) -> None:
    m = await register(members, env, phone="13755550003")
    aliyun.refuse["13755550003"] = code
    with pytest.raises(TransportError, match=code.replace(".", r"\.")) as caught:
        await sms_transport(aliyun, directory, http).send(outgoing(m["id"]))
    assert caught.value.retryable is retryable


async def test_a_template_without_a_provider_code_or_parameter_fails_for_good(members, env, directory, aliyun, http,
                                                                              tokens) -> None:
    m = await register(members, env)
    transport = sms_transport(aliyun, directory, http)
    with pytest.raises(TransportError, match="no provider template code for 'points_expiry'") as unmapped:
        await transport.send(outgoing(m["id"], template="points_expiry"))
    assert not unmapped.value.retryable and tokens.handed_out == 0  # not even a contact was read
    with pytest.raises(TransportError, match="TEMPLATE_MISSING_PARAMETERS") as missing:
        await transport.send(outgoing(m["id"], template="coupon_offer", params={"other": "x"}))
    assert not missing.value.retryable


async def test_the_provider_being_away_is_retried(members, env, directory, http) -> None:
    m = await register(members, env)
    away = FakeAliyun(sign_name="邻里生活超市", templates={}, url="http://127.0.0.1:1")
    with pytest.raises(TransportError, match="unreachable") as caught:
        await sms_transport(away, directory, http).send(outgoing(m["id"]))
    assert caught.value.retryable


# --- SMTP


@pytest.fixture
def smtp(tmp_path):
    mailbox = Mailbox()
    server_tls, client_tls = tls_contexts(tmp_path)
    controller = smtp_server(mailbox, server_tls, user="crm", password="smtp-pass")
    controller.start()
    yield mailbox, controller, client_tls
    controller.stop()


def smtp_transport(smtp: Any, directory: ContactDirectory, *, password: str = "smtp-pass", port: int | None = None) -> SmtpTransport:
    _, controller, client_tls = smtp
    return SmtpTransport(SmtpConfig(
        host="127.0.0.1", port=port or controller.port, security="starttls", user="crm", password=password,
        sender="邻里生活超市 <members@linli.example>", default_subject="邻里生活超市会员通知",
        list_unsubscribe="<mailto:members@linli.example?subject=unsubscribe>", timeout_s=5, tls_context=client_tls,
    ), directory)


def parsed(envelope: Any) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.original_content, policy=email.policy.default)  # type: ignore[return-value]


async def test_a_marketing_e_mail_has_its_subject_and_list_unsubscribe_over_starttls(members, env, directory, smtp) -> None:
    m = await register(members, env, email="qian@example.com")
    text = "您有一张满100减20优惠券已放入会员卡包，结账时出示会员卡即可使用。"
    receipt = await smtp_transport(smtp, directory).send(
        outgoing(m["id"], channel="email", template="coupon_offer", params={"offer": "满100减20"}, marketing=True,
                 message_id="msg-mail-1", text=text))
    mailbox = smtp[0]
    assert mailbox.logins == ["crm"]
    [envelope] = mailbox.received
    assert envelope.rcpt_tos == ["qian@example.com"] and envelope.mail_from == "members@linli.example"
    mail = parsed(envelope)
    assert mail["Subject"] == "您的会员卡包里有一张满100减20优惠券"
    assert mail["List-Unsubscribe"] == "<mailto:members@linli.example?subject=unsubscribe>"
    assert mail.get_content().strip() == text
    assert "msg-mail-1" in mail["Message-ID"] and receipt.ref == mail["Message-ID"] and receipt.status == "sent"


async def test_a_service_e_mail_has_no_list_unsubscribe_and_a_template_without_subject_the_default(members, env, directory,
                                                                                                   smtp) -> None:
    m = await register(members, env, email="sun@example.com")
    await smtp_transport(smtp, directory).send(outgoing(m["id"], channel="email", template="service_tip",
                                                        params={"tip": "周三会员日"}, text="温馨提示：周三会员日"))
    mail = parsed(smtp[0].received[0])
    assert mail["Subject"] == "邻里生活超市会员通知" and mail["List-Unsubscribe"] is None


@pytest.mark.parametrize("reply, retryable", [("550 5.1.1 no such user", False), ("450 4.2.1 mailbox busy", True)])
async def test_a_refused_recipient_fails_for_good_on_5xx_and_is_retried_on_4xx(members, env, directory, smtp,
                                                                              reply, retryable) -> None:
    m = await register(members, env, email="li.si@example.com")
    smtp[0].refuse["li.si@example.com"] = reply
    with pytest.raises(TransportError, match="recipient refused") as caught:
        await smtp_transport(smtp, directory).send(outgoing(m["id"], channel="email"))
    assert caught.value.retryable is retryable
    assert smtp[0].received == []


async def test_a_wrong_password_or_no_server_is_retried(members, env, directory, smtp) -> None:
    m = await register(members, env, email="zhou@example.com")
    with pytest.raises(TransportError, match="SMTPAuthenticationError") as refused:
        await smtp_transport(smtp, directory, password="wrong").send(outgoing(m["id"], channel="email"))
    assert refused.value.retryable
    with pytest.raises(TransportError, match="smtp") as away:
        await smtp_transport(smtp, directory, port=1).send(outgoing(m["id"], channel="email"))
    assert away.value.retryable
    assert smtp[0].received == []
