"""A sale consumed at the very moment its customer registers is attributed all the same; registrations
at the same moment do not wait for each other."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from members.service_layer.identity_lock import IDENTITY_MATCHING
from tests.support.factories import member_body
from tests.support.members import SALE_TIME, deliver_sale, desk, register
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


async def test_sales_racing_their_customers_registration_are_never_left_unattributed(members, env) -> None:
    cards = [f"8800{n:09d}" for n in range(12)]

    async def race(n: int, card: str) -> dict:
        sale = deliver_sale(members, card_no=card, txn=f"RACE-{n}")
        signup = register(members, env, card_no=card, phone=f"1390000{n:04d}")
        _, member = await asyncio.gather(sale, signup)
        return member

    registered = await asyncio.gather(*(race(n, card) for n, card in enumerate(cards)))
    for member in registered:
        seen = (await members.get(f"/v1/members/{member['id']}", headers=desk(env))).json()
        assert seen["purchase_count"] == 1, f"sale of card {member['card_no']} was left unattributed"


async def test_registrations_under_one_idempotency_key_at_once_answer_one_member(members, env) -> None:
    body, headers = member_body(), {**desk(env), "Idempotency-Key": "reg-same-moment-01"}
    answers = await asyncio.gather(*(members.post("/v1/members", json=body, headers=headers) for _ in range(6)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_registration_under_way_holds_sales_back_but_not_other_registrations(members, env) -> None:
    """SQLite runs one writer at a time, so only PostgreSQL has anything to show here."""
    async with members.app.state.sessions() as under_way:
        # What a registration holds until it commits.
        await under_way.exec(select(func.pg_advisory_xact_lock_shared(IDENTITY_MATCHING)))
        other = await asyncio.wait_for(members.post("/v1/members", json=member_body(), headers=desk(env)), 30)
        assert other.status_code == 201, other.text
        member = other.json()
        sale = asyncio.create_task(deliver_sale(members, card_no=member["card_no"], txn="HELD-1"))
        await eventually(lambda: _waiting_for_the_lock(members), what="the sale waiting for the registration under way")
        assert not sale.done()
        await under_way.rollback()
    await asyncio.wait_for(sale, 30)
    seen = (await members.get(f"/v1/members/{member['id']}", headers=desk(env))).json()
    assert seen["purchase_count"] == 1


async def _waiting_for_the_lock(members) -> bool:
    async with members.app.state.sessions() as s:
        waiting = await s.exec(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))
        return waiting.one()[0] > 0


async def test_members_of_one_household_registering_at_once_with_sales_waiting_are_all_counted(members, env) -> None:
    """Registrations run side by side on PostgreSQL, and each counts its waiting sales into the
    household's rows: opposite orders of stores must neither deadlock them (`infobase.add_spend`
    writes rows in key order) nor lose a sale."""
    pairs = []
    for n in range(6):
        address, cards = f"和平里{n}幢", (f"8811{n:09d}", f"8822{n:09d}")
        await register(members, env, address=address)  # the household exists: nothing else orders them
        for card, stores in zip(cards, (("S001", "S002"), ("S002", "S001")), strict=True):
            for i, store in enumerate(stores):
                await deliver_sale(members, card_no=card, store=store, txn=f"LATE-{card}-{i}",
                                   occurred_at=SALE_TIME + timedelta(minutes=i))
        pairs.append((address, cards))
    signups = [register(members, env, card_no=card, address=address, phone=f"1377{n:03d}{k:04d}")
               for n, (address, cards) in enumerate(pairs) for k, card in enumerate(cards)]
    registered = await asyncio.gather(*signups)
    for member in registered:
        seen = (await members.get(f"/v1/members/{member['id']}", headers=desk(env))).json()
        assert seen["purchase_count"] == 2, member["card_no"]
