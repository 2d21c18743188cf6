"""The dead-letter topic as the console reads it, and the producer that replays its records.

Reading takes every partition until a fetch comes back empty, rather than up to the high watermark
the broker reports (Tansu's can be wrong after batched produces). The topic is small in a healthy
platform; `limit` bounds the cost of reading one that is not, and it is the newest letters that
are kept: on a bad day the letters of the incident at hand are the ones an operator needs, not
those of months ago. So each partition is read from `limit` records before its reported end (an
end reported short only makes the read start earlier), and the page says when older ones were
left unread. Reading and replaying log in as the operator (`adapters.operator_kafka`): the topic
and the replays' targets belong to other services."""

import asyncio
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from gateway.adapters.consumer_lag import REQUEST_TIMEOUT_MS
from gateway.adapters.operator_kafka import operator_settings
from gateway.config import Settings
from gateway.domain.dead_letters import BrokerAway, DeadLetter
from shared.events.registry import Topics
from shared.kafka import client_kwargs, close_quietly, make_producer, record_time

# An empty fetch of this long ends the reading: the log end has been reached.
QUIET_MS = 400


@dataclass(frozen=True, slots=True)
class DeadLetterRead:
    letters: list[DeadLetter]
    older_left: bool  # the topic holds older dead letters than these, not read


class DeadLetterTopic:
    def __init__(self, settings: Settings) -> None:
        self.settings = operator_settings(settings)
        self.topic = settings.topic(Topics.DEAD_LETTER)
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        # One replay sends at a time on this replica: two started at once (a double click, two
        # operators) would each send what neither had marked yet. The second, let in after the
        # first, finds the letters marked and sends nothing. Replicas apart, a letter sent twice is
        # applied once: consumers dedupe by event id.
        self.replaying = asyncio.Lock()

    async def read(self, limit: int) -> DeadLetterRead:
        """The newest `limit` dead letters (by failure time), in order of partition and offset."""
        consumer = AIOKafkaConsumer(
            **client_kwargs(self.settings), client_id=f"{self.settings.service_name}-console", group_id=None,
            enable_auto_commit=False, auto_offset_reset="earliest", request_timeout_ms=REQUEST_TIMEOUT_MS,
        )
        try:
            await consumer.start()
            partitions = (await consumer.topics()) and consumer.partitions_for_topic(self.topic)
            if not partitions:
                return DeadLetterRead([], older_left=False)
            assigned = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            first, ends = await consumer.beginning_offsets(assigned), await consumer.end_offsets(assigned)
            older_left = False
            for tp in assigned:
                start = max(first[tp], ends[tp] - limit)
                older_left = older_left or start > first[tp]
                consumer.seek(tp, start)
            # Per partition, the last `limit` read: more arrive while reading in a flood of them.
            kept = {tp.partition: deque[DeadLetter](maxlen=limit) for tp in assigned}
            read = 0
            while read < 2 * limit * len(assigned):  # a flood must not keep the page reading
                batch = await consumer.getmany(timeout_ms=QUIET_MS, max_records=500)
                if not batch:
                    break
                for records in batch.values():
                    read += len(records)
                    kept[records[0].partition].extend(_letter(r) for r in records)
        except KafkaError as exc:  # away, or (on a cluster with ACLs) not allowed to read the topic
            raise BrokerAway(f"the dead letters cannot be read: {type(exc).__name__}: {exc}"[:300]) from exc
        finally:
            await close_quietly(consumer)
        found = [d for letters in kept.values() for d in letters]
        if len(found) > limit or len(found) < read:  # some were dropped for newer ones
            older_left = True
            found = sorted(found, key=_age)[-limit:]
        return DeadLetterRead(sorted(found, key=lambda d: (d.partition, d.offset)), older_left)

    async def republish(self, letter: DeadLetter) -> tuple[int, int]:
        """Sends the record back to its original topic, stamped with the event's time as the relay
        stamped it (`DeadLetter.event_time`), and waits for the broker's acknowledgement
        (acks=all); (partition, offset) where it landed."""
        producer = await self._started()
        at = letter.event_time
        sent = await producer.send_and_wait(
            letter.original_topic, value=letter.value, key=letter.key.encode() if letter.key is not None else None,
            headers=letter.replay_headers(), timestamp_ms=int(at.timestamp() * 1000) if at is not None else None,
        )
        return sent.partition, sent.offset

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = make_producer(self.settings)
                await producer.start()
                self._producer = producer
            return self._producer

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        await close_quietly(producer)


def _age(letter: DeadLetter) -> tuple[datetime, int, int]:
    return letter.failed_at or datetime.min.replace(tzinfo=UTC), letter.partition, letter.offset


def _letter(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    key = record.key
    return DeadLetter(
        partition=record.partition, offset=record.offset,
        key=key.decode("utf-8", "replace") if key is not None else None,
        # Any producer may write the topic: a header without a value is none, a timestamp that is
        # no time is none (as the consumers take them).
        headers=tuple((k, v.decode("utf-8", "replace")) for k, v in record.headers or () if v is not None),
        value=record.value or b"",
        written_at=record_time(record.timestamp),
    )
