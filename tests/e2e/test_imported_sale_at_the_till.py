"""A sale of the chain's past, imported through the gateway, meets the tills over the real broker:
its transaction id is no till's to take, and the customer brings its goods back at the till."""

import pytest
from sqlmodel import select

from gateway.adapters.tables import PosSaleRow
from shared.auth import Role
from tests.support.factories import line, member_body, refund_body, sale_body
from tests.support.platform import TestEnv, platform
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.integration]


async def test_an_imported_sale_refuses_a_tills_sale_of_its_id_and_is_returned_at_the_till(env: TestEnv, database_factory) -> None:
    async with platform(env, database_factory) as p:
        admin, till = env.auth(Role.ADMIN), env.auth(Role.POS, store_id="S001")
        r = await p.gateway.put("/api/v1/stores/S001", json={"name": "城东大卖场"}, headers=admin)
        assert r.status_code == 200, r.text
        r = await p.gateway.post("/api/v1/members", json=member_body(), headers=env.auth(Role.SERVICE_DESK))
        assert r.status_code == 201, r.text
        member = r.json()
        past = {"store_id": "S001", "pos_txn_id": "OLD-0001", "occurred_at": "2026-11-20T10:15:00+08:00",
                "card_no": member["card_no"], "lines": [line(qty="2", unit_price="50.00")]}  # 100.00 -> 100 points
        r = await p.gateway.post("/api/members/v1/sales/import", json={"points": "rule-at-time", "sales": [past]}, headers=admin)
        assert r.status_code == 200 and r.json()["imported"] == 1, r.text

        async def balance() -> int:
            r = await p.gateway.get(f"/api/points/v1/accounts/{member['id']}", headers=admin)
            return r.json()["balance"] if r.status_code == 200 else -1

        await eventually(lambda: _equals(balance, 100), what="points books the imported sale")

        # A new till numbering its sales like the old system did: refused, not lost downstream.
        clash = sale_body(pos_txn_id="OLD-0001", member={"card_no": member["card_no"]}, lines=[line(qty="1", unit_price="500.00")])

        # The gateway hears of the import over the broker, a moment after members recorded it.
        async def kept() -> bool:
            async with p.apps["gateway"].state.sessions() as session:
                found = await session.exec(select(PosSaleRow).where(PosSaleRow.pos_txn_id == "OLD-0001"))
                return found.first() is not None

        await eventually(kept, what="the gateway keeps the imported transaction id")
        r = await p.gateway.post("/pos/v1/purchases", json=clash, headers=till)
        assert r.status_code == 409 and "import" in r.text, r.text

        # One of the two bags comes back at the till: half the sale's points go.
        back = refund_body(past, lines=[line(qty="1", unit_price="50.00")], occurred_at="2026-11-24T09:00:00+08:00")
        r = await p.gateway.post("/pos/v1/refunds", json=back, headers=till)
        assert r.status_code == 202, r.text
        await eventually(lambda: _equals(balance, 50), what="points takes back the returned half")


async def _equals(read, expected: int) -> bool:
    return await read() == expected
