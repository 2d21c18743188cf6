"""Transactional outbox: events are rows written with the state change, published by a relay.

The relay publishes rows in id order, marks each with the partition and offset the broker gave it,
and retries with backoff while the broker is away. Rows stay for `outbox_retention_s` after
publication so they can be published again if the broker loses its log: Tansu keeps topics in
memory, so a broker restart forgets everything not yet consumed. We notice that when the broker
hands out an offset at or below one it already acknowledged to us, or when our periodic heartbeat
record gets an offset below the previous one; then every retained row of the affected partitions
is published again, and the consumers' dedupe by event id absorbs the repeats.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from sqlalchemy import BigInteger, Column, Index, Integer, Text, delete, func, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from shared.columns import UtcDateTime
from shared.db import insert_into, insert_rows, is_postgresql, unnest_columns, unnest_params
from shared.events.binding import stored_to_kafka
from shared.events.envelope import Envelope
from shared.events.registry import REGISTRY
from shared.kafka import close_quietly, ensure_topics, make_producer
from shared.metrics import OUTBOX_PUBLISHED, OUTBOX_REPUBLISHED
from shared.retry import Backoff, failure_reason
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

HEARTBEAT_TOPIC = "crm.relay-heartbeat"
# Arbitrary but fixed: the key of the advisory lock that elects the publishing replica.
RELAY_LOCK_KEY = 0x0C12_0B0C


class OutboxRecord(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "published_at", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True))
    event_id: str = Field(max_length=200, unique=True)
    event_type: str = Field(max_length=200)
    topic: str = Field(max_length=200)
    key: str = Field(max_length=200)
    envelope: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    kafka_partition: int | None = None
    kafka_offset: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


OUTBOX = OutboxRecord.__table__  # type: ignore[attr-defined]


class RelayHeartbeat(SQLModel, table=True):
    """The offset the broker gave the service's latest heartbeat record, kept across restarts: when
    one process dies `crm run` stops them all, the next start brings the broker back with an empty
    log, and a relay that remembered the offset only in memory would have nothing to compare its
    first heartbeat with."""

    __tablename__ = "relay_heartbeat"

    topic: str = Field(primary_key=True, max_length=200)
    kafka_offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


HEARTBEATS = RelayHeartbeat.__table__  # type: ignore[attr-defined]


def outbox_row(envelope: Envelope, key: str) -> dict[str, Any]:
    """The outbox row of one event, for `add_many_to_outbox`."""
    return text_row(envelope.id, envelope.type, key, envelope.model_dump_json())


def text_row(event_id: str, type_: str, key: str, text: str) -> dict[str, Any]:
    """The outbox row of an event whose envelope is serialised already (`envelope_texts`)."""
    return {"event_id": event_id, "event_type": type_, "topic": REGISTRY[type_].topic, "key": key,
            "envelope": text, "created_at": datetime.now(UTC)}


# Rows per INSERT of a bulk emission on SQLite: it binds at most 32,766 parameters (six per row).
BULK_CHUNK = 2_000


async def add_many_to_outbox(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> int:
    """Many events in a few multi-row INSERTs (COPY on PostgreSQL) rather than one ORM object each
    (a campaign launch announces 100,000 coupons, a batch of sales thousands); ids follow the
    order of `rows`, which may be a generator. Answers how many."""
    if is_postgresql(session):
        # One COPY however many: PostgreSQL stores the rows while the next ones are built and
        # encoded, where a COPY per chunk would wait for each chunk before building the next.
        return await insert_rows(session, OUTBOX, rows)
    count = 0
    rows = iter(rows)
    while chunk := list(islice(rows, BULK_CHUNK)):
        count += await insert_rows(session, OUTBOX, chunk)
    return count


_MARKS = ("id", "published_at", "kafka_partition", "kafka_offset")
_marked = unnest_columns(OUTBOX, _MARKS)
# Built once: the relay marks a batch many times a second in every service.
_MARK_PUBLISHED = update(OUTBOX).where(OUTBOX.c.id == _marked.c.id).values(
    published_at=_marked.c.published_at, kafka_partition=_marked.c.kafka_partition, kafka_offset=_marked.c.kafka_offset,
)


async def _mark_published(session: AsyncSession, marks: list[dict[str, Any]]) -> None:
    """Records the partition and offset of each published row: on PostgreSQL one UPDATE ... FROM
    unnest(...) for the batch rather than a statement per row."""
    if not is_postgresql(session):
        await session.exec(update(OutboxRecord), params=marks)
        return
    await session.exec(_MARK_PUBLISHED, params=unnest_params(_MARKS, marks))


def pending_rows(limit: int, floor: int | None = None) -> Select[Any]:
    """The relay's scan: the first `limit` pending rows in id order, from `floor` on if given."""
    # The four columns publishing needs, as plain rows: no ORM object per event. Ordered as
    # ix_outbox_pending (published_at is NULL in all of them, so this is id order): the index scan
    # then stops after a batch. Ordered by id alone, PostgreSQL chose either the primary key,
    # filtering every published row of the retention period, or a bitmap scan and a sort, visiting
    # the old versions of every row published since the last vacuum: while a backlog drained, the
    # most expensive statement of the members database.
    query = (
        select(OUTBOX.c.id, OUTBOX.c.topic, OUTBOX.c.key, OUTBOX.c.envelope)
        .where(OUTBOX.c.published_at.is_(None))
        .order_by(OUTBOX.c.published_at, OUTBOX.c.id)
        .limit(limit)
    )
    return query if floor is None else query.where(OUTBOX.c.id >= floor)


class OutboxRelay:
    CLEANUP_INTERVAL_S = 60.0

    def __init__(self, settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessions = sessions
        self._woken = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._heartbeat_offset: int | None = None
        # Highest offset the broker acknowledged to us, per partition: the log-loss detector.
        self._acked: dict[tuple[str, int], int] = {}
        self.connected = False
        # What made the relay reconnect last (`shared.retry.failure_reason`), for its readiness.
        self.failure: str | None = None
        # Where the next scan for pending rows starts (None: from the first), and when a scan
        # last started from the first. See `publish_batch`.
        self._floor: int | None = None
        self._swept_at = -float("inf")
        # Checked by the loop as well as cancelling it: a cancellation can be swallowed inside a
        # client library (asyncio.wait_for on Python 3.11), and the loop must still end.
        self.stopping = False

    def wake(self) -> None:
        self._woken.set()

    @property
    def producer(self) -> AIOKafkaProducer | None:
        return self._producer

    async def run(self) -> None:
        backoff = Backoff()
        loaded = False
        loop = asyncio.get_running_loop()
        next_loss_check = next_cleanup = loop.time()
        while not self.stopping:
            try:
                if not loaded:  # inside the loop: a database away at start is retried like any failure
                    await self._load_acked_offsets()
                    loaded = True
                await self._connect()
                published = await self.publish_batch()
                backoff.reset()
                now = loop.time()
                if now >= next_loss_check:
                    await self._check_for_lost_log()
                    next_loss_check = now + self.settings.outbox_heartbeat_interval_s
                if now >= next_cleanup:
                    await self._delete_expired()
                    next_cleanup = now + self.CLEANUP_INTERVAL_S
                if published < self.settings.outbox_batch_size:
                    await self._wait_for_work()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: keep the rows, try again later
                self.connected = False
                self.failure = failure_reason(exc)
                delay = backoff.next()
                log.warning("outbox relay failed, retrying in %.1fs: %s", delay, exc)
                await self._disconnect()
                await asyncio.sleep(delay)

    async def stop(self) -> None:
        await self._disconnect()

    async def _wait_for_work(self) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
        # races with the event being set, and the relay would then never stop.
        try:
            async with asyncio.timeout(self.settings.outbox_poll_interval_s):
                await self._woken.wait()
        except TimeoutError:
            pass
        self._woken.clear()

    async def _connect(self) -> None:
        if self._producer is not None:
            return
        await self._provision_topics()
        # Kept on self before starting, so stop() closes it even if start-up is interrupted.
        self._producer = make_producer(self.settings)
        await self._producer.start()
        self.connected = True

    async def _provision_topics(self) -> None:
        await ensure_topics(self.settings, {self.settings.topic(t) for t in REGISTRY.topics()})
        await ensure_topics(self.settings, {self.settings.topic(HEARTBEAT_TOPIC)}, partitions=1)

    async def _disconnect(self) -> None:
        producer, self._producer = self._producer, None
        await close_quietly(producer)

    async def publish_batch(self) -> int:
        """Publishes the oldest pending rows; returns how many were taken."""
        async with self._publisher_session() as session:
            if session is None:
                return 0  # another replica holds the publisher lock
            # Publishing a row is an UPDATE, which leaves the row's old version in that index, still
            # under "pending", until a vacuum: a scan from the first pending entry steps over every
            # row published since, and while a backlog drained that made each scan cost tens of
            # milliseconds, growing with the backlog. So a scan starts above the last row
            # published. Ids are taken when a row is written, not when it commits, so a row below
            # that floor can still appear (its transaction committed late); once per
            # `outbox_sweep_interval_s` the scan starts from the first pending row to find those.
            started = time.monotonic()
            floor = None
            if self._floor is not None and started < self._swept_at + self.settings.outbox_sweep_interval_s:
                floor = self._floor
            else:
                self._swept_at = started
            rows = (await session.exec(pending_rows(self.settings.outbox_batch_size, floor))).all()
            if not rows:
                return 0
            if not self._single_transaction(session):
                await session.commit()  # SQLite: release the write lock before the Kafka round trip
            marks, lost, error = await self._send(rows)
            if marks:
                await _mark_published(session, marks)
            # After a failure the next scan starts from the first pending row again.
            self._floor = marks[-1]["id"] + 1 if error is None else None
        if marks:
            OUTBOX_PUBLISHED.labels(self.settings.service_name).inc(len(marks))
        for topic, partition in lost:
            await self._republish(topic, partition)
        if error is not None:
            raise error
        return len(rows)

    @contextlib.asynccontextmanager
    async def _publisher_session(self) -> AsyncIterator[AsyncSession | None]:
        async with self.sessions() as session:
            if not self._single_transaction(session):
                # SQLite: one process owns the file, and a transaction held across the Kafka
                # round trip would block every writer, so reads and marks commit separately.
                yield session
                await session.commit()
                return
            # PostgreSQL may have several replicas on one outbox: a transaction-scoped advisory
            # lock makes one of them the publisher at a time, which also keeps each member's
            # events in order. The lock ends with the transaction, also if the replica dies.
            async with session.begin():
                # And, for this transaction only, no bitmap scans: the scan for pending rows must
                # walk ix_outbox_pending in order and stop after a batch. On a table whose
                # statistics predate the backlog, the planner could read every pending row
                # (setting their hint bits) and sort them instead: 54 ms against 0.3 ms a scan at
                # 40,000 pending rows, and in members' backlog drain its writes slowed the
                # consumer's COPY too.
                taken, _ = (await session.exec(select(
                    func.pg_try_advisory_xact_lock(RELAY_LOCK_KEY), func.set_config("enable_bitmapscan", "off", True),
                ))).one()
                yield session if taken else None

    @staticmethod
    def _single_transaction(session: AsyncSession) -> bool:
        return is_postgresql(session)

    async def _send(
        self, rows: Sequence[Any]  # rows of id, topic, key, envelope
    ) -> tuple[list[dict[str, Any]], set[tuple[str, int]], BaseException | None]:
        assert self._producer is not None
        futures = []
        for row in rows:
            # The record's timestamp is the event's time, not the (possibly much later) moment the
            # relay got it out: consumers judge a till's credential at this time.
            value, headers, event_ms = stored_to_kafka(row.envelope)
            futures.append(
                await self._producer.send(
                    self.settings.topic(row.topic), value=value, key=row.key.encode(), headers=headers,
                    timestamp_ms=event_ms,
                )
            )
        results = await asyncio.gather(*futures, return_exceptions=True)
        now = datetime.now(UTC)
        marks: list[dict[str, Any]] = []
        lost: set[tuple[str, int]] = set()
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                # Stop at the first failure so a member's later event is never marked before an
                # earlier one; whatever follows is sent again (and deduped) on the next attempt.
                return marks, lost, result
            tp = (row.topic, result.partition)
            if result.offset <= self._acked.get(tp, -1):
                lost.add(tp)
            self._acked[tp] = result.offset
            marks.append({"id": row.id, "published_at": now, "kafka_partition": result.partition, "kafka_offset": result.offset})
        return marks, lost, None

    async def _check_for_lost_log(self) -> None:
        # An idle relay learns of a broker restart from a heartbeat record: offsets only grow in a
        # healthy log, so a heartbeat offset at or below our previous one means the log was lost.
        # (Tansu's ListOffsets answer is not reliable for this, its fetch high watermark is.) The
        # previous offset is kept in the database, so this holds when the relay restarted too.
        assert self._producer is not None
        topic = self.settings.topic(HEARTBEAT_TOPIC)
        result = await self._producer.send_and_wait(topic, value=b"", key=self.settings.service_name.encode(), partition=0)
        previous, self._heartbeat_offset = self._heartbeat_offset, result.offset
        if previous is not None and result.offset <= previous:
            for acked_topic, partition in list(self._acked):
                await self._republish(acked_topic, partition)
        async with self.sessions() as session, session.begin():
            values = {"topic": topic, "kafka_offset": result.offset, "recorded_at": datetime.now(UTC)}
            await session.exec(insert_into(session, HEARTBEATS).values(**values).on_conflict_do_update(
                index_elements=["topic"], set_={"kafka_offset": result.offset, "recorded_at": values["recorded_at"]}))

    async def _republish(self, topic: str, partition: int) -> None:
        log.error("broker lost the log of %s[%d]; republishing retained outbox rows", topic, partition)
        # A restarted Tansu has no topics, yet acknowledges produce requests for them without
        # storing anything: the topics must exist again before anything is republished.
        await self._provision_topics()
        async with self.sessions() as session, session.begin():
            result = await session.exec(
                update(OutboxRecord)
                .where(col(OutboxRecord.topic) == topic, col(OutboxRecord.kafka_partition) == partition)
                .where(col(OutboxRecord.published_at).is_not(None))
                .values(published_at=None, kafka_partition=None, kafka_offset=None)
            )
        OUTBOX_REPUBLISHED.labels(self.settings.service_name).inc(result.rowcount or 0)
        self._floor = None  # the rows to publish again lie below it
        self._acked.pop((topic, partition), None)
        self.wake()

    async def _load_acked_offsets(self) -> None:
        async with self.sessions() as session:
            rows = await session.exec(
                select(OutboxRecord.topic, OutboxRecord.kafka_partition, func.max(OutboxRecord.kafka_offset))
                .where(col(OutboxRecord.kafka_partition).is_not(None))
                .group_by(col(OutboxRecord.topic), col(OutboxRecord.kafka_partition))
            )
            # Neither is None: only published rows, which carry both.
            self._acked = {(topic, cast(int, partition)): cast(int, offset) for topic, partition, offset in rows}
            self._heartbeat_offset = (await session.exec(select(RelayHeartbeat.kafka_offset).where(
                RelayHeartbeat.topic == self.settings.topic(HEARTBEAT_TOPIC)))).first()

    async def _delete_expired(self) -> None:
        cutoff = datetime.now(UTC) - timedelta(seconds=self.settings.outbox_retention_s)
        async with self.sessions() as session, session.begin():
            await session.exec(delete(OutboxRecord).where(col(OutboxRecord.published_at) < cutoff))

    async def oldest_pending(self) -> datetime | None:
        """When the oldest row still waiting to be published was written (None: nothing waits)."""
        async with self.sessions() as session:
            result = await session.exec(select(func.min(OutboxRecord.created_at)).where(col(OutboxRecord.published_at).is_(None)))
            oldest: datetime | None = result.one()
            return oldest

    async def pending(self) -> int:
        async with self.sessions() as session:
            result = await session.exec(
                select(func.count()).select_from(OutboxRecord).where(col(OutboxRecord.published_at).is_(None))
            )
            return int(result.one())
