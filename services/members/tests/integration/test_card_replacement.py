"""A lost or damaged card replaced at the desk: the member's sales, points and coupons follow the
new card, the old number matches nobody and is never issued again, and a form sent twice
replaces once."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import col, select

from members.adapters.tables import MemberRow, PurchaseRow
from members.adapters.tables.core import RetiredCardRow
from shared.auth import Role
from tests.support.factories import line
from tests.support.members import deliver_batch, deliver_refund, deliver_sale, desk, outbox, register, sale_event
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

PROFILE_CHANGED = "crm.members.member_profile_changed.v1"
OLD, NEW = "8800000044444", "8800000055557"


async def replace(members, headers, member_id: str, **body):
    return await members.post(f"/v1/members/{member_id}/card-replacement", json=body, headers=headers)


async def attributed_to(members, txn: str) -> str | None:
    async with members.app.state.sessions() as s:
        return (await s.exec(select(PurchaseRow.member_id).where(PurchaseRow.pos_txn_id == txn))).one()


async def test_a_lost_card_is_replaced_by_the_card_handed_over_and_the_old_one_matches_nobody(members, env) -> None:
    m = await register(members, env, card_no=OLD)
    r = await replace(members, desk(env), m["id"], replaces=OLD, reason="lost", card_no=NEW)
    assert r.status_code == 201, r.text
    assert r.json()["card_no"] == NEW
    assert (await members.get("/v1/members", params={"card_no": NEW}, headers=desk(env))).json()["total"] == 1

    found_later = datetime.now(UTC)  # after the replacement
    on_new, on_old = await deliver_sale(members, card_no=NEW), await deliver_sale(members, card_no=OLD, occurred_at=found_later)
    assert await attributed_to(members, on_new) == m["id"]
    assert await attributed_to(members, on_old) is None  # whoever found the card buys as nobody
    # Never issued again, so the sale on it is no one's for good.
    r = await members.post("/v1/members", json={"name": "王五", "phone": "13912340009", "community": "阳光花园",
                                                "address": "1号", "card_no": OLD}, headers=desk(env))
    assert r.status_code == 409 and "retired" in r.json()["detail"], r.text

    # Points and campaigns follow by the profile event, which names the new card (an id only).
    [event] = [json.loads(e.envelope) for e in await outbox(members, PROFILE_CHANGED)]
    assert event["data"]["member_id"] == m["id"] and event["data"]["card_no"] == NEW
    assert set(event["data"]) <= {"member_id", "changed_at", "home_store_id", "channel", "community_id", "card_no"}


async def test_the_desk_finds_the_customer_by_the_card_they_lost_and_is_told_it_was_replaced(members, env) -> None:
    """The customer found their lost card again and hands it over: the search finds them, saying
    the card was replaced and their card now; within the caller's scope, as a card now is."""
    m = await register(members, env, card_no=OLD)
    assert (await replace(members, desk(env), m["id"], replaces=OLD, reason="lost", card_no=NEW)).status_code == 201
    by_old = (await members.get("/v1/members", params={"card_no": OLD}, headers=desk(env))).json()
    assert by_old["total"] == 1 and [(i["id"], i["card_no"], i["replaced_card"]) for i in by_old["items"]] == [(m["id"], NEW, OLD)]
    # Typed in full-width digits, it is the same card (shared.text).
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in OLD)
    assert (await members.get("/v1/members", params={"card_no": full_width}, headers=desk(env))).json()["items"][0]["id"] == m["id"]
    by_new = (await members.get("/v1/members", params={"card_no": NEW}, headers=desk(env))).json()
    assert [(i["id"], i["replaced_card"]) for i in by_new["items"]] == [(m["id"], None)]
    # A card replaced twice still leads to the member, on the card they hold now.
    third = (await replace(members, desk(env), m["id"], replaces=NEW, reason="damaged")).json()["card_no"]
    for card in (OLD, NEW):
        found = (await members.get("/v1/members", params={"card_no": card}, headers=desk(env))).json()["items"]
        assert [(i["id"], i["card_no"], i["replaced_card"]) for i in found] == [(m["id"], third, card)], card
    # The caller's scope, as for the card now: another store's manager finds this customer of S001
    # by neither card, nor does an account manager they are not assigned to; S001's manager, any
    # store's desk (desks serve every customer) and an admin find them by both.
    scopes = {"S002 manager": (env.auth(Role.STORE_MANAGER, store_id="S002"), 0),
              "account manager": (env.auth(Role.ACCOUNT_MANAGER, store_id="S001"), 0),
              "S001 manager": (env.auth(Role.STORE_MANAGER, store_id="S001"), 1),
              "S002 desk": (env.auth(Role.SERVICE_DESK, store_id="S002"), 1), "admin": (env.auth(Role.ADMIN), 1)}
    for who, (headers, total) in scopes.items():
        for card in (OLD, third):
            r = await members.get("/v1/members", params={"card_no": card}, headers=headers)
            assert r.status_code == 200 and r.json()["total"] == total == len(r.json()["items"]), (who, card, r.text)
    # Only the card searched for says so: a search by name names no replaced card.
    by_name = (await members.get("/v1/members", params={"name": m["name"]}, headers=desk(env))).json()["items"]
    assert [i["replaced_card"] for i in by_name if i["id"] == m["id"]] == [None]


async def test_an_erased_members_old_cards_find_nobody(members, env) -> None:
    """Erasure retires the card they hold and takes their id off the cards replaced before: none
    leads back to them, for the desk or for an admin."""
    m = await register(members, env, card_no=OLD)
    assert (await replace(members, desk(env), m["id"], replaces=OLD, reason="lost", card_no=NEW)).status_code == 201
    assert (await members.get("/v1/members", params={"card_no": OLD}, headers=desk(env))).json()["total"] == 1
    r = await members.post(f"/v1/members/{m['id']}/erasure", headers=env.auth(Role.ADMIN))
    assert r.status_code in (200, 201), r.text
    for card in (OLD, NEW):
        for headers in (desk(env), env.auth(Role.ADMIN)):
            found = (await members.get("/v1/members", params={"card_no": card}, headers=headers)).json()
            assert found["total"] == 0 and found["items"] == [], (card, found)


async def test_the_form_sent_twice_replaces_once_and_a_stale_card_is_refused(members, env) -> None:
    m = await register(members, env, card_no=OLD)
    first = await replace(members, desk(env), m["id"], replaces=OLD, reason="damaged")
    assert first.status_code == 201, first.text
    issued = first.json()["card_no"]
    assert issued not in (OLD, None) and issued.startswith("88")
    again = await replace(members, desk(env), m["id"], replaces=OLD, reason="damaged")
    assert again.status_code == 200 and again.json()["card_no"] == issued  # no second new card
    assert len(await outbox(members, PROFILE_CHANGED)) == 1
    # A card the member never had, or a new card that is someone's, is refused naming it.
    other = await register(members, env, phone="13912340008", card_no=NEW)
    r = await replace(members, desk(env), m["id"], replaces=NEW, reason="lost")
    assert r.status_code == 409 and r.json()["detail"].startswith("replaces:"), r.text
    r = await replace(members, desk(env), m["id"], replaces=issued, reason="lost", card_no=NEW)
    assert r.status_code == 409 and r.json()["detail"] == "card_no is already registered to another member", r.text
    assert other["id"] not in r.text
    r = await replace(members, desk(env), m["id"], replaces=issued, reason="lost", card_no=OLD)
    assert r.status_code == 409 and "retired" in r.json()["detail"], r.text


async def test_a_sale_made_on_the_old_card_before_the_replacement_is_still_the_members(members, env) -> None:
    """A till's backlog sent after the desk replaced the card, and an import of old sales: the card
    was the member's when they bought, so the sale is theirs, on its own, in a batch, or waiting
    for its return; made after the replacement, on a card someone found, it is nobody's."""
    m = await register(members, env, card_no=OLD)
    assert (await replace(members, desk(env), m["id"], replaces=OLD, reason="lost", card_no=NEW)).status_code == 201
    # Replaced an hour ago: sales an hour and a half before it and half an hour after, both past.
    replaced = datetime.now(UTC) - timedelta(hours=1)
    async with members.app.state.sessions() as s, s.begin():
        await s.exec(update(RetiredCardRow).where(col(RetiredCardRow.card_no) == OLD).values(retired_at=replaced))
    before, after = replaced - timedelta(minutes=90), replaced + timedelta(minutes=30)
    alone = await deliver_sale(members, card_no=OLD, occurred_at=before)
    late = sale_event(members, card_no=OLD, occurred_at=after)
    in_batch = sale_event(members, card_no=OLD, occurred_at=before)
    await deliver_batch(members, [late, in_batch, sale_event(members, card_no=NEW)])
    assert await attributed_to(members, alone) == m["id"] and await attributed_to(members, in_batch.data["pos_txn_id"]) == m["id"]
    assert await attributed_to(members, late.data["pos_txn_id"]) is None
    # Its return came first (one sale at a time, then): the sale is theirs and the return applied.
    returned = "T-RETURNED"
    await deliver_refund(members, txn=returned, lines=[line(qty="1")], card_no=OLD, occurred_at=before + timedelta(minutes=5))
    await deliver_sale(members, card_no=OLD, txn=returned, occurred_at=before)
    assert await attributed_to(members, returned) == m["id"]
    profile = (await members.get(f"/v1/members/{m['id']}", headers=desk(env))).json()
    assert profile["purchase_count"] == 4  # alone, in the batch, on the new card, the one returned in part

    r = await members.post("/v1/sales/import", headers=env.auth(Role.ADMIN), json={"points": "none", "sales": [
        {"store_id": "S001", "pos_txn_id": f"H-{n}", "occurred_at": at.isoformat(), "card_no": OLD, "lines": [line(qty="1")]}
        for n, at in enumerate((before, after))]})
    assert r.status_code == 200, r.text
    assert [(row["status"], row["reason"]) for row in r.json()["results"]] == [
        ("imported", None), ("rejected", "card_no: no member has this card")], r.text
    assert await attributed_to(members, "H-0") == m["id"]


async def test_a_card_used_at_a_till_before_it_was_handed_over_brings_its_sales(members, env) -> None:
    waiting = await deliver_sale(members, card_no=NEW)
    assert await attributed_to(members, waiting) is None
    m = await register(members, env, card_no=OLD)
    assert (await replace(members, desk(env), m["id"], replaces=OLD, reason="lost", card_no=NEW)).status_code == 201
    assert await attributed_to(members, waiting) == m["id"]


async def test_only_desks_and_managers_replace_cards_and_bad_input_names_the_field(members, env) -> None:
    m = await register(members, env, card_no=OLD)
    for role in (Role.MARKETING, Role.MEMBER, Role.ACCOUNT_MANAGER):
        headers = env.auth(role, member_id=m["id"]) if role is Role.MEMBER else env.auth(role, store_id="S001")
        r = await replace(members, headers, m["id"], replaces=OLD, reason="lost")
        assert r.status_code == 403, (role, r.text)
    other_store = env.auth(Role.STORE_MANAGER, store_id="S002")
    assert (await replace(members, other_store, m["id"], replaces=OLD, reason="lost")).status_code in (403, 404)
    for body, field in (({"replaces": OLD, "reason": "stolen"}, "reason"), ({"replaces": "123", "reason": "lost"}, "replaces"),
                        ({"replaces": OLD, "reason": "lost", "card_no": "88-0000"}, "card_no"),
                        ({"replaces": OLD, "reason": "lost", "pin": "1"}, "pin")):
        r = await replace(members, desk(env), m["id"], **body)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", field], (body, r.text)


async def test_an_erased_members_card_cannot_be_replaced(members, env) -> None:
    m = await register(members, env, card_no=OLD)
    assert (await members.post(f"/v1/members/{m['id']}/erasure", headers=env.auth(Role.ADMIN))).status_code in (200, 201)
    r = await replace(members, desk(env), m["id"], replaces=OLD, reason="lost")
    assert r.status_code == 409, r.text


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite runs one writer at a time
async def test_a_card_given_to_another_member_at_the_same_moment_is_a_conflict_not_a_500(members, env) -> None:
    """Two desks hand over the same new card at once (a replacement each, or a replacement and a
    registration): both find it unused, and the second to write it is told, 409 naming the card."""
    a, b = await register(members, env), await register(members, env)
    async with members.app.state.sessions() as other_desk:  # b gets NEW, not committed yet
        await other_desk.exec(update(MemberRow).where(col(MemberRow.id) == b["id"]).values(card_no=NEW))
        replacing = asyncio.create_task(replace(members, desk(env), a["id"], replaces=a["card_no"], reason="lost", card_no=NEW))
        await eventually(lambda: _waiting_for_a_lock(members), what="the replacement waiting on the card's unique index")
        await other_desk.commit()
    r = await asyncio.wait_for(replacing, 30)
    assert r.status_code == 409 and f"card_no {NEW}" in r.json()["detail"], r.text
    kept = (await members.get(f"/v1/members/{a['id']}", headers=desk(env))).json()
    assert kept["card_no"] == a["card_no"]  # nothing of the replacement was kept: the old card still works
    assert [e for e in await outbox(members, PROFILE_CHANGED) if json.loads(e.envelope)["subject"] == a["id"]] == []


async def _waiting_for_a_lock(members) -> bool:
    async with members.app.state.sessions() as s:
        return (await s.exec(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))).one()[0] > 0
