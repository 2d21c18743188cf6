"""SMS through Alibaba Cloud SMS (dysmsapi, API version 2017-05-25), by its documented HTTP RPC API.

Carriers in China deliver only templates the provider approved beforehand, so an SMS is sent as
the provider's template code (mapped from our template name by configuration) with our template
parameters as `TemplateParam` JSON, under the chain's sign name; `OutId` is our message id, which
delivery reports quote back. The text we rendered stays what the inbox and the archive show.

Requests are signed as the RPC API requires (signature version 1.0): the parameters sorted by name,
each name and value percent-encoded (RFC 3986: only A-Z a-z 0-9 - _ . ~ are left as they are),
joined with & and =; the string to sign is `POST&%2F&` + that, percent-encoded once more; the
signature is base64(HMAC-SHA1(key = AccessKeySecret + "&", string to sign)).
"""

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from campaigns.adapters.members_api import ContactDirectory
from campaigns.adapters.outgoing import Outgoing, Receipt, TransportError

API_VERSION = "2017-05-25"

# The provider's answers that another attempt cannot change: the number, the content or the
# template is wrong, or the number refuses our messages. Every other code (throttling, the
# provider's own errors, an account out of credit) is retried with backoff.
PERMANENT = frozenset({
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.PARAM_LENGTH_LIMIT",
    "isv.PARAM_NOT_SUPPORT_URL",
    "isv.INVALID_JSON_PARAM",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.INVALID_PARAMETERS",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.DENY_IP_RANGE",
    "isv.BLACK_LIST",
})


def percent_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def sign_name(sign: str) -> str:
    """The provider's sign name is the name alone: 【邻里生活超市】 is registered as 邻里生活超市."""
    return sign.strip().removeprefix("【").removesuffix("】")


@dataclass(frozen=True)
class AliyunConfig:
    endpoint: str  # https://dysmsapi.aliyuncs.com
    access_key_id: str
    access_key_secret: str
    region: str
    sign: str  # the chain's sign name, 【…】 as in our texts
    templates: Mapping[str, str]  # our template name -> the provider's approved template code


class AliyunSmsTransport:
    def __init__(self, config: AliyunConfig, contacts: ContactDirectory, http: httpx.AsyncClient) -> None:
        self.config = config
        self.contacts = contacts
        self.http = http

    async def send(self, message: Outgoing) -> Receipt:
        code = self.config.templates.get(message.template)
        if code is None:  # checked before the look-up: no contact is read for a message that cannot go
            raise TransportError(f"aliyun: no provider template code for {message.template!r}", retryable=False)
        phone = message.address or await self.contacts.address(message.member_id, "sms")
        params = self.request_params(message, phone, code)
        try:
            response = await self.http.post(self.config.endpoint, data=params)
        except httpx.TimeoutException as exc:
            raise TransportError(f"aliyun: no answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TransportError(f"aliyun: unreachable ({type(exc).__name__}: {exc})") from exc
        try:
            answer = response.json()
        except ValueError:
            raise TransportError(f"aliyun: answered {response.status_code} without JSON") from None
        result = str(answer.get("Code", ""))
        if result == "OK" and answer.get("BizId"):
            return Receipt(ref=f"aliyun:{answer['BizId']}"[:100], status="sent")
        reason = f"aliyun: {result or response.status_code}: {answer.get('Message', '')}"
        raise TransportError(reason, retryable=result not in PERMANENT)

    def request_params(self, message: Outgoing, phone: str, template_code: str) -> dict[str, str]:
        c = self.config
        params = {
            "AccessKeyId": c.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": c.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            "PhoneNumbers": phone,
            "SignName": sign_name(c.sign),
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, separators=(",", ":")),
            "OutId": message.message_id,
        }
        params["Signature"] = signature(c.access_key_secret, "POST", params)
        return params
