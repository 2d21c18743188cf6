"""A sale consumed at the very moment its customer registers is attributed all the same."""

import asyncio

import pytest

from tests.support.members import deliver_sale, desk, register

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
