"""What the message sender asks of members with its service token: contact details at sending time
(logged like any read in clear) and SMS replies, an opt-out withdrawing marketing SMS at once."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from members.adapters.tables import ConsentRow
from members.service_layer.consents import has_consent
from shared.auth import Role
from tests.support.members import desk, outbox, register

pytestmark = pytest.mark.integration

CONSENT_CHANGED = "crm.members.consent_changed.v1"
CONSENT_CHANGED_V2 = "crm.members.consent_changed.v2"


def sender(env) -> dict[str, str]:
    # A service token lives an hour at most (shared.auth.MAX_TOKEN_LIFETIME).
    return env.auth(Role.SERVICE, ttl=timedelta(hours=1))


async def reply(members, env, phone: str, text: str, at: datetime | None = None):
    body = {"phone": phone, "text": text, "received_at": (at or datetime.now(UTC)).isoformat()}
    return await members.post("/v1/consents/replies", json=body, headers=sender(env))


async def test_the_sender_reads_a_contact_in_clear_and_the_read_is_logged(members, env) -> None:
    m = await register(members, env, name="欧阳娜娜", gender="female", phone="13566667777", email="li@example.com")
    r = await members.get(f"/v1/members/{m['id']}/contact", headers=sender(env))
    assert r.status_code == 200, r.text
    # The family name only, for a salutation (欧阳女士): never the whole name.
    assert r.json() == {"member_id": m["id"], "phone": "13566667777", "email": "li@example.com",
                        "family_name": "欧阳", "gender": "female"}
    log = (await members.get("/v1/privacy/access-log", params={"member_id": m["id"], "actor": "test-service"},
                             headers=env.auth(Role.ADMIN))).json()
    [entry] = log["items"]
    assert entry["role"] == "service" and entry["fields"] == ["phone", "email", "name"]
    assert entry["purpose"] == "members.contact.read"


async def test_an_unknown_member_is_404_and_an_erased_one_has_no_contact(members, env) -> None:
    r = await members.get("/v1/members/no-such-member/contact", headers=sender(env))
    assert r.status_code == 404 and "no-such-member" in r.json()["detail"]
    m = await register(members, env, email="gone@example.com")
    erased = await members.post(f"/v1/members/{m['id']}/erasure", headers=env.auth(Role.ADMIN))
    assert erased.status_code == 200, erased.text
    r = await members.get(f"/v1/members/{m['id']}/contact", headers=sender(env))
    assert r.status_code == 200 and (r.json()["phone"], r.json()["email"], r.json()["family_name"]) == (None, None, None)


async def test_only_a_service_token_reads_contacts_or_forwards_replies(members, env) -> None:
    m = await register(members, env)
    for headers in (desk(env), env.auth(Role.ADMIN), env.auth(Role.MEMBER, member_id=m["id"])):
        r = await members.get(f"/v1/members/{m['id']}/contact", headers=headers)
        assert r.status_code == 403, r.text
        body = {"phone": m["phone"], "text": "T", "received_at": datetime.now(UTC).isoformat()}
        r = await members.post("/v1/consents/replies", json=body, headers=headers)
        assert r.status_code == 403, r.text
    assert await has_consent_now(members, m["id"])


async def has_consent_now(members, member_id: str) -> bool:
    async with members.app.state.sessions() as s:
        return await has_consent(s, member_id, "marketing_sms")


async def test_a_reply_of_t_withdraws_marketing_sms_with_time_and_channel_and_is_announced(members, env) -> None:
    m = await register(members, env, phone="13688889999", consents={"sms": True, "email": True})
    at = datetime.now(UTC)
    r = await reply(members, env, "13688889999", " Ｔ ", at)
    assert r.status_code == 200, r.text
    assert r.json() == {"found": True, "member_id": m["id"], "opt_out": True, "changed": True}
    assert not await has_consent_now(members, m["id"])
    async with members.app.state.sessions() as s:
        email_too = await has_consent(s, m["id"], "marketing_email")
        latest = (await s.exec(select(ConsentRow).where(ConsentRow.member_id == m["id"], ConsentRow.purpose == "marketing_sms")
                               .order_by(ConsentRow.id.desc()))).first()  # type: ignore[union-attr]
    assert email_too  # a reply to an SMS withdraws SMS only
    assert latest is not None and latest.channel == "sms_reply" and latest.recorded_by == "test-service"
    assert latest.changed_at == at
    [event] = await outbox(members, CONSENT_CHANGED_V2)
    data = json.loads(event.envelope)["data"]
    assert data == {"member_id": m["id"], "purpose": "marketing_sms", "granted": False, "channel": "sms_reply",
                    "changed_at": data["changed_at"]}
    assert datetime.fromisoformat(data["changed_at"]) == at
    assert "13688889999" not in event.envelope
    # Announced once: not also as v1.
    assert all(json.loads(e.envelope)["data"]["channel"] != "sms_reply" for e in await outbox(members, CONSENT_CHANGED))
    # The profile shows the withdrawal and how it came.
    profile = (await members.get(f"/v1/members/{m['id']}", headers=desk(env))).json()
    assert profile["consents"]["marketing_sms"]["granted"] is False
    assert profile["consents"]["marketing_sms"]["channel"] == "sms_reply"


async def test_a_repeated_opt_out_changes_nothing_and_other_replies_keep_consent(members, env) -> None:
    m = await register(members, env, phone="13612340000", consents={"sms": True})
    r = await reply(members, env, "13612340000", "好的，谢谢")
    assert r.json() == {"found": True, "member_id": m["id"], "opt_out": False, "changed": False}
    assert await has_consent_now(members, m["id"])
    assert (await reply(members, env, "13612340000", "退订")).json()["changed"] is True
    again = await reply(members, env, "13612340000", "td")
    assert again.json() == {"found": True, "member_id": m["id"], "opt_out": True, "changed": False}
    assert len(await outbox(members, CONSENT_CHANGED_V2)) == 1


async def test_an_opt_out_dated_before_the_consent_in_force_still_withdraws_it(members, env) -> None:
    """The provider's clock may lag ours: a reply stamped before a grant made moments earlier is
    still the newer answer, and a withdrawal must take effect."""
    m = await register(members, env, phone="13612345555", consents={"sms": True})
    r = await reply(members, env, "13612345555", "T", datetime.now(UTC) - timedelta(minutes=5))
    assert r.json()["changed"] is True
    assert not await has_consent_now(members, m["id"])


async def test_a_reply_from_an_unknown_phone_is_answered_not_refused(members, env) -> None:
    r = await reply(members, env, "13900000000", "R")
    assert r.status_code == 200
    assert r.json() == {"found": False, "member_id": None, "opt_out": True, "changed": False}
    assert await outbox(members, CONSENT_CHANGED_V2) == []


async def test_a_reply_in_the_future_is_recorded_now(members, env) -> None:
    m = await register(members, env, phone="13612349999", consents={"sms": True})
    before = datetime.now(UTC)
    assert (await reply(members, env, "13612349999", "T", datetime.now(UTC) + timedelta(days=1))).json()["changed"]
    [event] = await outbox(members, CONSENT_CHANGED_V2)
    assert before <= datetime.fromisoformat(json.loads(event.envelope)["data"]["changed_at"]) <= datetime.now(UTC)
    assert not await has_consent_now(members, m["id"])


@pytest.mark.parametrize("body, field", [
    ({"phone": "+85213612340000", "text": "T", "received_at": "2026-11-30T10:00:00+08:00"}, "phone"),
    ({"phone": "13612340000", "text": "", "received_at": "2026-11-30T10:00:00+08:00"}, "text"),
    ({"phone": "13612340000", "text": "T\x00", "received_at": "2026-11-30T10:00:00+08:00"}, "text"),
    ({"phone": "13612340000", "text": "T", "received_at": "2026-11-30T10:00:00"}, "received_at"),
])
async def test_a_bad_reply_is_422_naming_the_field(members, env, body, field) -> None:
    r = await members.post("/v1/consents/replies", json=body, headers=sender(env))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == field
