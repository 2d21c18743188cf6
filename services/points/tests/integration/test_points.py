"""Points booking from events and the account API, on SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import func, select

from points.adapters.tables import LedgerRow
from points.config import Settings
from points.main import create_app
from shared.auth import Role
from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import MEMBER_REGISTERED, PURCHASE_ATTRIBUTED
from tests.support.platform import TestEnv, service

pytestmark = pytest.mark.integration


@pytest.fixture
async def points(env: TestEnv, database_factory):
    async with service(create_app(env.settings(Settings, await database_factory("points")))) as client:
        yield client


def attributed(member_id: str, total: str, txn: str | None = None, event_id: str | None = None):
    txn = txn or f"T-{uuid.uuid4().hex[:8]}"
    data = c.PurchaseAttributedV1(
        member_id=member_id, sale_event_id=f"sale-{txn}", store_id="S001", pos_txn_id=txn,
        occurred_at=datetime(2026, 11, 23, 2, 15, tzinfo=UTC), total=Decimal(total),
        lines=[c.AttributedLine(sku="6901234567890", category="grain", qty=Decimal(1), amount=Decimal(total))],
    )
    return new_event(PURCHASE_ATTRIBUTED, data, source="crm/members", subject=member_id, event_id=event_id)


async def apply(points, *envelopes) -> None:
    consumer = points.app.state.consumer
    await consumer.apply_batch([consumer.delivery(e) for e in envelopes])


async def account(points, env: TestEnv, member_id: str) -> dict:
    r = await points.get(f"/v1/accounts/{member_id}", headers=env.auth(Role.SERVICE_DESK))
    assert r.status_code == 200, r.text
    return r.json()


async def test_attributed_sale_earns_floor_of_total(points, env) -> None:
    await apply(points, attributed("m1", "218.80", txn="T1"))
    acc = await account(points, env, "m1")
    assert acc["balance"] == 218
    [entry] = acc["entries"]
    assert entry["entry_type"] == "earn" and entry["reason"] == "purchase S001/T1" and entry["source_ref"] == "sale:S001/T1"


async def test_redelivery_in_one_batch_and_across_batches_books_once(points, env) -> None:
    event = attributed("m2", "100.00")
    await apply(points, event, event)
    await apply(points, event)
    assert (await account(points, env, "m2"))["balance"] == 100


async def test_same_sale_under_a_new_event_id_is_not_credited_twice(points, env) -> None:
    await apply(points, attributed("m3", "50.00", txn="T9"))
    await apply(points, attributed("m3", "50.00", txn="T9"))  # new envelope id, same POS transaction
    acc = await account(points, env, "m3")
    assert acc["balance"] == 50 and len(acc["entries"]) == 1


async def test_balance_equals_the_sum_of_the_ledger(points, env) -> None:
    await apply(points, *(attributed("m4", amount) for amount in ("10.99", "20.50", "0.99", "1000.00")))
    acc = await account(points, env, "m4")
    async with points.app.state.sessions() as s:
        total = (await s.exec(select(func.sum(LedgerRow.points)).where(LedgerRow.member_id == "m4"))).one()
    assert acc["balance"] == total == 10 + 20 + 0 + 1000


async def test_member_registration_opens_the_account_with_its_channel(points, env) -> None:
    registered = new_event(
        MEMBER_REGISTERED,
        c.MemberRegisteredV1(member_id="m5", card_no="8800000012345", channel="partner", registered_at=datetime.now(UTC)),
        source="crm/members",
    )
    await apply(points, registered)
    acc = await account(points, env, "m5")
    assert (acc["balance"], acc["channel"], acc["entries"]) == (0, "partner", [])


async def test_members_read_only_their_own_account(points, env) -> None:
    await apply(points, attributed("m6", "10.00"), attributed("m7", "10.00"))
    own = await points.get("/v1/accounts/m6", headers=env.auth(Role.MEMBER, member_id="m6"))
    assert own.status_code == 200
    other = await points.get("/v1/accounts/m7", headers=env.auth(Role.MEMBER, member_id="m6"))
    assert other.status_code == 403
    assert (await points.get("/v1/accounts/nobody", headers=env.auth(Role.SERVICE_DESK))).status_code == 404
