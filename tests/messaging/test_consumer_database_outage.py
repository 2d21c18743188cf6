"""A PostgreSQL that refuses the consumer or drops its connection is waited out, not taken for
poison: SQLAlchemy's asyncpg dialect reports such errors as a plain DBAPIError, which the consumer
used to retry three times in a row and then dead-letter, committing the offset past the event."""

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.consumer import Delivery, EventConsumer
from shared.db import make_engine, make_sessionmaker
from shared.events.envelope import new_event
from shared.events.registry import PURCHASE_ATTRIBUTED, Topics
from shared.unit_of_work import UnitOfWork
from tests.messaging.test_outbox_and_consumer import _produce, _ready, _record, attributed, background, database
from tests.support.infra import Postgres
from tests.support.platform import TestEnv
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("backend", ["postgres"], indirect=True)]


class Attempts:
    """The consumer's sessions, counting the transactions it starts."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions, self.count = sessions, 0

    def __call__(self) -> AsyncSession:
        self.count += 1
        return self.sessions()


@contextlib.asynccontextmanager
async def refused(postgres: Postgres, url: str) -> AsyncIterator[tuple[str, Callable[[], Awaitable[None]]]]:
    """The URL of a role with the service's rights on the database of `url` that PostgreSQL lets in
    only once the returned call is made: until then it refuses it as a server with no connection
    left does (53300, too many connections), and as one shutting down or starting up would."""
    role, database_name = f"consumer_{uuid.uuid4().hex[:8]}", url.split("@/", 1)[1].split("?", 1)[0]
    admin = await asyncpg.connect(host=postgres.socket_dir, user="postgres", database=database_name)
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
        await admin.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        await admin.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')

        async def admit() -> None:
            await admin.execute(f'ALTER ROLE "{role}" CONNECTION LIMIT -1')

        yield url.replace("postgres@/", f"{role}@/", 1), admit
    finally:
        await admin.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')
        await admin.close()


@pytest.mark.kafka
async def test_an_event_waits_for_a_database_refusing_the_consumer_and_is_applied_once_let_in(
    env: TestEnv, database_factory, postgres: Postgres,
) -> None:
    applied: list[str] = []
    dead: list[str] = []

    async def book(uow: UnitOfWork, delivery: Delivery) -> None:
        applied.append(delivery.envelope.id)

    async with database(env, database_factory) as (settings, _), refused(postgres, settings.database) as (url, admit):
        engine = make_engine(url)
        attempts = Attempts(make_sessionmaker(engine))
        consumer = EventConsumer(settings, attempts, {PURCHASE_ATTRIBUTED: book})  # type: ignore[arg-type]
        forward = consumer._dead_letter

        async def dead_letter(record: ConsumerRecord, exc: BaseException) -> None:
            dead.append(f"{type(exc).__name__}: {exc}")
            await forward(record, exc)

        consumer._dead_letter = dead_letter  # type: ignore[method-assign]
        event = new_event(PURCHASE_ATTRIBUTED, attributed("m1", "T1"), source="t", subject="m1")
        await _produce(env.broker.bootstrap, settings.topic(Topics.MEMBERS), [_record(event)])
        try:
            async with background(consumer):
                # More than the batch and its one-by-one attempts, after which it was dead-lettered.
                await eventually(lambda: _ready(attempts.count > settings.consumer_max_attempts + 1), timeout=60,
                                 what="the consumer keeps trying")
                assert (applied, dead) == ([], [])
                await admit()
                await eventually(lambda: _ready(applied == [event.id]), timeout=60, what="applied once let in")
            await consumer.stop()
        finally:
            await engine.dispose()
    assert dead == []


async def test_a_connection_the_administrator_terminates_is_raised_to_reconnect_not_dead_lettered(
    env: TestEnv, database_factory,
) -> None:
    async def terminated(uow: UnitOfWork, delivery: Delivery) -> None:
        await uow.session.exec(text("SELECT pg_terminate_backend(pg_backend_pid())"))  # type: ignore[call-overload]

    async with database(env, database_factory) as (settings, sessions):
        consumer = EventConsumer(settings, sessions, {PURCHASE_ATTRIBUTED: terminated})
        dead: list[int] = []

        async def dead_letter(record: ConsumerRecord, exc: BaseException) -> None:
            dead.append(record.offset)

        consumer._dead_letter = dead_letter  # type: ignore[method-assign]
        topic = settings.topic(Topics.MEMBERS)
        event = new_event(PURCHASE_ATTRIBUTED, attributed("m1", "T1"), source="t", subject="m1")
        record = ConsumerRecord(topic, 0, 7, 0, 0, b"m1", b"", None, 0, 0, [])
        with pytest.raises(DBAPIError, match="administrator command"):
            await consumer._process([record], {(topic, 0, 7): consumer.delivery(event)})
    assert dead == []
