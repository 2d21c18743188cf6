"""The sender's provider rules: Alibaba Cloud's request signature (the examples of its own
documentation), what a delivery report may change, replies' phone numbers, and which transport
each channel takes by configuration, and a one-time message going to the number it names."""

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from campaigns.adapters import templates
from campaigns.adapters.aliyun_sms import (
    AliyunConfig,
    AliyunSmsTransport,
    percent_encode,
    sign_name,
    signature,
    string_to_sign,
)
from campaigns.adapters.outgoing import Outgoing
from campaigns.adapters.transports import providers_for
from campaigns.config import Settings
from campaigns.domain.delivery_reports import after_report
from campaigns.domain.messages import Status
from campaigns.service_layer.sms_replies import mainland_mobile


def test_the_signature_matches_the_documented_rpc_example() -> None:
    params = {"Action": "DescribeRegions", "Format": "XML", "Version": "2014-05-26", "AccessKeyId": "testid",
              "SignatureVersion": "1.0", "SignatureMethod": "HMAC-SHA1",
              "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "Timestamp": "2016-02-23T12:46:24Z"}
    assert signature("testsecret", "GET", params) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_the_signature_matches_the_documented_send_sms_example() -> None:
    params = {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
              "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
              "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
              "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
              "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25"}
    assert signature("testSecret", "GET", params) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_percent_encoding_leaves_only_unreserved_characters() -> None:
    assert percent_encode("a b*c~d/e+f=") == "a%20b%2Ac~d%2Fe%2Bf%3D"
    assert percent_encode("退订") == "%E9%80%80%E8%AE%A2"
    assert string_to_sign("POST", {"b": "2", "a": "1 1"}) == "POST&%2F&a%3D1%25201%26b%3D2"


def test_the_provider_sign_name_is_ours_without_the_brackets() -> None:
    assert sign_name("【邻里生活超市】") == "邻里生活超市"


@pytest.mark.parametrize("status, delivered, after", [
    (Status.SENT, True, Status.DELIVERED),
    (Status.SENT, False, Status.FAILED),
    (Status.QUEUED, True, Status.DELIVERED),  # the hand-over raised, but the provider had it
    (Status.DEFERRED, True, Status.DELIVERED),
    (Status.QUEUED, False, None),  # its retries decide
    (Status.DELIVERED, True, None),  # a repeated report
    (Status.DELIVERED, False, None),  # a late contradicting one: never backwards
    (Status.FAILED, True, None),
    (Status.CANCELLED, True, None),
])
def test_a_report_only_ever_moves_a_message_forward(status, delivered, after) -> None:
    assert after_report(status, delivered) is after


@pytest.mark.parametrize("raw, phone", [
    ("13812345678", "13812345678"), ("8613812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
    ("12812345678", None), ("1381234567", None), ("+4413812345678", None), ("", None),
])
def test_replies_come_from_mainland_mobile_numbers(raw, phone) -> None:
    assert mainland_mobile(raw) == phone


def test_every_channel_uses_the_local_outbox_unless_configured() -> None:
    local = Settings()
    assert (local.sms_transport, local.email_transport) == ("local", "local")
    both = Settings(message_transport="provider", email_from="邻里生活超市 <members@linli.example>",
                    aliyun_access_key_id="id", aliyun_access_key_secret="secret")
    assert (both.sms_transport, both.email_transport) == ("aliyun", "smtp")
    assert both.list_unsubscribe == "<mailto:members@linli.example?subject=unsubscribe>"
    sms_only = Settings(message_sms_transport="aliyun", aliyun_access_key_id="id", aliyun_access_key_secret="secret")
    assert (sms_only.sms_transport, sms_only.email_transport) == ("aliyun", "local")
    override = Settings(message_transport="provider", message_email_transport="local", aliyun_access_key_id="id",
                        aliyun_access_key_secret="secret", email_list_unsubscribe="https://linli.example/unsubscribe")
    assert override.email_transport == "local" and override.list_unsubscribe == "<https://linli.example/unsubscribe>"


@pytest.mark.parametrize("settings, field", [
    ({"message_email_transport": "smtp"}, "email_from"),
    ({"message_sms_transport": "aliyun"}, "aliyun_access_key_id"),
    ({"message_sms_transport": "aliyun", "aliyun_access_key_id": "id"}, "aliyun_access_key_id"),
])
def test_a_provider_without_its_settings_is_refused_naming_them(settings, field) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**settings)


def test_an_e_mail_subject_is_a_template_of_its_own() -> None:
    assert templates.subject("coupon_offer", "en") == "A {{ offer }} coupon is waiting in your wallet\n"
    assert templates.subject("vip_welcome", "zh-CN") is not None
    assert templates.subject("service_tip", "zh-CN") is None
    assert templates.subject("../coupon_offer", "zh-CN") is None


class _Tokens:
    async def token(self) -> str:
        return "not-used-here"


async def test_start_up_makes_the_configured_transports_and_refuses_a_provider_without_a_token_source() -> None:
    sms_only = Settings(message_sms_transport="aliyun", aliyun_access_key_id="id", aliyun_access_key_secret="secret")
    with pytest.raises(RuntimeError, match="token source"):
        providers_for(sms_only, None)
    made = providers_for(sms_only, _Tokens())
    assert isinstance(made.sms, AliyunSmsTransport) and made.email is None and made.replies is not None
    await made.aclose()
    local = providers_for(Settings(), None)  # `crm run`: everything to the local outbox, nothing to close
    assert (local.sms, local.email, local.replies, local.clients) == (None, None, None, [])


class _NoContacts:
    async def address(self, member_id: str, channel: str) -> str:
        raise AssertionError("a one-time message names its number: no contact is looked up")


async def test_a_one_time_message_goes_to_the_number_it_names_without_a_contact_look_up() -> None:
    seen: list[dict[str, str]] = []

    def provider(request: httpx.Request) -> httpx.Response:
        seen.append(dict(httpx.QueryParams(request.content.decode())))
        return httpx.Response(200, json={"Code": "OK", "BizId": "biz-1"})

    config = AliyunConfig(endpoint="https://sms.test/", access_key_id="id", access_key_secret="secret",
                          region="cn-hangzhou", sign="【邻里生活超市】", templates={"signin_code": "SMS_100"})
    async with httpx.AsyncClient(transport=httpx.MockTransport(provider)) as http:
        transport = AliyunSmsTransport(config, _NoContacts(), http)  # type: ignore[arg-type]
        receipt = await transport.send(Outgoing(
            message_id="otm-1", member_id="", channel="sms", text="【邻里生活超市】code 123456", marketing=False,
            at=datetime.now(UTC), template="signin_code", params={"code": "123456", "minutes": "5"}, address="13812345678",
        ))
    assert receipt.ref == "aliyun:biz-1"
    (sent,) = seen
    assert (sent["PhoneNumbers"], sent["TemplateCode"], sent["OutId"]) == ("13812345678", "SMS_100", "otm-1")
