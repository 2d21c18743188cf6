"""The consumer's dedupe records an event's id before applying it and applies only what it recorded:
an event redelivered, repeated inside one batch, or held by a replica's open transaction is applied
once, and the replica that lost the race skips the event instead of failing its batch."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlmodel import func, select

from shared import consumer as consumer_module
from shared.commands import Commands
from shared.consumer import PROCESSED, Delivery, EventConsumer, forget_processed_events
from shared.events.envelope import new_event
from shared.events.registry import PURCHASE_ATTRIBUTED
from shared.unit_of_work import UnitOfWork
from tests.messaging.test_outbox_and_consumer import attributed, database
from tests.support.platform import TestEnv
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


def sale(txn: str):
    return new_event(PURCHASE_ATTRIBUTED, attributed("m1", txn), source="crm/members", subject="m1")


async def recorded(sessions) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(PROCESSED))).one()


async def test_an_event_repeated_in_a_batch_or_redelivered_is_applied_once(env: TestEnv, database_factory) -> None:
    applied: list[str] = []

    async def book(uow: UnitOfWork, delivery: Delivery) -> None:
        applied.append(delivery.envelope.id)

    async with database(env, database_factory) as (settings, sessions):
        consumer = EventConsumer(settings, sessions, handlers={PURCHASE_ATTRIBUTED: book})
        first, second = sale("t1"), sale("t2")

        def duplicates() -> float:
            return REGISTRY.get_sample_value("crm_events_duplicate_total", {"service": settings.service_name}) or 0.0

        before = duplicates()
        await consumer.apply_batch([consumer.delivery(e) for e in (first, first, second)])
        await consumer.apply_batch([consumer.delivery(e) for e in (second, sale("t3"))])  # `second` redelivered
        assert applied[:2] == [first.id, second.id] and len(applied) == 3
        assert duplicates() - before == 2
        assert await recorded(sessions) == 3


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_replica_waits_for_the_other_holding_the_same_event_and_then_skips_it(env: TestEnv, database_factory) -> None:
    applied: list[str] = []
    release = asyncio.Event()

    async def book(uow: UnitOfWork, delivery: Delivery) -> None:
        applied.append(delivery.envelope.id)
        if len(applied) == 1:
            await release.wait()  # the first replica's transaction stays open, its id recorded

    async with database(env, database_factory) as (settings, sessions):
        replicas = [EventConsumer(settings, sessions, handlers={PURCHASE_ATTRIBUTED: book}) for _ in range(2)]
        event = sale("t1")
        first = asyncio.create_task(replicas[0].apply_batch([replicas[0].delivery(event)]))

        async def first_applies() -> bool:
            return len(applied) == 1

        await eventually(first_applies, timeout=10, what="the first replica applies")
        second = asyncio.create_task(replicas[1].apply_batch([replicas[1].delivery(event)]))

        async def second_waits() -> bool:
            async with sessions() as session:
                waiting = (await session.exec(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))).scalar_one()  # type: ignore[call-overload]
            return bool(waiting)

        await eventually(second_waits, timeout=10, what="the second replica waits on the first's id")
        release.set()
        await asyncio.gather(first, second)  # neither fails
        assert applied == [event.id]
        assert await recorded(sessions) == 1


async def test_ids_are_forgotten_once_older_than_the_retention_a_batch_at_a_time(env: TestEnv, database_factory, monkeypatch) -> None:
    applied: list[str] = []

    async def book(uow: UnitOfWork, delivery: Delivery) -> None:
        applied.append(delivery.envelope.id)

    monkeypatch.setattr(consumer_module, "FORGET_BATCH", 2)  # five old ids: three transactions
    async with database(env, database_factory) as (settings, sessions):
        consumer = EventConsumer(settings, sessions, handlers={PURCHASE_ATTRIBUTED: book})
        old, recent = [sale(f"old-{n}") for n in range(5)], sale("recent")
        await consumer.apply_batch([consumer.delivery(e) for e in old])
        # Recorded ten days ago (ids are recorded on the wall clock).
        async with sessions() as session, session.begin():
            await session.exec(PROCESSED.update().where(PROCESSED.c.event_id.in_([e.id for e in old]))
                               .values(processed_at=datetime.now(UTC) - timedelta(days=10)))
        await consumer.apply_batch([consumer.delivery(recent)])

        commands = Commands(sessions, settings)
        retention = timedelta(seconds=settings.processed_events_retention_s)
        now = datetime.now(UTC)
        assert await forget_processed_events(commands, settings, now + retention - timedelta(days=10, minutes=1)) == {"deleted": 0}
        assert await forget_processed_events(commands, settings, now + retention - timedelta(days=9)) == {"deleted": 5}
        assert await recorded(sessions) == 1
        # The recent id still dedupes a redelivery.
        await consumer.apply_batch([consumer.delivery(recent)])
        assert applied.count(recent.id) == 1
