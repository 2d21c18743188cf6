"""The dead-letter topic as the console reads it, and the producer that replays its records.

Reading takes every partition from its start until a fetch comes back empty, rather than up to the
high watermark the broker reports (Tansu's can be wrong after batched produces). The topic is
small in a healthy platform; `limit` bounds the cost of reading one that is not. Reading and
replaying log in as the operator (`adapters.operator_kafka`): the topic and the replays' targets
belong to other services."""

import asyncio
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from gateway.adapters.operator_kafka import operator_settings
from gateway.config import Settings
from gateway.domain.dead_letters import BrokerAway, DeadLetter
from shared.events.registry import Topics
from shared.kafka import client_kwargs, close_quietly, make_producer

# An empty fetch of this long ends the reading: the log end has been reached.
QUIET_MS = 400


class DeadLetterTopic:
    def __init__(self, settings: Settings) -> None:
        self.settings = operator_settings(settings)
        self.topic = settings.topic(Topics.DEAD_LETTER)
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def read(self, limit: int) -> list[DeadLetter]:
        """Every dead letter (oldest first per partition), at most `limit`."""
        consumer = AIOKafkaConsumer(
            **client_kwargs(self.settings), client_id=f"{self.settings.service_name}-console", group_id=None,
            enable_auto_commit=False, auto_offset_reset="earliest",
        )
        try:
            await consumer.start()
            partitions = (await consumer.topics()) and consumer.partitions_for_topic(self.topic)
            if not partitions:
                return []
            assigned = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            found: list[DeadLetter] = []
            while len(found) < limit:
                batch = await consumer.getmany(timeout_ms=QUIET_MS, max_records=500)
                if not batch:
                    break
                for records in batch.values():
                    found += [_letter(r) for r in records]
        except KafkaError as exc:  # away, or (on a cluster with ACLs) not allowed to read the topic
            raise BrokerAway(f"the dead letters cannot be read: {type(exc).__name__}: {exc}"[:300]) from exc
        finally:
            await close_quietly(consumer)
        found.sort(key=lambda d: (d.partition, d.offset))
        return found[:limit]

    async def republish(self, letter: DeadLetter) -> tuple[int, int]:
        """Sends the record back to its original topic and waits for the broker's acknowledgement
        (acks=all); (partition, offset) where it landed."""
        producer = await self._started()
        sent = await producer.send_and_wait(
            letter.original_topic, value=letter.value, key=letter.key.encode() if letter.key is not None else None,
            headers=letter.replay_headers(),
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


def _letter(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    timestamp, key = record.timestamp, record.key
    return DeadLetter(
        partition=record.partition, offset=record.offset,
        key=key.decode("utf-8", "replace") if key is not None else None,
        headers=tuple((k, v.decode("utf-8", "replace")) for k, v in record.headers or ()),
        value=record.value or b"",
        written_at=datetime.fromtimestamp(timestamp / 1000, UTC) if timestamp and timestamp > 0 else None,
    )
