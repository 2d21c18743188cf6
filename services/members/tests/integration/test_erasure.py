"""Erasure: personal data removed or anonymised, totals kept, other services told, done once."""

import asyncio
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from members.adapters.tables import HouseholdRow, MemberRow, PurchaseRow, RegistrationRequestRow
from members.adapters.tables.core import RetiredCardRow
from members.adapters.tables.staff import TrackingRecordRow
from members.service_layer import erasure
from members.service_layer.consents import has_consent
from shared.auth import Role
from shared.events.registry import ACCOUNT_MANAGER_ASSIGNED
from shared.zones import start_of_day
from tests.support.factories import line, member_body, staff_body
from tests.support.members import deliver_refund, deliver_sale, desk, outbox, register

pytestmark = pytest.mark.integration

ERASED = "crm.members.member_erased.v1"
SALES_ERASED = "crm.members.member_sales_erased.v1"
RICE = line(sku="rice", qty="2", unit_price="50.00")  # 100.00
OIL = line(sku="oil", qty="1", unit_price="80.00")    # 80.00


def admin(env) -> dict[str, str]:
    return env.auth(Role.ADMIN)


async def erase(members, headers, member_id: str):
    return await members.post(f"/v1/members/{member_id}/erasure", headers=headers)


async def row_of(members, model, *where):
    async with members.app.state.sessions() as s:
        return (await s.exec(select(model).where(*where))).all()


async def community_totals(members, env) -> list[dict]:
    r = await members.get("/v1/infobase/communities", params={"sort": "spend"}, headers=desk(env))
    assert r.status_code == 200, r.text
    # member_count counts living (not erased) members; the spend-based figures must not move.
    return [{k: i[k] for k in ("community_id", "households", "spend", "purchases")} for i in r.json()["items"]]


async def test_erasure_removes_personal_data_and_keeps_spend_and_community_totals(members, env) -> None:
    m = await register(members, env, name="李娜", phone="13612340000", email="lina@example.com",
                       birthday="1985-03-02", address="翠苑一区5幢302", community="翠苑", gender="female")
    txn = await deliver_sale(members, card_no=m["card_no"], lines=[RICE, OIL])
    await deliver_refund(members, txn=txn, lines=[OIL])
    totals = await community_totals(members, env)

    r = await erase(members, admin(env), m["id"])
    assert r.status_code == 200, r.text
    assert r.json()["requested_by"] == "test-admin"

    profile = (await members.get(f"/v1/members/{m['id']}", headers=desk(env))).json()
    assert profile["erased"] and profile["erased_at"] == r.json()["erased_at"]
    assert (profile["name"], profile["phone"], profile["email"], profile["birthday"], profile["address"]) == (
        "已注销用户", None, None, None, "")
    assert profile["gender"] == "unspecified" and profile["card_no"].startswith("erased-")
    assert Decimal(profile["lifetime_spend"]) == Decimal("100.00") and profile["purchase_count"] == 1
    assert await community_totals(members, env) == totals
    [purchase] = await row_of(members, PurchaseRow, PurchaseRow.pos_txn_id == txn)
    assert purchase.member_id == m["id"] and purchase.card_no is None and purchase.phone_hmac is None


async def test_erasure_is_announced_once_and_events_carry_no_personal_data(members, env) -> None:
    m = await register(members, env, name="赵敏", phone="13612340001", address="湖畔居8幢")
    await erase(members, env.auth(Role.MEMBER, member_id=m["id"]), m["id"])
    [event] = await outbox(members, ERASED)
    assert event.key == m["id"] and json.loads(event.envelope)["data"]["member_id"] == m["id"]
    again = await erase(members, admin(env), m["id"])
    # When, as staff read times: the chain's own, to the minute.
    assert again.status_code == 409 and re.search(r"already erased on \d{4}-\d\d-\d\dT\d\d:\d\d\+08:00$", again.json()["detail"])
    assert len(await outbox(members, ERASED)) == 1
    for row in await outbox(members, ERASED) + await outbox(members, "crm.members.consent_changed.v1"):
        for personal in ("赵敏", "13612340001", "湖畔居8幢", m["card_no"]):
            assert personal not in row.envelope


async def test_the_gateway_is_told_the_erased_members_sales_in_events_of_a_bounded_size(members, env, monkeypatch) -> None:
    """The gateway keeps the card or phone digest each sale was posted with: it hears which sales
    to forget them on, by store and transaction id only, however many sales the member made."""
    monkeypatch.setattr(erasure, "ERASED_SALES_PER_EVENT", 2)
    m = await register(members, env, name="孙悦", phone="13612340009")
    other = await register(members, env)
    never_bought = await register(members, env)
    sales = [("S001", await deliver_sale(members, card_no=m["card_no"], lines=[RICE])),
             ("S002", await deliver_sale(members, card_no=m["card_no"], store="S002", lines=[OIL])),
             ("S001", await deliver_sale(members, phone="13612340009", lines=[OIL]))]
    await deliver_sale(members, card_no=other["card_no"], lines=[RICE])
    await deliver_sale(members, lines=[RICE])  # nobody's
    for member in (m, never_bought):
        assert (await erase(members, admin(env), member["id"])).status_code == 200

    events = await outbox(members, SALES_ERASED)
    assert [e.key for e in events] == [m["id"], m["id"]]
    told = [json.loads(e.envelope)["data"] for e in events]
    assert [len(data["sales"]) for data in told] == [2, 1]
    assert sorted((s["store_id"], s["pos_txn_id"]) for data in told for s in data["sales"]) == sorted(sales)
    assert {data["member_id"] for data in told} == {m["id"]}
    assert len({e.event_id for e in events}) == 2
    for event in events:
        for personal in ("孙悦", "13612340009", m["card_no"]):
            assert personal not in event.envelope
    # Erased again: refused, and nothing more is sent.
    assert (await erase(members, admin(env), m["id"])).status_code == 409
    assert len(await outbox(members, SALES_ERASED)) == 2


async def test_erased_members_are_no_search_hit_the_phone_is_free_and_the_card_retired(members, env) -> None:
    m = await register(members, env, name="钱多多", phone="13612340002", card_no="8800000044444")
    await erase(members, admin(env), m["id"])
    for params in ({"phone": "13612340002"}, {"name": "钱多多"}, {"name": "注销"}, {"card_no": "8800000044444"}):
        assert (await members.get("/v1/members", params=params, headers=desk(env))).json()["total"] == 0, params
    # The card is never issued again: a sale on it (someone still carrying it) would become the
    # next holder's. The phone is the customer's own, and theirs to register with again.
    r = await members.post("/v1/members", json=member_body(phone="13612340002", card_no="8800000044444"), headers=desk(env))
    assert r.status_code == 409 and "card_no" in r.json()["detail"] and "retired" in r.json()["detail"], r.text
    again = await register(members, env, phone="13612340002")
    assert again["id"] != m["id"] and again["card_no"] != "8800000044444"


async def test_an_erased_member_is_listed_and_counted_by_no_search_as_the_community_counts_them(members, env) -> None:
    # The placeholder is nobody: the community filter and the whole list agree with the
    # community's member_count, which counts living members only.
    living = await register(members, env, community="栖霞苑", address="1幢")
    gone = await register(members, env, community="栖霞苑", address="2幢")
    assert (await erase(members, admin(env), gone["id"])).status_code == 200
    [community] = (await members.get("/v1/communities", params={"q": "栖霞苑"}, headers=desk(env))).json()["items"]
    assert community["member_count"] == 1
    in_community = (await members.get("/v1/members", params={"community": "栖霞苑"}, headers=desk(env))).json()
    assert in_community["total"] == 1 and [m["id"] for m in in_community["items"]] == [living["id"]]
    everyone = (await members.get("/v1/members", headers=desk(env))).json()
    assert everyone["total"] == 1 and [m["id"] for m in everyone["items"]] == [living["id"]]
    # Still read by id, shown as erased.
    profile = (await members.get(f"/v1/members/{gone['id']}", headers=desk(env))).json()
    assert profile["erased"] is True


async def test_erasure_withdraws_every_consent_in_force(members, env) -> None:
    m = await register(members, env, consents={"sms": True, "service_tips_sms": True})
    await erase(members, admin(env), m["id"])
    async with members.app.state.sessions() as s:
        assert not await has_consent(s, m["id"], "marketing_sms")
        assert not await has_consent(s, m["id"], "service_tips_sms")
    changes = [json.loads(e.envelope)["data"] for e in await outbox(members, "crm.members.consent_changed.v1")]
    assert {(c["purpose"], c["granted"]) for c in changes if c["member_id"] == m["id"]} >= {
        ("marketing_sms", False), ("service_tips_sms", False)}


async def test_a_household_loses_its_address_only_when_nobody_else_lives_there(members, env) -> None:
    alone = await register(members, env, community="丽景湾", address="丽景湾1幢101")
    a = await register(members, env, community="丽景湾", address="丽景湾2幢202")
    b = await register(members, env, community="丽景湾", address="丽景湾2幢202")
    await erase(members, admin(env), alone["id"])
    await erase(members, admin(env), a["id"])
    [alone_row] = await row_of(members, MemberRow, MemberRow.id == alone["id"])
    [a_row] = await row_of(members, MemberRow, MemberRow.id == a["id"])
    [emptied] = await row_of(members, HouseholdRow, HouseholdRow.id == alone_row.household_id)
    [shared] = await row_of(members, HouseholdRow, HouseholdRow.id == a_row.household_id)
    assert emptied.address_key == f"erased:{emptied.id}" and shared.address_key == "丽景湾2幢202"
    await erase(members, admin(env), b["id"])
    [shared] = await row_of(members, HouseholdRow, HouseholdRow.id == a_row.household_id)
    assert shared.address_key == f"erased:{shared.id}"


async def test_tracking_notes_and_contact_are_cleared_but_the_contact_itself_stays(members, env) -> None:
    m = await register(members, env)
    async with members.app.state.sessions() as s, s.begin():
        row = await s.get(MemberRow, m["id"])
        row.manager_id = "am-1"  # type: ignore[union-attr]
        s.add(TrackingRecordRow(
            tracked_on=date(2026, 11, 20), manager_id="am-1", store_id="S001", member_id=m["id"], contact="本人 13900000000",
            method="phone", rating=4, notes="住在3幢，女儿下月结婚", recorded_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
        ))
    await erase(members, admin(env), m["id"])
    [record] = await row_of(members, TrackingRecordRow, TrackingRecordRow.member_id == m["id"])
    assert (record.contact, record.notes, record.rating, record.method) == ("", "", 4, "phone")
    [erased] = await row_of(members, MemberRow, MemberRow.id == m["id"])
    assert erased.manager_id is None  # off the manager's books, so no longer counted in their load


async def test_access_log_rows_survive_erasure(members, env) -> None:
    m = await register(members, env)
    await members.get(f"/v1/members/{m['id']}", headers=desk(env))
    await erase(members, admin(env), m["id"])
    log = (await members.get("/v1/privacy/access-log", params={"member_id": m["id"]}, headers=admin(env))).json()
    assert [e["purpose"] for e in log["items"]] == ["members.read", "members.register"]
    await members.get(f"/v1/members/{m['id']}", headers=desk(env))  # nothing personal left to read
    assert (await members.get("/v1/privacy/access-log", params={"member_id": m["id"]}, headers=admin(env))).json()["total"] == 2


async def test_erased_profiles_are_read_only(members, env) -> None:
    m = await register(members, env)
    r = await members.post("/v1/staff", json=staff_body(id="am-1"), headers=admin(env))
    assert r.status_code == 201, r.text
    await erase(members, admin(env), m["id"])
    r = await members.patch(f"/v1/members/{m['id']}", json={"name": "复活"}, headers=desk(env))
    assert r.status_code == 409 and re.search(r"erased on \d{4}-\d\d-\d\dT\d\d:\d\d\+08:00; the profile is read-only$",
                                              r.json()["detail"]), r.text
    r = await members.put(f"/v1/members/{m['id']}/consents/marketing_sms", json={"granted": True}, headers=desk(env))
    assert r.status_code == 409
    # Nor does anyone become their account manager: nothing new is recorded or announced about them.
    r = await members.put(f"/v1/members/{m['id']}/account-manager", json={"manager_id": "am-1"}, headers=admin(env))
    assert r.status_code == 409 and "read-only" in r.json()["detail"], r.text
    [erased] = await row_of(members, MemberRow, MemberRow.id == m["id"])
    assert erased.manager_id is None
    assert await outbox(members, ACCOUNT_MANAGER_ASSIGNED) == []


async def test_only_admins_or_the_member_themself_may_erase(members, env) -> None:
    m = await register(members, env)
    other = await register(members, env)
    for headers in (desk(env), env.auth(Role.STORE_MANAGER, store_id="S001"), env.auth(Role.MARKETING),
                    env.auth(Role.MEMBER, member_id=other["id"])):
        assert (await erase(members, headers, m["id"])).status_code == 403
    assert (await erase(members, admin(env), "no-such-member")).status_code == 404
    [row] = await row_of(members, MemberRow, MemberRow.id == m["id"])
    assert row.erased_at is None


async def test_the_same_erasure_asked_for_at_once_is_done_once(members, env) -> None:
    m = await register(members, env)
    answers = await asyncio.gather(*(erase(members, admin(env), m["id"]) for _ in range(5)))
    assert sorted(r.status_code for r in answers) == [200] + [409] * 4, [r.text for r in answers]
    assert all("already erased" in r.json()["detail"] for r in answers if r.status_code == 409)
    assert len(await outbox(members, ERASED)) == 1


SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_the_registration_request_goes_with_the_erasure(members, env) -> None:
    """The Idempotency-Key record holds a digest of the whole form (name, phone, address...) next to
    the member id: it goes, and a retry under the key no longer answers the erased member."""
    body, headers = member_body(name="周芷若", phone="13612340011"), {**desk(env), "Idempotency-Key": "reg-erased-01"}
    first = await members.post("/v1/members", json=body, headers=headers)
    assert first.status_code == 201, first.text
    m = first.json()
    assert await row_of(members, RegistrationRequestRow, RegistrationRequestRow.member_id == m["id"])
    assert (await erase(members, env.auth(Role.MEMBER, member_id=m["id"]), m["id"])).status_code == 200
    assert await row_of(members, RegistrationRequestRow, RegistrationRequestRow.member_id == m["id"]) == []
    again = await members.post("/v1/members", json=body, headers=headers)
    assert again.json()["id"] != m["id"], again.text


async def test_the_retired_cards_of_an_erased_member_lead_back_to_nobody(members, env) -> None:
    """Their card now and the one they lost stay retired (never issued again) without their id, nor
    the member as who retired it (they erased themself), nor the erasure's exact time."""
    m = await register(members, env, card_no="8800000066666")
    r = await members.post(f"/v1/members/{m['id']}/card-replacement", headers=desk(env),
                           json={"replaces": "8800000066666", "reason": "lost", "card_no": "8800000077777"})
    assert r.status_code == 201, r.text
    erased = await erase(members, env.auth(Role.MEMBER, member_id=m["id"]), m["id"])
    assert erased.status_code == 200, erased.text
    erased_at = datetime.fromisoformat(erased.json()["erased_at"])
    rows = {row.card_no: row for row in await row_of(
        members, RetiredCardRow, col(RetiredCardRow.card_no).in_(["8800000066666", "8800000077777"]))}
    assert set(rows) == {"8800000066666", "8800000077777"}
    assert rows["8800000077777"].retired_by == "erasure", rows["8800000077777"]
    # The day the chain's staff would name (Asia/Shanghai), not the UTC one.
    assert rows["8800000077777"].retired_at == start_of_day(erased_at.astimezone(SHANGHAI).date(), SHANGHAI)
    for row in rows.values():
        assert row.member_id is None and m["id"] not in (row.retired_by, row.member_id), row
        assert row.retired_at == start_of_day(row.retired_at.astimezone(SHANGHAI).date(), SHANGHAI), row
    for card in rows:  # still never issued again
        r = await members.post("/v1/members", json=member_body(card_no=card), headers=desk(env))
        assert r.status_code == 409 and "retired" in r.json()["detail"], r.text
