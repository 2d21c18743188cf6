"""A dead letter for the demo's operators to find on the console and replay: the registration of one
of the demo's customers, as members announced it, dead-lettered as points would have left it had its
database been locked at the time.

Replaying it is what an operator does once such an outage is over, and here it is safe to try: the
record is the announced one, its event id included, and points and the other consumers of the
members topic, which took it when it was announced, apply an event once (they dedupe by event id).
A made-up registration would instead open accounts, in every service that reads the topic, for a
customer members does not have.

Planted once per broker log: the embedded broker keeps its log in memory, so a fresh
`crm run --demo` plants it again, from a registration members announces again."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from shared.events.registry import MEMBER_REGISTERED, Topics

GROUP = "points"
ERROR = "OperationalError: database is locked"


def plant_demo_dead_letter(bootstrap: str) -> bool:
    """True when planted now; False when the broker holds it already, or holds no registration yet
    to make it of."""
    return asyncio.run(_plant(bootstrap))


async def _plant(bootstrap: str) -> bool:
    if await _first(bootstrap, Topics.DEAD_LETTER, _is_demo_letter) is not None:
        return False
    registration = await _first(bootstrap, Topics.MEMBERS, lambda r: _header(r, "ce_type") == MEMBER_REGISTERED)
    if registration is None:
        return False
    # What a consumer adds to the record it gives up on (shared.consumer), which is kept as it was.
    headers = [
        *(registration.headers or ()),
        ("dlq_error", ERROR.encode()), ("dlq_consumer_group", GROUP.encode()),
        ("dlq_original_topic", Topics.MEMBERS.encode()), ("dlq_original_partition", str(registration.partition).encode()),
        ("dlq_original_offset", str(registration.offset).encode()), ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(Topics.DEAD_LETTER, value=registration.value, key=registration.key,
                                     headers=headers, timestamp_ms=registration.timestamp)
    finally:
        await producer.stop()
    return True


def _is_demo_letter(record: ConsumerRecord) -> bool:
    return (_header(record, "ce_type") == MEMBER_REGISTERED and _header(record, "dlq_consumer_group") == GROUP
            and _header(record, "dlq_error") == ERROR)


def _header(record: ConsumerRecord, name: str) -> str | None:
    value = dict(record.headers or ()).get(name)
    return value.decode(errors="replace") if value is not None else None


async def _first(bootstrap: str, topic: str, wanted: Callable[[ConsumerRecord], bool]) -> ConsumerRecord | None:
    """The first record of `topic` that is `wanted`, read from the start; None if there is none."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = (await reader.topics()) and reader.partitions_for_topic(topic)
        if not partitions:
            return None
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        reader.assign(assigned)
        await reader.seek_to_beginning(*assigned)
        while batch := await reader.getmany(timeout_ms=500):
            for records in batch.values():
                if (found := next((r for r in records if wanted(r)), None)) is not None:
                    return found
        return None
    finally:
        await reader.stop()
