"""What the consumer waits out and what it dead-letters. A database that is away, restarting or
asking for the transaction again is waited out, backing off further at each reconnect until records
go through again; so is a service missing the key its sales are judged with. A record that cannot be
parsed, whatever the reason, is that record's fault: dead-lettered, and the consumer moves on."""

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from aiokafka import ConsumerRecord, TopicPartition
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection, dialect
from sqlalchemy.exc import DBAPIError

from shared.consumer import Delivery, EventConsumer
from shared.events import contracts as c
from shared.events.binding import to_kafka
from shared.events.envelope import new_event
from shared.events.registry import PURCHASE_ATTRIBUTED, PURCHASE_MADE
from shared.retry import Backoff
from shared.settings import ServiceSettings

A = TopicPartition("t1.crm.members.events", 0)
WRITTEN_MS = int(datetime(2026, 11, 23, 2, 15, tzinfo=UTC).timestamp() * 1000)


def settings(**overrides: object) -> ServiceSettings:
    return ServiceSettings(service_name="test", kafka_topic_prefix="t1.", **overrides)  # type: ignore[arg-type]


def sale(offset: int) -> c.PurchaseAttributedV1:
    return c.PurchaseAttributedV1(
        member_id="m1", sale_event_id=f"s{offset}", store_id="S001", pos_txn_id=f"t{offset}",
        occurred_at=datetime(2026, 11, 23, tzinfo=UTC), total=Decimal("10.00"),
        lines=[c.AttributedLine(sku="1", qty=Decimal(1), amount=Decimal("10.00"))],
    )


def attributed(offset: int, timestamp: int = WRITTEN_MS, extra_headers: tuple = ()) -> ConsumerRecord:
    value, headers = to_kafka(new_event(PURCHASE_ATTRIBUTED, sale(offset), source="crm/members"))
    return ConsumerRecord(A.topic, A.partition, offset, timestamp, 0, b"m1", value, None, 0, len(value), [*headers, *extra_headers])


class Group:
    """The part of aiokafka's consumer the loop uses. Hands over `fetches` in turn, a fetch of
    None being one that comes back empty (as while the group is joined), and asks the consumer to
    stop once they are all taken."""

    def __init__(self, events: EventConsumer, *fetches: list[ConsumerRecord] | None) -> None:
        self.events, self.fetches = events, list(fetches)
        self.commits: list[int] = []
        self.position_after = 0

    def assignment(self) -> set[TopicPartition]:
        return {A}

    def highwater(self, tp: TopicPartition) -> int | None:
        return None

    async def position(self, tp: TopicPartition) -> int:
        return self.position_after

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        if not self.fetches:
            self.events.stopping = True
            return {}
        records = self.fetches.pop(0)
        if not records:
            return {}
        self.position_after = records[-1].offset + 1
        return {A: records}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets[A])


# --- a record that cannot be parsed -------------------------------------------------------------

async def test_records_a_producer_got_wrong_are_read_or_dead_lettered_and_the_consumer_moves_on() -> None:
    events = EventConsumer(settings(), sessions=None, handlers={PURCHASE_ATTRIBUTED: lambda uow, d: asyncio.sleep(0)})  # type: ignore[arg-type]
    group = Group(events, [
        attributed(0, timestamp=WRITTEN_MS * 1000),  # CreateTime written in microseconds
        attributed(1, extra_headers=(("x-trace", None),)),  # a header with a null value
        attributed(2),
    ])
    applied: list[str] = []
    dead: list[tuple[int, str]] = []
    reconnects: list[str] = []

    async def apply_batch(deliveries: list[Delivery]) -> None:
        applied.extend(d.payload.pos_txn_id for d in deliveries)  # type: ignore[attr-defined]

    async def dead_letter(record: ConsumerRecord, exc: BaseException) -> None:
        dead.append((record.offset, type(exc).__name__))

    async def reconnect() -> None:
        reconnects.append("reconnect")
        events.stopping = True

    events._consumer = group  # type: ignore[assignment]
    events.apply_batch, events._dead_letter, events.stop = apply_batch, dead_letter, reconnect  # type: ignore[method-assign]
    await asyncio.wait_for(events.run(), 5)
    assert reconnects == [], "a record is no reason to reconnect: it would be fetched again, for ever"
    assert dead == [(0, "UnreadableEvent")]
    assert applied == ["t1", "t2"]
    assert group.commits == [3]


# --- the database away --------------------------------------------------------------------------

DBAPI = dialect.import_dbapi()


def raised_by_sqlalchemy(error: Exception, *, connection_invalidated: bool = False) -> DBAPIError:
    """asyncpg's `error` as it reaches the consumer: adapted by SQLAlchemy's asyncpg dialect to its
    DB-API error, then wrapped in SQLAlchemy's own, as a statement failing would be."""
    try:
        AsyncAdapt_asyncpg_connection._handle_exception_no_connection(DBAPI, error)
    except DBAPI.Error as adapted:
        wrapped = DBAPIError.instance("INSERT INTO processed_events ...", {}, adapted, DBAPI.Error,
                                      connection_invalidated=connection_invalidated)
        assert isinstance(wrapped, DBAPIError)
        return wrapped
    raise AssertionError(f"{error!r} was not adapted")


OUTAGES = {
    "57P03 shutting down": raised_by_sqlalchemy(asyncpg.CannotConnectNowError("the database system is shutting down")),
    "57P01 terminated": raised_by_sqlalchemy(asyncpg.AdminShutdownError("terminating connection due to administrator command")),
    "53300 too many connections": raised_by_sqlalchemy(asyncpg.TooManyConnectionsError("sorry, too many clients already")),
    "08006 connection failure": raised_by_sqlalchemy(asyncpg.ConnectionFailureError("connection failure")),
    "40P01 deadlock": raised_by_sqlalchemy(asyncpg.DeadlockDetectedError("deadlock detected")),
    "40001 serialization": raised_by_sqlalchemy(asyncpg.SerializationError("could not serialize access")),
    # No SQLSTATE, but the connection it broke was found closed.
    "connection lost": raised_by_sqlalchemy(asyncpg.InternalClientError("unexpected end of stream"), connection_invalidated=True),
    "refused": ConnectionRefusedError("connection refused"),
}
THE_EVENTS_OWN = {
    "23505 unique violation": raised_by_sqlalchemy(asyncpg.UniqueViolationError("duplicate key value")),
    "22012 division by zero": raised_by_sqlalchemy(asyncpg.DivisionByZeroError("division by zero")),
    "22001 value too long": raised_by_sqlalchemy(asyncpg.StringDataRightTruncationError("value too long")),
    "handler": RuntimeError("handler failed"),
}


async def test_a_database_outage_is_raised_to_reconnect_and_only_an_events_own_failure_dead_lettered() -> None:
    # SQLAlchemy's asyncpg dialect raises most server errors as a plain DBAPIError: a restart's
    # 57P03 among them, which a few quick attempts would have dead-lettered as poison.
    events = EventConsumer(settings(consumer_max_attempts=2), sessions=None, handlers={})  # type: ignore[arg-type]
    record = attributed(0)
    delivery = Delivery(new_event(PURCHASE_ATTRIBUTED, sale(0), source="crm/members"), sale(0))
    dead: list[str] = []
    outcomes: dict[str, str] = {}
    for name, error in {**OUTAGES, **THE_EVENTS_OWN}.items():

        async def failing(deliveries: list[Delivery], error: Exception = error) -> None:
            raise error

        async def dead_letter(r: ConsumerRecord, exc: BaseException, name: str = name) -> None:
            dead.append(name)

        events.apply_batch, events._dead_letter = failing, dead_letter  # type: ignore[method-assign]
        try:
            await events._apply_one_with_retries(record, delivery)
            outcomes[name] = "dead-lettered" if name in dead else "applied"
        except Exception as exc:
            assert exc is error
            outcomes[name] = "raised"
    assert outcomes == {name: "raised" for name in OUTAGES} | {name: "dead-lettered" for name in THE_EVENTS_OWN}


async def test_while_the_database_is_away_each_reconnect_waits_longer_until_records_go_through(monkeypatch) -> None:
    # Started over as soon as a fetch came back, the backoff had a consumer rejoin its group every
    # 0.2 s for as long as the database was down. Each reconnect's first fetch is empty here, as
    # while the group is joined: a fetch that brings nothing proves nothing either.
    steps: list[float | str] = []
    real_next = Backoff.next

    def next_delay(backoff: Backoff) -> float:
        steps.append(backoff._current)
        real_next(backoff)
        return 0

    monkeypatch.setattr(Backoff, "next", next_delay)
    events = EventConsumer(settings(), sessions=None, handlers={})  # type: ignore[arg-type]
    outcomes = ["away"] * 4 + ["back", "away"]

    async def process(records: list[ConsumerRecord], parsed: dict) -> None:
        outcome = outcomes.pop(0)
        steps.append(outcome)
        if outcome == "away":
            raise OSError("connection refused")

    async def connect() -> None:
        if events._consumer is None:
            events._consumer = Group(events, None, *([attributed(offset)] for offset in range(5)))  # type: ignore[assignment]

    async def stop() -> None:
        events._consumer = None
        events.stopping = not outcomes

    events._connect, events.stop, events._process = connect, stop, process  # type: ignore[method-assign]
    await asyncio.wait_for(events.run(), 5)
    assert steps == ["away", 0.2, "away", 0.4, "away", 0.8, "away", 1.6, "back", "away", 0.2]


async def test_a_consumer_of_sales_without_the_key_to_judge_them_by_does_not_join_the_group(tmp_path: Path, monkeypatch) -> None:
    # Found missing only while parsing, the key would have every sale dead-lettered, and this
    # replica would hold partitions that its peers, which have the key, could apply.
    joined: list[str] = []

    async def ensure_topics(*args: object) -> None:
        joined.append("topics")

    monkeypatch.setattr("shared.consumer.ensure_topics", ensure_topics)
    monkeypatch.setattr("shared.consumer.make_producer", lambda s: joined.append("producer"))
    monkeypatch.setattr("shared.consumer.make_consumer", lambda s, topics: joined.append("group"))
    events = EventConsumer(settings(environment="test", data_dir=tmp_path), sessions=None, handlers={PURCHASE_MADE: lambda uow, d: asyncio.sleep(0)})  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="CRM_JWT_PUBLIC_KEY is not set"):
        await events._connect()
    assert joined == [] and not events.connected

