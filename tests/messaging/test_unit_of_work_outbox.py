"""The unit of work writes the events it emits to the outbox when it commits, in emission order,
on both databases; a failed unit writes none, and an event id used before is refused."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from points.config import Settings
from shared.db import make_engine, make_sessionmaker
from shared.events import contracts as c
from shared.events.registry import PURCHASE_ATTRIBUTED
from shared.migrations import upgrade_async
from shared.outbox import OutboxRecord
from shared.unit_of_work import UnitOfWork
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

MIGRATIONS = __import__("points").__path__[0] + "/migrations"


def attributed(member_id: str, txn: str) -> c.PurchaseAttributedV1:
    return c.PurchaseAttributedV1(
        member_id=member_id, sale_event_id=f"sale-{txn}", store_id="S001", pos_txn_id=txn,
        occurred_at=datetime(2026, 11, 23, 2, 15, tzinfo=UTC), total=Decimal("10.00"),
        lines=[c.AttributedLine(sku="1", qty=Decimal(1), amount=Decimal("10.00"))],
    )


async def test_emitted_events_are_written_in_order_once_and_only_when_the_unit_commits(env: TestEnv, database_factory) -> None:
    settings = env.settings(Settings, await database_factory("points"))
    await upgrade_async(MIGRATIONS, settings.database)
    engine = make_engine(settings.database)
    try:
        sessions = make_sessionmaker(engine)

        async def written() -> list[tuple[str, str]]:
            async with sessions() as s:
                rows = (await s.exec(select(OutboxRecord).order_by(col(OutboxRecord.id)))).all()
                return [(r.key, json.loads(r.envelope)["data"]["pos_txn_id"]) for r in rows]

        async with UnitOfWork(sessions, "points", settings) as uow:
            first = uow.emit(PURCHASE_ATTRIBUTED, attributed("m1", "T1"), key="m1", correlation="req-1")
            await uow.emit_many(PURCHASE_ATTRIBUTED, [(attributed("m2", "T2"), "m2", None), (attributed("m1", "T3"), "m1", None)])
            uow.emit(PURCHASE_ATTRIBUTED, attributed("m1", "T4"), key="m1")
            assert uow.emitted
        assert await written() == [("m1", "T1"), ("m2", "T2"), ("m1", "T3"), ("m1", "T4")]
        assert first.correlationid == "req-1"

        with pytest.raises(RuntimeError):
            async with UnitOfWork(sessions, "points", settings) as uow:
                uow.emit(PURCHASE_ATTRIBUTED, attributed("m1", "T5"), key="m1")
                raise RuntimeError("the command failed")
        with pytest.raises(IntegrityError):
            async with UnitOfWork(sessions, "points", settings) as uow:
                uow.emit(PURCHASE_ATTRIBUTED, attributed("m1", "T6"), key="m1")
                uow.emit(PURCHASE_ATTRIBUTED, attributed("m1", "T1"), key="m1", event_id=first.id)
        assert await written() == [("m1", "T1"), ("m2", "T2"), ("m1", "T3"), ("m1", "T4")]
    finally:
        await engine.dispose()
