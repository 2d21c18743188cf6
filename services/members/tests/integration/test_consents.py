"""Marketing consents: recorded with time and channel, withdrawn at once, announced without personal data."""

import asyncio
import json

import pytest
from sqlalchemy import text

from members.adapters.tables import MemberRow
from members.service_layer import erasure
from members.service_layer.consents import has_consent
from shared.auth import Principal, Role
from tests.support.factories import member_body
from tests.support.members import desk, outbox, register
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

CONSENT_CHANGED = "crm.members.consent_changed.v1"


async def consent_now(members, member_id: str, purpose: str) -> bool:
    async with members.app.state.sessions() as s:
        return await has_consent(s, member_id, purpose)


async def put(members, headers, member_id: str, purpose: str, **body):
    return await members.put(f"/v1/members/{member_id}/consents/{purpose}", json=body, headers=headers)


async def test_the_profile_shows_the_consents_in_force_with_time_and_channel(members, env) -> None:
    m = await register(members, env, consents={"sms": True, "service_tips_sms": False})
    consents = m["consents"]
    assert consents["marketing_sms"]["granted"] is True and consents["marketing_sms"]["channel"] == "service_desk"
    assert consents["service_tips_sms"]["granted"] is False
    assert consents["marketing_email"] is None  # never asked is not a yes
    assert await consent_now(members, m["id"], "marketing_sms")
    assert not await consent_now(members, m["id"], "marketing_email")
    # Answers given at registration are announced like any later change.
    events = [json.loads(e.envelope) for e in await outbox(members, CONSENT_CHANGED)]
    assert {(e["data"]["purpose"], e["data"]["granted"], e["data"]["channel"]) for e in events} == {
        ("marketing_sms", True, "service_desk"), ("service_tips_sms", False, "service_desk")}


async def test_registration_takes_consents_by_purpose_too_and_refuses_what_it_does_not_know(members, env) -> None:
    # {"marketing_sms": true} used to be accepted and dropped: a consent given and never recorded.
    m = await register(members, env, consents={"marketing_sms": True, "marketing_email": False})
    assert m["consents"]["marketing_sms"]["granted"] is True and m["consents"]["marketing_email"]["granted"] is False
    for consents, loc, words in (({"bogus": True}, ["body", "consents", "bogus"], "Extra inputs"),
                                 ({"sms": True, "marketing_sms": False}, ["body", "consents"], "the same consent")):
        r = await members.post("/v1/members", json=member_body(consents=consents), headers=desk(env))
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert error["loc"] == loc and words in error["msg"], error


async def test_a_field_a_body_does_not_have_is_refused_naming_it_not_dropped(members, env) -> None:
    # A typo (`birthdy`, `consent` for `consents`) was answered 201 with nothing of it recorded.
    for body, field in ((member_body(birthdy="1990-01-01"), "birthdy"), (member_body(consent={"sms": False}), "consent")):
        r = await members.post("/v1/members", json=body, headers=desk(env))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field], r.text
    m = await register(members, env)
    for path, body, field in ((f"/v1/members/{m['id']}", {"card_no": "8800000099999"}, "card_no"),
                              (f"/v1/members/{m['id']}/consents/marketing_sms", {"granted": False, "extra": 1}, "extra")):
        r = await members.request("PATCH" if path.endswith(m["id"]) else "PUT", path, json=body, headers=desk(env))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field], r.text


async def test_a_member_withdraws_in_the_app_and_it_applies_at_once(members, env) -> None:
    m = await register(members, env, phone="13822223333", consents={"sms": True})
    me = env.auth(Role.MEMBER, member_id=m["id"])
    announced = {e.id for e in await outbox(members, CONSENT_CHANGED)}
    r = await put(members, me, m["id"], "marketing_sms", granted=False)
    assert r.status_code == 200, r.text
    assert r.json()["changed"] and r.json()["in_force"]["marketing_sms"]["granted"] is False
    assert r.json()["in_force"]["marketing_sms"]["channel"] == "app"
    assert not await consent_now(members, m["id"], "marketing_sms")
    profile = (await members.get(f"/v1/members/{m['id']}", headers=desk(env))).json()
    assert profile["consents"]["marketing_sms"]["granted"] is False
    [event] = [e for e in await outbox(members, CONSENT_CHANGED) if e.id not in announced]
    data = json.loads(event.envelope)["data"]
    assert data == {**data, "member_id": m["id"], "purpose": "marketing_sms", "granted": False, "channel": "app"}
    assert event.key == m["id"]
    for personal in ("13822223333", "王小明", m["card_no"]):
        assert personal not in event.envelope


async def test_repeating_the_answer_in_force_records_and_announces_nothing(members, env) -> None:
    m = await register(members, env, consents={"sms": False})
    me = env.auth(Role.MEMBER, member_id=m["id"])
    announced = len(await outbox(members, CONSENT_CHANGED))
    r = await put(members, me, m["id"], "marketing_sms", granted=False)
    assert r.status_code == 200 and r.json()["changed"] is False
    assert len(await outbox(members, CONSENT_CHANGED)) == announced
    history = (await members.get(f"/v1/members/{m['id']}/consents", headers=me)).json()["history"]
    assert len(history) == 1


async def test_staff_record_a_consent_given_by_phone_and_the_history_keeps_every_answer(members, env) -> None:
    m = await register(members, env, consents={})
    await put(members, desk(env), m["id"], "marketing_email", granted=True, channel="phone")
    await put(members, env.auth(Role.MEMBER, member_id=m["id"]), m["id"], "marketing_email", granted=False, channel="web")
    await put(members, desk(env), m["id"], "marketing_email", granted=True)
    view = (await members.get(f"/v1/members/{m['id']}/consents", headers=desk(env))).json()
    assert [(h["granted"], h["channel"], h["recorded_by"]) for h in view["history"]] == [
        (True, "phone", "test-service_desk"), (False, "web", "test-member"), (True, "service_desk", "test-service_desk")]
    assert view["in_force"]["marketing_email"]["granted"] is True
    assert len(await outbox(members, CONSENT_CHANGED)) == 3  # nothing was answered at registration
    assert await consent_now(members, m["id"], "marketing_email")


async def test_channels_must_fit_who_records_the_consent(members, env) -> None:
    m = await register(members, env)
    r = await put(members, env.auth(Role.MEMBER, member_id=m["id"]), m["id"], "marketing_sms", granted=False, channel="service_desk")
    assert r.status_code == 422 and r.json()["detail"].startswith("channel:")
    r = await put(members, desk(env), m["id"], "marketing_sms", granted=False, channel="app")
    assert r.status_code == 422 and r.json()["detail"].startswith("channel:")
    r = await put(members, desk(env), m["id"], "marketing_sms", granted=False, channel="carrier_pigeon")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "channel"]


@pytest.mark.parametrize("answer", ["yes", "true", "1", 1, 0, "no"])
async def test_a_consent_is_recorded_only_from_json_true_or_false(members, env, answer) -> None:
    """A "yes" or a 1 was taken for a consent the customer never gave, and sent them marketing."""
    m = await register(members, env, consents={})
    for headers in (env.auth(Role.MEMBER, member_id=m["id"]), desk(env)):
        r = await put(members, headers, m["id"], "marketing_sms", granted=answer)
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert error["loc"] == ["body", "granted"] and "true or false" in error["msg"]
    assert [e for e in await outbox(members, CONSENT_CHANGED) if e.key == m["id"]] == []
    r = await members.post("/v1/members", json=member_body(consents={"sms": answer, "email": True}), headers=desk(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "consents", "sms"]
    assert len(await outbox(members, "crm.members.member_registered.v1")) == 1  # only the one registered above


async def test_unknown_purposes_and_callers_without_the_right_are_refused(members, env) -> None:
    a = await register(members, env)
    b = await register(members, env)
    r = await put(members, desk(env), a["id"], "telemarketing", granted=True)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "purpose"]
    assert (await put(members, env.auth(Role.MARKETING), a["id"], "marketing_sms", granted=True)).status_code == 403
    other = await put(members, env.auth(Role.MEMBER, member_id=b["id"]), a["id"], "marketing_sms", granted=True)
    assert other.status_code == 403
    r = await members.get(f"/v1/members/{a['id']}/consents", headers=env.auth(Role.MEMBER, member_id=b["id"]))
    assert r.status_code == 403
    assert (await put(members, desk(env), "no-such-member", "marketing_sms", granted=True)).status_code == 404


PERSONALISATION_CHANGED = "crm.members.personalisation_changed.v1"


async def test_members_are_personalised_until_they_opt_out_and_may_opt_back_in(members, env) -> None:
    m = await register(members, env, phone="13822224444", consents={"sms": True})
    me = env.auth(Role.MEMBER, member_id=m["id"])
    assert m["consents"]["personalised_offers"] is None  # never answered
    assert await consent_now(members, m["id"], "personalised_offers")  # ... which is not an opt-out
    r = await put(members, me, m["id"], "personalised_offers", granted=False, channel="web")
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is True
    assert r.json()["in_force"]["personalised_offers"]["granted"] is False
    assert r.json()["in_force"]["personalised_offers"]["channel"] == "web"
    assert r.json()["in_force"]["marketing_sms"]["granted"] is True  # marketing consent is apart
    assert not await consent_now(members, m["id"], "personalised_offers")
    assert await consent_now(members, m["id"], "marketing_sms")
    r = await put(members, desk(env), m["id"], "personalised_offers", granted=True, channel="phone")
    assert r.status_code == 200 and r.json()["changed"] is True
    assert await consent_now(members, m["id"], "personalised_offers")
    view = (await members.get(f"/v1/members/{m['id']}/consents", headers=desk(env))).json()
    assert [(h["purpose"], h["granted"], h["channel"]) for h in view["history"]
            if h["purpose"] == "personalised_offers"] == [("personalised_offers", False, "web"), ("personalised_offers", True, "phone")]
    assert view["in_force"]["personalised_offers"]["granted"] is True


async def test_personalisation_is_announced_by_its_own_event_not_as_a_consent(members, env) -> None:
    m = await register(members, env, phone="13822225555", consents={})
    me = env.auth(Role.MEMBER, member_id=m["id"])
    consents_before = len(await outbox(members, CONSENT_CHANGED))
    await put(members, me, m["id"], "personalised_offers", granted=False)
    await put(members, me, m["id"], "personalised_offers", granted=False)  # repeated: nothing new
    await put(members, me, m["id"], "personalised_offers", granted=True)
    assert len(await outbox(members, CONSENT_CHANGED)) == consents_before
    events = await outbox(members, PERSONALISATION_CHANGED)
    datas = [json.loads(e.envelope)["data"] for e in events]
    assert [(d["member_id"], d["personalised"], d["channel"]) for d in datas] == [
        (m["id"], False, "app"), (m["id"], True, "app")]
    assert all(d["changed_at"] for d in datas) and {e.key for e in events} == {m["id"]}
    for event in events:
        for personal in ("13822225555", "王小明", m["card_no"]):
            assert personal not in event.envelope


async def test_staff_record_an_opt_out_on_a_paper_form_but_marketing_may_not(members, env) -> None:
    m = await register(members, env, consents={})
    r = await put(members, desk(env), m["id"], "personalised_offers", granted=False, channel="paper_form")
    assert r.status_code == 200 and r.json()["in_force"]["personalised_offers"]["channel"] == "paper_form"
    r = await put(members, env.auth(Role.MARKETING), m["id"], "personalised_offers", granted=True)
    assert r.status_code == 403
    assert not await consent_now(members, m["id"], "personalised_offers")


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite runs one writer at a time
async def test_a_withdrawal_tapped_several_times_at_once_is_recorded_and_announced_once(members, env) -> None:
    m = await register(members, env, consents={"sms": True})
    answers = await asyncio.gather(*(put(members, desk(env), m["id"], "marketing_sms", granted=False) for _ in range(6)))
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    assert sorted(r.json()["changed"] for r in answers) == [False] * 5 + [True]
    events = [json.loads(e.envelope)["data"] for e in await outbox(members, CONSENT_CHANGED)]
    assert [e["granted"] for e in events if e["purpose"] == "marketing_sms"] == [True, False]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_consent_given_while_the_member_is_erased_is_refused_not_left_standing(members, env) -> None:
    """The erasure withdraws the consents in force when it reads them; a grant committed after that
    read, before the erasure commits, would stay in force for a customer who is gone."""
    m = await register(members, env)
    async with members.app.state.commands() as uow:  # the erasure, not committed yet
        row = await uow.session.get(MemberRow, m["id"])
        assert row is not None
        await erasure.erase_member(uow, row, Principal(subject="admin-1", role=Role.ADMIN))
        granting = asyncio.create_task(put(members, desk(env), m["id"], "marketing_email", granted=True))
        await eventually(lambda: _done_or_waiting(members, granting), what="the grant done or waiting for the erasure")
    r = await asyncio.wait_for(granting, 30)
    assert r.status_code == 409 and "erased" in r.json()["detail"], r.text
    assert not await consent_now(members, m["id"], "marketing_email")


async def _done_or_waiting(members, task: asyncio.Task) -> bool:
    if task.done():
        return True
    async with members.app.state.sessions() as s:
        return (await s.exec(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))).one()[0] > 0
