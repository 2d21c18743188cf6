"""The messaging guarantees of the shared package, against the real broker and both databases:
ordered outbox publication with retries, recovery when the broker loses its log, exactly-once
application, dead letters for poison messages."""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from asgi_correlation_id import correlation_id
from sqlmodel import func, select

from crm_cli.broker import free_port, start_broker
from points.adapters.tables import LedgerRow
from points.config import Settings
from points.consumers import handlers as points_handlers
from points.main import create_app
from shared.clock import utc_now
from shared.consumer import EventConsumer
from shared.db import make_engine, make_sessionmaker
from shared.events import contracts as c
from shared.events.binding import from_kafka, to_kafka
from shared.events.envelope import Envelope, new_event
from shared.events.registry import PURCHASE_ATTRIBUTED, Topics
from shared.migrations import upgrade_async
from shared.outbox import OutboxRecord, OutboxRelay, RelayHeartbeat
from shared.unit_of_work import UnitOfWork
from tests.support.infra import Broker
from tests.support.kafka_reader import read_topic
from tests.support.platform import TestEnv
from tests.support.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

MIGRATIONS = __import__("points").__path__[0] + "/migrations"


def attributed(member_id: str, txn: str, total: str = "10.00") -> c.PurchaseAttributedV1:
    return c.PurchaseAttributedV1(
        member_id=member_id, sale_event_id=f"sale-{txn}", store_id="S001", pos_txn_id=txn,
        occurred_at=datetime(2026, 11, 23, 2, 15, tzinfo=UTC), total=Decimal(total),
        lines=[c.AttributedLine(sku="1", qty=Decimal(1), amount=Decimal(total))],
    )


@contextlib.asynccontextmanager
async def database(env: TestEnv, database_factory, **overrides):
    settings = env.settings(Settings, await database_factory("points"), **overrides)
    await upgrade_async(MIGRATIONS, settings.database)
    engine = make_engine(settings.database)
    try:
        yield settings, make_sessionmaker(engine)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def background(runner):
    """Runs a relay or a consumer, and stops it as the service does (`shared.service`): its flag
    first, then the cancellation, which a client library may swallow (asyncio.wait_for on Python
    3.11); a cancellation alone once left the relay running and the test waiting for ever."""
    task = asyncio.create_task(runner.run())
    try:
        yield task
    finally:
        runner.stopping = True
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=30)
        assert done, f"{type(runner).__name__} did not stop within 30 s"
        with contextlib.suppress(asyncio.CancelledError):
            task.result()


async def emit(sessions, events: list[tuple[str, c.PurchaseAttributedV1]]) -> list[str]:
    async with UnitOfWork(sessions, "test") as uow:
        return [uow.emit(PURCHASE_ATTRIBUTED, data, key=key, subject=key).id for key, data in events]


async def pending(sessions) -> int:
    async with sessions() as s:
        return (await s.exec(select(func.count()).select_from(OutboxRecord).where(OutboxRecord.published_at.is_(None)))).one()


async def test_relay_publishes_every_row_in_order_per_member(env: TestEnv, database_factory) -> None:
    async with database(env, database_factory) as (settings, sessions):
        events = [(f"m{i % 3}", attributed(f"m{i % 3}", f"T{i}")) for i in range(30)]
        ids = await emit(sessions, events)
        relay = OutboxRelay(settings, sessions)
        async with background(relay):
            await eventually(lambda: _zero(pending(sessions)), what="outbox drained")
        await relay.stop()
        records = await read_topic(env.broker.bootstrap, settings.topic(Topics.MEMBERS), 30)
    assert sorted(from_kafka(r.value, r.headers).id for r in records) == sorted(ids)
    for member in ("m0", "m1", "m2"):
        mine = [r for r in records if r.key == member.encode()]
        assert len({r.partition for r in mine}) == 1  # keyed by member: one partition
        txns = [int(from_kafka(r.value, r.headers).data["pos_txn_id"][1:]) for r in sorted(mine, key=lambda r: r.offset)]
        assert txns == sorted(txns)


async def _zero(value) -> bool:
    return (await value) == 0


# Two write transactions at once: PostgreSQL only (SQLite has one writer, so ids commit in order).
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_relay_publishes_a_row_whose_transaction_committed_after_later_rows(env: TestEnv, database_factory) -> None:
    # The relay scans above the last row it published; a row that took its id earlier but
    # committed later lies below that, and the periodic sweep from the first pending row finds it.
    async with database(env, database_factory, outbox_sweep_interval_s=0.5) as (settings, sessions):
        relay = OutboxRelay(settings, sessions)
        async with background(relay):
            async with UnitOfWork(sessions, "test") as late:
                late_id = late.emit(PURCHASE_ATTRIBUTED, attributed("m1", "T0"), key="m1", subject="m1").id
                await late.flush_outbox()  # its outbox id is taken now, below the next ones
                later = await emit(sessions, [("m2", attributed("m2", f"T{i}")) for i in range(1, 4)])
                relay.wake()
                await eventually(lambda: _zero(pending(sessions)), what="the later rows published")
            relay.wake()  # the late row commits only now
            await eventually(lambda: _zero(pending(sessions)), what="the late row published")
        await relay.stop()
        records = await read_topic(env.broker.bootstrap, settings.topic(Topics.MEMBERS), 4)
    assert sorted(from_kafka(r.value, r.headers).id for r in records) == sorted([late_id, *later])


async def test_relay_keeps_rows_while_the_broker_is_down_and_publishes_when_it_is_back(env: TestEnv, database_factory) -> None:
    port = free_port()  # nothing listens here yet
    async with database(env, database_factory, kafka_bootstrap=f"127.0.0.1:{port}") as (settings, sessions):
        ids = await emit(sessions, [("m1", attributed("m1", f"T{i}")) for i in range(5)])
        relay = OutboxRelay(settings, sessions)
        async with background(relay):
            await asyncio.sleep(0)  # the relay is now failing to connect, with backoff
            assert await pending(sessions) == 5
            broker = start_broker(port)
            try:
                await eventually(lambda: _zero(pending(sessions)), timeout=40, what="published after broker start")
                records = await read_topic(f"127.0.0.1:{port}", settings.topic(Topics.MEMBERS), 5)
            finally:
                await relay.stop()
                broker.kill()
                broker.wait()
    assert sorted(from_kafka(r.value, r.headers).id for r in records) == sorted(ids)


async def test_a_relay_started_while_the_database_is_away_publishes_once_it_is_back(env: TestEnv, database_factory) -> None:
    # A pod started while PostgreSQL restarts: the relay's first reads fail. It must keep trying,
    # as it does for any later failure, rather than end and leave the outbox unpublished.
    async with database(env, database_factory) as (settings, sessions):
        ids = await emit(sessions, [("m1", attributed("m1", "T1"))])
        away = 3

        def restarting():
            nonlocal away
            if away:
                away -= 1
                raise ConnectionRefusedError("the database is restarting")
            return sessions()

        relay = OutboxRelay(settings, restarting)
        async with background(relay) as task:
            await eventually(lambda: _zero(pending(sessions)), timeout=30, what="published once the database is back")
            assert not task.done() and away == 0
        records = await read_topic(env.broker.bootstrap, settings.topic(Topics.MEMBERS), 1)
    assert [from_kafka(r.value, r.headers).id for r in records] == ids


@contextlib.asynccontextmanager
async def _own_broker(env: TestEnv, database_factory) -> AsyncIterator[tuple[Broker, Any, Any]]:
    """A broker of the test's own, to restart, and a database whose relay heartbeats often."""
    port = free_port()
    broker = Broker(port, start_broker(port))
    try:
        async with database(
            env, database_factory, kafka_bootstrap=broker.bootstrap, outbox_heartbeat_interval_s=0.3
        ) as (settings, sessions):
            yield broker, settings, sessions
    finally:
        broker.kill()


async def test_relay_republishes_what_a_restarted_broker_forgot(env: TestEnv, database_factory) -> None:
    async with _own_broker(env, database_factory) as (broker, settings, sessions):
        relay = OutboxRelay(settings, sessions)
        async with background(relay):
            ids = await _published(broker, settings, sessions, relay, "T")
            broker.restart()  # in-memory storage: the log is gone
            records = await read_topic(broker.bootstrap, settings.topic(Topics.MEMBERS), 4, timeout=40)
        await relay.stop()
    assert sorted({from_kafka(r.value, r.headers).id for r in records}) == sorted(ids)


async def test_a_relay_restarted_with_the_broker_republishes_what_the_broker_forgot(env: TestEnv, database_factory) -> None:
    """When one process dies `crm run` stops them all, and the next start brings the relay and the
    broker back together, the broker with an empty log. The relay's heartbeat offset is kept in its
    database, so its first heartbeat shows the loss without waiting for a new event on the same
    partition."""
    async with _own_broker(env, database_factory) as (broker, settings, sessions):
        first = OutboxRelay(settings, sessions)
        async with background(first):
            ids = await _published(broker, settings, sessions, first, "R")
            # A few heartbeats, as a relay up for a while has sent (the restarted log starts at 0).
            await eventually(lambda: _at_least(heartbeat_offset(sessions), 2), what="heartbeats recorded")
        await first.stop()
        broker.restart()  # in-memory storage: the log is gone, and so is the first relay
        second = OutboxRelay(settings, sessions)
        async with background(second):
            records = await read_topic(broker.bootstrap, settings.topic(Topics.MEMBERS), 4, timeout=40)
        await second.stop()
    assert sorted({from_kafka(r.value, r.headers).id for r in records}) == sorted(ids)


async def _published(broker: Broker, settings, sessions, relay: OutboxRelay, prefix: str) -> list[str]:
    """Four events written and published by `relay`, on the broker's log; their ids."""
    ids = await emit(sessions, [("m1", attributed("m1", f"{prefix}{i}")) for i in range(4)])
    relay.wake()
    await eventually(lambda: _zero(pending(sessions)), what="first publication")
    assert len(await read_topic(broker.bootstrap, settings.topic(Topics.MEMBERS), 4)) == 4
    return ids


async def heartbeat_offset(sessions) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.max(RelayHeartbeat.kafka_offset)))).one() or -1


async def _at_least(value, least: int) -> bool:
    return (await value) >= least


async def _produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes | None, list]]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value, headers in messages:
            await producer.send_and_wait(topic, key=key, value=value, headers=headers)
    finally:
        await producer.stop()


def _record(envelope: Envelope) -> tuple[bytes, bytes, list]:
    value, headers = to_kafka(envelope)
    return envelope.subject.encode() if envelope.subject else b"", value, headers


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_rest_is_applied_once(env: TestEnv, database_factory) -> None:
    async with database(env, database_factory, consumer_max_attempts=2) as (settings, sessions):

        async def fragile(uow, delivery) -> None:
            if delivery.payload.pos_txn_id == "BOOM":
                raise RuntimeError("handler failed on purpose")
            await points_handlers(settings, utc_now)[PURCHASE_ATTRIBUTED](uow, delivery)

        good = [new_event(PURCHASE_ATTRIBUTED, attributed("m1", f"G{i}"), source="t", subject="m1") for i in range(3)]
        failing = new_event(PURCHASE_ATTRIBUTED, attributed("m1", "BOOM"), source="t", subject="m1",
                            correlation_id="S001-T03-000124")
        invalid = Envelope(**{**good[0].model_dump(), "id": str(uuid.uuid4()), "data": {"member_id": "m1"}})
        # A newer type of the topic's owner is skipped; a type owned by another service is forged.
        newer = Envelope(**{**good[0].model_dump(), "id": str(uuid.uuid4()), "type": "crm.members.something_new.v9"})
        forged = Envelope(**{**good[0].model_dump(), "id": str(uuid.uuid4()), "type": "crm.points.something_new.v9"})
        messages = [_record(good[0]), _record(invalid), (b"m1", b"\xff not json", [("ce_id", b"x")]), _record(failing),
                    _record(newer), _record(forged), _record(good[1]), _record(good[1]), _record(good[2])]
        await _produce(env.broker.bootstrap, settings.topic(Topics.MEMBERS), messages)

        consumer = EventConsumer(settings, sessions, {PURCHASE_ATTRIBUTED: fragile})
        logged = _CorrelatedLines()
        logging.getLogger("shared.consumer").addHandler(logged)
        try:
            async with background(consumer):
                dead = await read_topic(env.broker.bootstrap, settings.topic(Topics.DEAD_LETTER), 4, timeout=40)

                async def ledger() -> int:
                    async with sessions() as s:
                        return (await s.exec(select(func.count()).select_from(LedgerRow))).one()

                await eventually(lambda: _equals(ledger(), 3), what="good events applied")
        finally:
            logging.getLogger("shared.consumer").removeHandler(logged)
        await consumer.stop()

    assert len(dead) == 4
    errors = sorted(dict(r.headers)["dlq_error"].decode().split(":")[0] for r in dead)
    assert errors == ["RuntimeError", "UnknownEventType", "UnreadableEvent", "ValidationError"]
    boom = next(r for r in dead if dict(r.headers)["dlq_error"].startswith(b"RuntimeError"))
    headers = dict(boom.headers)
    # The error's class and message only: no traceback, so no server paths or code leave the service.
    assert headers["dlq_error"] == b"RuntimeError: handler failed on purpose"
    assert not any(name == "dlq_trace" or b"Traceback" in value for name, value in boom.headers)
    assert headers["dlq_original_topic"].decode() == settings.topic(Topics.MEMBERS)
    assert headers["dlq_consumer_group"].decode() == settings.consumer_group
    assert from_kafka(boom.value, boom.headers).id == failing.id  # the original record, untouched
    # Its failures are logged under its correlation id, as its handler's lines are, and one refused
    # before it was read under the id its headers give.
    failures = [(level, correlation) for level, message, correlation in logged.lines if failing.id in message]
    assert failures == [(logging.WARNING, "S001-T03-000124")] * 2 + [(logging.ERROR, "S001-T03-000124")], logged.lines
    assert [correlation for _, message, correlation in logged.lines if "event x at" in message] == ["x"], logged.lines


class _CorrelatedLines(logging.Handler):
    """The consumer's log lines, with the correlation id each was logged under."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[tuple[int, str, str | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelno, record.getMessage(), correlation_id.get()))


async def _equals(value, expected) -> bool:
    return (await value) == expected


async def test_committed_offsets_are_not_redelivered_to_the_next_consumer(env: TestEnv, database_factory) -> None:
    async with database(env, database_factory) as (settings, sessions):
        seen: list[str] = []

        async def record(uow, delivery) -> None:
            seen.append(delivery.envelope.id)

        events = [new_event(PURCHASE_ATTRIBUTED, attributed("m1", f"T{i}"), source="t", subject="m1") for i in range(3)]
        await _produce(env.broker.bootstrap, settings.topic(Topics.MEMBERS), [_record(e) for e in events])
        first = EventConsumer(settings, sessions, {PURCHASE_ATTRIBUTED: record})
        async with background(first):
            await eventually(lambda: _ready(len(seen) == 3), what="first consumer applied all")
            # Applied is not yet committed: the offset follows the batch's transaction, and a stop
            # in between leaves the batch to be delivered again (and skipped by event id).
            await eventually(lambda: _committed(first, 3), what="first consumer committed all")
        await first.stop()

        later = new_event(PURCHASE_ATTRIBUTED, attributed("m1", "T9"), source="t", subject="m1")
        await _produce(env.broker.bootstrap, settings.topic(Topics.MEMBERS), [_record(later)])
        second = EventConsumer(settings, sessions, {PURCHASE_ATTRIBUTED: record})
        # What the second consumer fetched, not only what it applied: the dedupe would skip the
        # first three redelivered, and hide offsets that were never committed.
        fetched: set[str] = set()
        parse = second._parse

        def parse_and_note(r):
            fetched.add(from_kafka(r.value, r.headers).id)
            return parse(r)

        second._parse = parse_and_note  # type: ignore[method-assign]
        async with background(second):
            await eventually(lambda: _ready(len(seen) == 4), what="second consumer applied the new one")
        await second.stop()
    assert seen == [e.id for e in events] + [later.id]
    assert fetched == {later.id}


async def _ready(value: bool) -> bool:
    return value


async def _committed(consumer: EventConsumer, count: int) -> bool:
    """Whether the consumer's group has committed offsets past `count` records in all."""
    kafka = consumer._consumer
    if kafka is None:
        return False
    return sum([await kafka.committed(tp) or 0 for tp in kafka.assignment()]) >= count


def test_points_app_builds_without_touching_the_network(env: TestEnv) -> None:
    # No work at import or construction time: engines and clients exist only inside the lifespan.
    app = create_app(env.settings(Settings, "sqlite+aiosqlite:///:memory:"))
    assert not hasattr(app.state, "engine")
