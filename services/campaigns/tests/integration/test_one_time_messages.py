"""One-time messages: a platform service has a sign-in code sent at once to a phone number. Service
tokens only; no consent, no quiet hours, no opt-out line; the number is kept only masked and the
code not at all outside the local outbox's text; a transport that fails is a recorded 503."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from campaigns.adapters.outgoing import Outgoing, Receipt, TransportError
from campaigns.adapters.tables import LocalOutboxRow, OneTimeMessageRow
from campaigns.domain.messages import OPT_OUT
from shared.auth import Role

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = "13812345678"


def body(**overrides):
    b = {"phone": PHONE, "template": "signin_code", "params": {"code": "042917", "minutes": "5"}}
    b.update(overrides)
    return b


async def send(cmp, json, role: Role = Role.SERVICE):
    return await cmp.client.post("/v1/messages/one-time", json=json, headers=cmp.env.auth(role))


async def test_a_sign_in_code_goes_out_at_once_even_at_night_with_the_sign_name_and_no_opt_out(cmp) -> None:
    cmp.clock.now = datetime(2026, 12, 5, 23, 30, tzinfo=SHANGHAI).astimezone(UTC)  # quiet hours
    r = await send(cmp, body())
    assert r.status_code == 201, r.text
    answer = r.json()
    assert (answer["status"], answer["recipient"], answer["template"]) == ("sent", "138****5678", "signin_code")
    assert "text" not in answer and PHONE not in r.text and "042917" not in r.text

    (entry,) = (await cmp.client.get("/v1/outbox", headers=cmp.env.auth(Role.OPERATOR))).json()
    assert entry["text"].startswith("【邻里生活超市】") and "042917" in entry["text"] and "5分钟" in entry["text"]
    assert not entry["text"].endswith(OPT_OUT)
    assert (entry["member_id"], entry["recipient"], entry["message_id"]) == ("", "138****5678", answer["id"])
    assert datetime.fromisoformat(entry["sent_at"]) == cmp.clock.now


async def test_the_record_keeps_neither_the_number_in_clear_nor_the_code(cmp) -> None:
    r = await send(cmp, body(language="en"))
    assert r.status_code == 201, r.text
    async with cmp.app.state.sessions() as session:
        row = (await session.exec(select(OneTimeMessageRow))).one()
        outbox_row = (await session.exec(select(LocalOutboxRow))).one()
    assert (row.requested_by, row.recipient, row.language, row.status) == ("test-service", "138****5678", "en", "sent")
    assert PHONE not in " ".join(str(v) for v in row.model_dump().values())
    assert "042917" not in " ".join(str(v) for v in row.model_dump().values())
    assert outbox_row.text.startswith("【邻里生活超市】Your sign-in code is 042917")
    assert PHONE not in outbox_row.text


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR, Role.MARKETING, Role.MEMBER])
async def test_only_platform_services_send_one_time_messages(cmp, role) -> None:
    claims = {"member_id": "m-1"} if role == Role.MEMBER else {}
    r = await cmp.client.post("/v1/messages/one-time", json=body(), headers=cmp.env.auth(role, **claims))
    assert r.status_code == 403, r.text
    assert (await cmp.client.post("/v1/messages/one-time", json=body())).status_code == 401


@pytest.mark.parametrize(("change", "field"), [
    ({"template": "coupon_offer"}, "template"),
    ({"phone": "12345"}, "phone"),
    ({"params": {"code": "1" * 65}}, "params"),
    ({"language": "fr"}, "language"),
])
async def test_bad_input_is_422_naming_the_field(cmp, change, field) -> None:
    r = await send(cmp, body(**change))
    assert r.status_code == 422, r.text
    assert any(field in [str(p) for p in e["loc"]] for e in r.json()["detail"]), r.text


async def test_a_missing_template_parameter_is_422_on_params_and_nothing_is_sent(cmp) -> None:
    r = await send(cmp, body(params={"minutes": "5"}))
    assert r.status_code == 422, r.text
    assert "params" in r.json()["detail"] and "code" in r.json()["detail"]
    assert (await cmp.client.get("/v1/outbox", headers=cmp.env.auth(Role.OPERATOR))).json() == []


class _Refusing:
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def send(self, message: Outgoing) -> Receipt:
        self.sent.append(message)
        raise TransportError("aliyun: isv.BUSINESS_LIMIT_CONTROL: too many messages")


async def test_a_transport_that_fails_is_a_503_and_the_failure_stays_on_record(cmp) -> None:
    refusing = _Refusing()
    cmp.app.state.providers.sms = refusing
    r = await send(cmp, body())
    assert r.status_code == 503, r.text
    assert "BUSINESS_LIMIT_CONTROL" in r.json()["detail"] and PHONE not in r.text
    # The transport was given the number to send to, and no member to look up.
    (given,) = refusing.sent
    assert (given.address, given.member_id, given.marketing) == (PHONE, "", False)
    async with cmp.app.state.sessions() as session:
        row = (await session.exec(select(OneTimeMessageRow))).one()
    assert (row.status, row.sent_at) == ("failed", None) and "BUSINESS_LIMIT_CONTROL" in (row.reason or "")
