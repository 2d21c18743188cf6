"""Idempotent event consumer.

For every batch of records: parse the envelopes, then in ONE database transaction insert the event
ids into `processed_events` (skipping ids already there) and apply the handlers of the events whose
ids went in; commit; only then commit the Kafka offsets. A crash anywhere before the database
commit leaves nothing applied and the offsets uncommitted, so the batch is redelivered; a crash
between the two commits redelivers events whose ids are already recorded, so they are skipped.
While a fetch applies, the next one is fetched and parsed (`run`), and applied only once the first
is committed: the parsing takes the time the consumer would have spent waiting for the database,
and nothing of a fetch takes effect before the fetch before it.

If the batch transaction fails, the events are retried one at a time so that one poison message
cannot hold back the rest; an event that still fails after `consumer_max_attempts` is forwarded to
the dead-letter topic with the error attached, and the consumer moves on. A failure of the database
itself (`is_transient`: away, restarting, full, a deadlock) is no event's: the consumer reconnects,
backing off, and the batch is redelivered. A record that cannot be parsed is dead-lettered at once.

Which events are accepted (`EventConsumer.delivery`), on a record read from topic T:

- a type registered for T that this service handles: its payload is validated, its credential
  checked (`EventSpec.credential`, POS sales and returns), then applied;
- a type registered for T that this service does not handle: skipped (other consumers' types);
- a type registered for another topic: dead-lettered. Only the owner's principal may write the
  owner's topic (broker ACLs), so this is a forgery or a misrouted event, e.g. a
  `complaint_resolved` with compensation points written to the POS topic by a till;
- a type the registry does not know, on a topic written from outside (`EXTERNAL_TOPICS`, the POS
  topic): dead-lettered, because a mistyped sale would otherwise be lost;
- a type the registry does not know on an internal topic: skipped when it is in the namespace of
  the topic's owner (`crm.members.*` on the members topic), because that is a newer version of the
  owner (a `.v2`, or a new type) ahead of this consumer, and owners publish a new version next to
  the old one until every consumer reads it; dead-lettered when it is outside that namespace.

Dead letters carry the error's class and message, never a traceback (server paths and code do not
leave the service); the traceback goes to the local log.
"""

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from asgi_correlation_id import correlation_id
from pydantic import BaseModel, ValidationError
from sqlalchemy import Column, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth import TokenVerifier
from shared.clock import Clock, utc_now
from shared.columns import UtcDateTime
from shared.commands import Commands
from shared.db import insert_or_skip
from shared.events.binding import UnreadableEvent, from_kafka
from shared.events.credentials import InvalidCredential
from shared.events.envelope import Envelope, source_of
from shared.events.registry import EXTERNAL_TOPICS, REGISTRY, Topics, namespace
from shared.kafka import close_quietly, ensure_topics, make_consumer, make_producer, record_time
from shared.metrics import EVENTS_APPLIED, EVENTS_DEAD_LETTERED, EVENTS_DUPLICATE, EVENTS_SKIPPED
from shared.retry import Backoff, failure_reason
from shared.settings import ServiceSettings
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_events"

    event_id: str = Field(primary_key=True, max_length=200)
    event_type: str = Field(max_length=200)
    # Indexed for the clean-up (`forget_processed_events`), which deletes the oldest ids.
    processed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))


PROCESSED = ProcessedEvent.__table__  # type: ignore[attr-defined]
FORGET_BATCH = 5000  # ids deleted a transaction: short locks, however many are due at once


async def forget_processed_events(commands: Commands, settings: ServiceSettings, now: datetime) -> dict[str, Any]:
    """Deletes the event ids recorded longer ago than `processed_events_retention_s`, a batch a
    transaction. An id is needed only while its record can be delivered again: after a crash
    between the database commit and the offset commit (moments), or from the start of the topic
    when a group's committed offsets are gone (a group idle longer than the broker keeps them),
    never beyond the topic's retention. Kept for ever, a row per event consumed grows the table
    without bound: hundreds of millions of rows a month at a chain's peak."""
    cutoff = now - timedelta(seconds=settings.processed_events_retention_s)
    oldest = select(PROCESSED.c.event_id).where(PROCESSED.c.processed_at < cutoff).limit(FORGET_BATCH)
    deleted = 0
    while True:
        async with commands() as uow:
            result = await uow.session.exec(PROCESSED.delete().where(PROCESSED.c.event_id.in_(oldest)))
        deleted += int(result.rowcount or 0)
        if (result.rowcount or 0) < FORGET_BATCH:
            return {"deleted": deleted}


@dataclass(frozen=True)
class Delivery:
    """One parsed event and the payload model its type maps to."""

    envelope: Envelope
    payload: BaseModel


class ForeignEvent(ValueError):
    """An event type on a topic its owner does not publish to: forged or misrouted."""


class UnknownEventType(ValueError):
    """A type the registry does not know, where it cannot be a newer version of the topic's owner."""


# Failures of the infrastructure rather than of the event: never a reason to dead-letter (`is_transient`).
TRANSIENT = (OperationalError, InterfaceError, OSError, TimeoutError)
# SQLSTATE classes of a database that is away or asks for the transaction again: connection
# exceptions (08), insufficient resources (53: too many connections, disk full), operator
# intervention (57: shutting down or starting up, terminated by an administrator) and transaction
# rollback (40: deadlock, serialization failure).
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "40"})
# Failures of the event itself, known before any handler runs: dead-lettered at once, no retries.
REJECTED = (UnreadableEvent, ValidationError, ForeignEvent, UnknownEventType, InvalidCredential)
# A dead letter's error header: enough to triage, bounded so a huge validation message cannot
# bloat the record.
DLQ_ERROR_MAX = 1000


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is a failure of the infrastructure rather than of the event: the consumer
    reconnects and the event is redelivered, however long it takes. SQLAlchemy's asyncpg dialect
    raises most server errors as a plain DBAPIError, not as OperationalError, a restarting
    PostgreSQL's among them: those are told by their SQLSTATE, or by the connection they broke."""
    if isinstance(exc, TRANSIENT):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or _sqlstate(exc)[:2] in TRANSIENT_SQLSTATE_CLASSES


def _sqlstate(exc: DBAPIError) -> str:
    """The SQLSTATE of the driver's error, or "": SQLAlchemy's asyncpg adapter copies it from the
    asyncpg error, which it keeps as the adapter error's cause."""
    for error in (exc.orig, exc.orig.__cause__ if exc.orig is not None else None):
        code = getattr(error, "sqlstate", None)
        if isinstance(code, str):
            return code
    return ""


Handler = Callable[[UnitOfWork, Delivery], Awaitable[None]]


def in_turn(*steps: Handler) -> Handler:
    """One handler that runs `steps` one after the other in the same transaction: for an event
    type two parts of a service act on (each step sees what the earlier ones wrote)."""

    async def handler(uow: UnitOfWork, delivery: Delivery) -> None:
        for step in steps:
            await step(uow, delivery)

    return handler

# Applies a run of consecutive events of one type in one go (one account look-up, multi-row
# inserts): same transaction and dedupe as per-event handlers, far fewer round trips.
BatchHandler = Callable[[UnitOfWork, list[Delivery]], Awaitable[None]]


async def _all_or_first_error(tasks: list[asyncio.Task[None]]) -> None:
    """Waits for every task. The first failure cancels the others and is raised as it is (the
    caller reconnects, and whatever was not committed is redelivered); cancelling the wait
    cancels them all."""
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION) if tasks else (set(), set())
        for task in done:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _cancelled(task: asyncio.Task[None] | None) -> None:
    """Cancels `task` and waits for it to end, whatever it ends with (the caller is already
    handling a failure, or stopping)."""
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# A record's position, the key of its parsed form; and what parsing made of it: the event to
# apply, None to skip it, or the reason to dead-letter it.
_At = tuple[str, int, int]
_Parsed = Delivery | None | Exception
# About a millisecond of parsing between two looks at the database's answers.
_PARSED_BETWEEN_YIELDS = 32


def _at(record: ConsumerRecord) -> _At:
    return record.topic, record.partition, record.offset


@contextlib.contextmanager
def _correlated(value: str | None) -> Iterator[None]:
    """The log lines inside carry `value` as their correlation id."""
    token = correlation_id.set(value)
    try:
        yield
    finally:
        correlation_id.reset(token)


def _published_at(record: ConsumerRecord) -> datetime | None:
    """The record timestamp: when the event was written (CreateTime, which the relay sets to the
    event's time), the moment its credential is judged at; None when the record has none. One that
    is no time, as from a producer writing microseconds, makes the record unreadable: judged at
    another time, a till's credential would be checked at a moment the till never wrote it."""
    at = record_time(record.timestamp)
    if at is None and record.timestamp and record.timestamp > 0:
        raise UnreadableEvent(f"record timestamp {record.timestamp} is not a time in milliseconds")
    return at


def _readable_timestamp(record: ConsumerRecord) -> int | None:
    """The record's timestamp if it is a time, else None."""
    return record.timestamp if record_time(record.timestamp) is not None else None


class EventConsumer:
    def __init__(
        self,
        settings: ServiceSettings,
        sessions: async_sessionmaker[AsyncSession],
        handlers: dict[str, Handler],
        on_commit: Callable[[], None] = lambda: None,
        batch_handlers: dict[str, BatchHandler] | None = None,
        clock: Clock = utc_now,
        own_skipped: frozenset[str] = frozenset(),
    ) -> None:
        """`own_skipped`: types this service publishes itself and reads for the events others publish
        of them (the gateway's POS sales, which a till may also publish straight to Kafka). Its own,
        whose `ce_source` header is its, it applied as it published them: they are skipped unparsed."""
        self.settings = settings
        self.own_skipped = own_skipped
        self.own_source = source_of(settings.service_name).encode()
        self.clock = clock
        self.sessions = sessions
        self.handlers = handlers
        self.batch_handlers = batch_handlers or {}
        # Every type this consumer applies, one at a time or a run at a time: what it subscribes
        # to, and what it does not skip.
        self.handled = frozenset(handlers) | frozenset(self.batch_handlers)
        self.on_commit = on_commit
        self.topics = sorted({settings.topic(REGISTRY[t].topic) for t in self.handled})
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq: AIOKafkaProducer | None = None
        self._verifier: TokenVerifier | None = None
        self.connected = False
        # What made the consumer reconnect last (`shared.retry.failure_reason`), for its readiness.
        self.failure: str | None = None
        # Checked by the loop as well as cancelling it: a cancellation can be swallowed inside a
        # client library (asyncio.wait_for on Python 3.11), and the loop must still end.
        self.stopping = False

    @property
    def assigned(self) -> bool:
        return bool(self._consumer and self._consumer.assignment())

    async def run(self) -> None:
        backoff = Backoff()
        # A fetch's transaction, applying while the next fetch is taken and parsed.
        applying: asyncio.Task[None] | None = None
        try:
            while not self.stopping:
                try:
                    await self._connect()
                    batch, parsed = await self._next_fetch(applying)
                    applying = asyncio.create_task(self._apply_then_reset(batch, parsed, backoff))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # broker or database away: nothing committed, redelivered later
                    await _cancelled(applying)
                    applying = None
                    delay = backoff.next()
                    self.failure = failure_reason(exc)
                    log.warning("consumer failed, reconnecting in %.1fs: %s", delay, exc)
                    await self.stop()
                    await asyncio.sleep(delay)
            if applying is not None:  # asked to stop: the fetch in hand is finished, not dropped
                task, applying = applying, None
                await task
        finally:
            await _cancelled(applying)

    async def _apply_then_reset(self, batch: dict[TopicPartition, list[ConsumerRecord]], parsed: dict[_At, _Parsed], backoff: Backoff) -> None:
        """`_apply_and_commit`, then the reconnect backoff started over once records went through.
        Not as soon as a fetch comes back: a broker that answers says nothing of the database, and
        while it is away every reconnect would wait the first step again, a group join every 0.2 s."""
        await self._apply_and_commit(batch, parsed)
        if batch:
            backoff.reset()

    @property
    def _fetch_size(self) -> int:
        """Enough for a batch per partition applied at once (see _apply_and_commit)."""
        return self.settings.consumer_batch_size * self.settings.consumer_partitions_in_flight

    async def _next_fetch(self, applying: asyncio.Task[None] | None) -> tuple[dict[TopicPartition, list[ConsumerRecord]], dict[_At, _Parsed]]:
        """The next fetch and its records parsed, taken while `applying` (the fetch before) goes on,
        and returned once that one is committed; its failure is raised."""
        consumer = self._consumer
        assert consumer is not None
        batch = await consumer.getmany(timeout_ms=500, max_records=self._fetch_size)
        parsed = await self._parse_fetch(batch)
        if applying is not None:
            await applying
            # A rebalance meanwhile (a replica joining or leaving) moved the partitions' positions
            # back to their committed offsets, or took partitions away: what was taken before it
            # is fetched again from there, in order, and is not applied now. Applying it could put
            # a partition's later records before earlier ones the fetch before left out as revoked.
            for tp, records in list(batch.items()):
                if not await self._follows(tp, records[-1].offset):
                    del batch[tp]
            # Taken while that fetch applied, this one holds what the client had buffered by then:
            # in a backlog often a fraction of a fetch, at a live trickle the first few records
            # to arrive. Topped up with what arrived meanwhile, or its transaction would be smaller
            # and cost more a record.
            if (room := self._fetch_size - sum(len(records) for records in batch.values())) > 0:
                more = await consumer.getmany(timeout_ms=0, max_records=room)
                parsed |= await self._parse_fetch(more)
                for tp, records in more.items():
                    batch.setdefault(tp, []).extend(records)
        if not batch:
            await self._rewind_if_log_lost()
        return batch, parsed

    async def _follows(self, tp: TopicPartition, offset: int) -> bool:
        """Whether the consumer's position in `tp` is still just after `offset` (see _next_fetch)."""
        assert self._consumer is not None
        try:
            position: int = await self._consumer.position(tp)
        except IllegalStateError:  # no longer assigned to this replica
            return False
        return position == offset + 1

    async def _parse_fetch(self, batch: dict[TopicPartition, list[ConsumerRecord]]) -> dict[_At, _Parsed]:
        """Every record of a fetch parsed (`_parse`), keyed by its position. The event loop is given
        back every few records, for the fetch applying meanwhile (`run`)."""
        parsed: dict[_At, _Parsed] = {}
        for records in batch.values():
            for record in records:
                # Any failure, not only the expected ones (REJECTED): parsing reads the record and
                # nothing else (the key is loaded in `_connect`), so whatever it raises is that
                # record's doing. Raised out of here, it would reconnect the consumer, fetch the
                # same record again and stall every partition for good.
                try:
                    parsed[_at(record)] = self._parse(record)
                except Exception as exc:
                    parsed[_at(record)] = exc
                if len(parsed) % _PARSED_BETWEEN_YIELDS == 0:
                    await asyncio.sleep(0)
        return parsed

    async def _apply_and_commit(self, batch: dict[TopicPartition, list[ConsumerRecord]], parsed: dict[_At, _Parsed]) -> None:
        """Applies a fetched batch, committing each partition's offset after its records. Replicas
        share the partitions, and a rebalance (a replica joining, leaving or dying) can take a
        partition away at any moment: records of a partition no longer ours are left to its new
        owner, which reads from the last committed offset; an offset the group no longer accepts
        from us is dropped, and the new owner skips what we applied by event id. Neither is a
        failure: reconnecting would only leave the group and start another rebalance, failing the
        other replicas' commits in turn.

        The partitions are dealt into `consumer_partitions_in_flight` lanes. A lane applies its
        partitions' records together, `consumer_batch_size` at a time, each run in one transaction,
        and each partition's records in their order: a transaction's fixed cost (its statements'
        round trips, the dedupe look-up) is paid once for what several partitions brought, not
        once per partition, which at a live trickle meant transactions of a few events each.
        Lanes run at once, so that one lane's events are parsed and booked while another's wait
        for the database. Events of different partitions have no order between them (a member's
        events share one), and replicas sharing the partitions run such transactions side by side
        anyway."""
        consumer = self._consumer
        assert consumer is not None
        size = self.settings.consumer_batch_size
        in_order = sorted(batch.items(), key=lambda item: (item[0].topic, item[0].partition))
        lanes = [in_order[i::self.settings.consumer_partitions_in_flight] for i in range(self.settings.consumer_partitions_in_flight)]

        async def apply_lane(partitions: list[tuple[TopicPartition, list[ConsumerRecord]]]) -> None:
            records = [r for _, rs in partitions for r in rs]
            revoked: set[TopicPartition] = set()
            for start in range(0, len(records), size):
                assigned = consumer.assignment()
                for tp, _ in partitions:
                    if tp not in assigned and tp not in revoked:
                        revoked.add(tp)
                        left = sum(1 for r in records[start:] if (r.topic, r.partition) == tp)
                        log.info("%d records of %s left to its new owner: the partition was revoked", left, tp)
                chunk = records[start:start + size]
                if revoked:
                    chunk = [r for r in chunk if (r.topic, r.partition) not in revoked]
                if not chunk:
                    continue
                await self._process(chunk, parsed)
                # The last record of each partition wins; a partition revoked meanwhile is left
                # out, or the group would refuse the others' offsets with it.
                last = {(r.topic, r.partition): r.offset for r in chunk}
                assigned = consumer.assignment()
                offsets = {tp: last[tp] + 1 for tp, _ in partitions if tp in last and tp in assigned}
                if not offsets:
                    continue
                try:
                    await consumer.commit(offsets)
                except (CommitFailedError, IllegalStateError) as exc:
                    log.info("offsets %s not committed, the group rebalanced: %s", offsets, exc)

        await _all_or_first_error([asyncio.create_task(apply_lane(lane)) for lane in lanes if lane])

    async def _rewind_if_log_lost(self) -> None:
        """A position past the log end means the broker lost its log (Tansu keeps it in memory)
        and may even hold our old offsets as committed: read the new log from its start; what
        was already applied is skipped by event id."""
        consumer = self._consumer
        assert consumer is not None
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            if end is not None and await consumer.position(tp) > end:
                log.error("position of %s is past the log end %d: the broker lost its log; rewinding", tp, end)
                consumer.seek(tp, 0)

    async def stop(self) -> None:
        consumer, dlq, self._consumer, self._dlq = self._consumer, self._dlq, None, None
        self.connected = False
        await close_quietly(consumer)
        await close_quietly(dlq)

    async def _connect(self) -> None:
        if self._consumer is not None:
            return
        # The key till credentials are checked with is the service's, not a record's: missing, it
        # fails here, before the group is joined, and is retried like a broker away. Found missing
        # while parsing, it would have every sale dead-lettered (`_parse_fetch`), and a replica
        # without it joining the group would take partitions from those that have it.
        if any(REGISTRY[t].credential is not None for t in self.handled):
            self.verifier()
        await ensure_topics(self.settings, set(self.topics) | {self.settings.topic(Topics.DEAD_LETTER)})
        # Kept on self before starting, so stop() closes them even if start-up is interrupted.
        self._dlq = make_producer(self.settings)
        await self._dlq.start()
        self._consumer = make_consumer(self.settings, self.topics)
        await self._consumer.start()
        self.connected = True

    async def _process(self, records: list[ConsumerRecord], parsed: dict[_At, _Parsed]) -> None:
        """Applies records parsed by `_parse_fetch`: the rejected ones are dead-lettered here, in
        their turn, so that nothing of a fetch takes effect before the fetch before it is applied."""
        deliveries: list[tuple[ConsumerRecord, Delivery]] = []
        for record in records:
            outcome = parsed[_at(record)]
            if isinstance(outcome, Exception):
                await self._dead_letter(record, outcome)
            elif outcome is not None:
                deliveries.append((record, outcome))
        if not deliveries:
            return
        try:
            await self.apply_batch([d for _, d in deliveries])
        except Exception:  # one bad event fails the whole batch: find it by applying them one by one
            log.warning("batch of %d failed, retrying events one by one", len(deliveries), exc_info=True)
            for record, delivery in deliveries:
                await self._apply_one_with_retries(record, delivery)

    def _parse(self, record: ConsumerRecord) -> Delivery | None:
        if self._handled_elsewhere(record):
            return None
        return self.delivery(from_kafka(record.value, record.headers), topic=record.topic, published_at=_published_at(record))

    def _handled_elsewhere(self, record: ConsumerRecord) -> bool:
        """Whether the record's `ce_type` header names a type of its topic that this service does
        not handle, or one of `own_skipped` its `ce_source` says it published: skipped before its
        value is parsed. A service reading a topic for one type (the
        sender, campaigns' own topic for its requests) would otherwise decode every coupon a launch
        issued only to drop it."""
        headers = record.headers or ()
        kind = next((v for k, v in headers if k == "ce_type"), None)
        spec = REGISTRY.get(kind.decode("utf-8", "replace")) if kind is not None else None
        if spec is not None and spec.type in self.own_skipped and ("ce_source", self.own_source) in headers:
            EVENTS_SKIPPED.labels(self.settings.service_name).inc()
            return True
        if spec is None or spec.type in self.handled:
            return False
        if self.settings.topic(spec.topic) != record.topic:
            return False  # the wrong topic: dead-lettered by `delivery`, as a parsed one would be
        EVENTS_SKIPPED.labels(self.settings.service_name).inc()
        return True

    def delivery(self, envelope: Envelope, *, topic: str | None = None, published_at: datetime | None = None) -> Delivery | None:
        """The envelope with its payload validated and its credential checked, or None for a type
        this service skips; raises one of REJECTED for an event to dead-letter (rules in the module
        docstring). `topic` is the record's (prefixed) topic; without it, as when tests hand events
        to the consumer directly, the type's own topic is assumed. `published_at` defaults to now."""
        spec = REGISTRY.get(envelope.type)
        if topic is None:
            if spec is None:
                raise UnknownEventType(f"unknown event type {envelope.type}")
            topic = self.settings.topic(spec.topic)
        if spec is None:
            home = topic.removeprefix(self.settings.kafka_topic_prefix)
            if home in EXTERNAL_TOPICS or namespace(envelope.type) not in REGISTRY.namespaces(home):
                raise UnknownEventType(f"unknown event type {envelope.type} on {home}")
            self._skip(envelope, "newer than this consumer")
            return None
        if self.settings.topic(spec.topic) != topic:
            raise ForeignEvent(f"{envelope.type} is published on {spec.topic} only, not on {topic}")
        if envelope.type not in self.handled:
            self._skip(envelope, "handled by other consumers")
            return None
        payload = spec.model.model_validate(envelope.data)
        if spec.credential is not None:
            spec.credential(self.verifier(), envelope, payload, published_at or datetime.now(UTC))
        return Delivery(envelope, payload)

    def _skip(self, envelope: Envelope, why: str) -> None:
        EVENTS_SKIPPED.labels(self.settings.service_name).inc()
        log.info("skipping event type %s (%s): %s", envelope.type, envelope.id, why)
        return None

    def verifier(self) -> TokenVerifier:
        """Built on first use: only consumers of credentialed types need the public key."""
        if self._verifier is None:
            s = self.settings
            self._verifier = TokenVerifier(s.resolved_public_key(), s.jwt_issuer, s.jwt_audience)
        return self._verifier

    async def apply_batch(self, deliveries: list[Delivery]) -> None:
        """Apply events exactly once in effect: dedupe and effects share one transaction."""
        emitted = False
        async with UnitOfWork(self.sessions, self.settings.service_name, self.settings, clock=self.clock) as uow:
            now = datetime.now(UTC)  # bookkeeping on the wall clock, not the service's clock
            # Insert first, then keep what was inserted: the unique index answers, whatever plan the
            # server holds. A look-up of the ids first (`= ANY(:ids)`) could run on a generic plan made
            # while the table was nearly empty, a sequential scan, until autovacuum first analyzed
            # it. A replica holding the same event in an open transaction makes this one wait for
            # its outcome rather than fail on the unique key.
            rows = {d.envelope.id: {"event_id": d.envelope.id, "event_type": d.envelope.type, "processed_at": now} for d in deliveries}
            recorded = set(await insert_or_skip(uow.session, PROCESSED, list(rows.values()), conflict_on=["event_id"], returning="event_id"))
            fresh: list[Delivery] = []
            for delivery in deliveries:
                env = delivery.envelope
                if env.id not in recorded:
                    EVENTS_DUPLICATE.labels(self.settings.service_name).inc()
                    continue
                recorded.discard(env.id)  # the same event twice inside one batch
                fresh.append(delivery)
            start = 0
            while start < len(fresh):
                # Runs keep the order between types (a member's sale before its return). A run is
                # the events of one type, or of several types given the same batch handler (a
                # read model taking a member's registration and consents together, in order).
                kind = fresh[start].envelope.type
                end = start + 1
                batch = self.batch_handlers.get(kind)
                if batch is not None:
                    while end < len(fresh) and self.batch_handlers.get(fresh[end].envelope.type) is batch:
                        end += 1
                    uow.correlation_id = None
                    await batch(uow, fresh[start:end])
                else:
                    await self._apply_one(uow, fresh[start])
                start = end
            emitted = uow.emitted
        # Counted per type rather than per event: a label look-up per event cost more than its booking.
        for kind, count in Counter(d.envelope.type for d in deliveries).items():
            EVENTS_APPLIED.labels(self.settings.service_name, kind).inc(count)
        if emitted:
            self.on_commit()

    async def _apply_one(self, uow: UnitOfWork, delivery: Delivery) -> None:
        env = delivery.envelope
        with _correlated(env.correlationid or env.id):
            uow.correlation_id = env.correlationid or env.id
            await self.handlers[env.type](uow, delivery)

    async def _apply_one_with_retries(self, record: ConsumerRecord, delivery: Delivery) -> None:
        for attempt in range(1, self.settings.consumer_max_attempts + 1):
            try:
                await self.apply_batch([delivery])
                return
            except Exception as exc:  # counted, then dead-lettered
                if is_transient(exc):
                    raise  # the database is away: reconnect and redeliver, this is no poison message
                # Under the event's correlation id, as its handler's lines are: they are the lines
                # whoever follows a till's request through the logs is looking for.
                with _correlated(delivery.envelope.correlationid or delivery.envelope.id):
                    log.warning("event %s failed (attempt %d): %s", delivery.envelope.id, attempt, exc)
                    if attempt == self.settings.consumer_max_attempts:
                        await self._dead_letter(record, exc)
                        return
                await asyncio.sleep(0.05 * attempt)

    async def _dead_letter(self, record: ConsumerRecord, exc: BaseException) -> None:
        assert self._dlq is not None
        # Without the record's null-valued headers (the same as absent to `from_kafka`): readers of
        # the dead letters decode every header value.
        kept = [(k, v) for k, v in record.headers or () if v is not None]
        headers = [*kept, ("dlq_error", f"{type(exc).__name__}: {exc}"[:DLQ_ERROR_MAX].encode()), ("dlq_consumer_group", self.settings.consumer_group.encode()), ("dlq_original_topic", record.topic.encode()), ("dlq_original_partition", str(record.partition).encode()), ("dlq_original_offset", str(record.offset).encode()), ("dlq_failed_at", datetime.now(UTC).isoformat().encode())]
        # Awaited to the broker's ack: the offset of the poison record is committed only after
        # the dead letter is safely stored. It keeps the record's timestamp (the failure's time is
        # dlq_failed_at), for a replay to be stamped with: a POS event's till credential is judged
        # at the record's timestamp, and the till's token has long expired when an operator replays.
        # A timestamp that is no time is left to the broker to set: readers take it for one.
        await self._dlq.send_and_wait(
            self.settings.topic(Topics.DEAD_LETTER), value=record.value, key=record.key, headers=headers,
            timestamp_ms=_readable_timestamp(record),
        )
        EVENTS_DEAD_LETTERED.labels(self.settings.service_name).inc()
        # The traceback stays here, in the service's own log, never in the dead letter. An event
        # refused before it was read (no credential, not JSON) is named by its headers, if it has them.
        named = {k: v.decode("utf-8", "replace") for k, v in kept if k in ("ce_id", "ce_correlationid")}
        with _correlated(named.get("ce_correlationid") or named.get("ce_id") or correlation_id.get()):
            log.error("event %s at %s[%d]@%d dead-lettered: %s", named.get("ce_id", "(no id)"), record.topic,
                      record.partition, record.offset, exc, exc_info=exc)

    async def lag(self) -> dict[str, int]:
        """Records between our position and the log end, summed per topic (for /health and metrics)."""
        consumer = self._consumer
        if consumer is None or not consumer.assignment():
            return {}
        totals: dict[str, int] = {}
        for tp in consumer.assignment():
            # The high watermark of the last fetch; Tansu's ListOffsets answer undercounts batches.
            end = consumer.highwater(tp)
            if end is None:
                continue
            position = await consumer.position(tp)
            totals[tp.topic] = totals.get(tp.topic, 0) + max(0, end - position)
        return totals

