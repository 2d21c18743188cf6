"""A dead letter for the demo's operators to find on the console and replay: a customer's
registration that points gave up on (its database was locked), as the consumer would have
dead-lettered it. Once replayed, points opens the customer's account.

Planted once per broker log: the embedded broker keeps its log in memory, so a fresh
`crm run --demo` plants it again, under the same event id (points applies it once however often
it is replayed)."""

import asyncio
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.events.binding import to_kafka
from shared.events.contracts.members import MemberRegisteredV1
from shared.events.envelope import new_event
from shared.events.registry import MEMBER_REGISTERED, Topics

EVENT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "crm-demo/dead-letter/registration"))
MEMBER_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "crm-demo/dead-letter/member"))


def plant_demo_dead_letter(bootstrap: str) -> bool:
    """True when planted now, False when the broker holds it already."""
    return asyncio.run(_plant(bootstrap))


async def _plant(bootstrap: str) -> bool:
    if await _planted(bootstrap):
        return False
    payload = MemberRegisteredV1(member_id=MEMBER_ID, card_no="8800990000001", channel="retail", home_store_id="S001",
                                 registered_at=datetime.now(UTC))
    value, headers = to_kafka(new_event(MEMBER_REGISTERED, payload, source="members", subject=MEMBER_ID, event_id=EVENT_ID))
    headers += [
        ("dlq_error", b"OperationalError: database is locked"), ("dlq_consumer_group", b"points"),
        ("dlq_original_topic", Topics.MEMBERS.encode()), ("dlq_original_partition", b"0"),
        ("dlq_original_offset", b"0"), ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(Topics.DEAD_LETTER, value=value, key=MEMBER_ID.encode(), headers=headers)
    finally:
        await producer.stop()
    return True


async def _planted(bootstrap: str) -> bool:
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await reader.start()
    try:
        partitions = (await reader.topics()) and reader.partitions_for_topic(Topics.DEAD_LETTER)
        if not partitions:
            return False
        assigned = [TopicPartition(Topics.DEAD_LETTER, p) for p in partitions]
        reader.assign(assigned)
        await reader.seek_to_beginning(*assigned)
        while batch := await reader.getmany(timeout_ms=500):
            for records in batch.values():
                if any(dict(r.headers or ()).get("ce_id") == EVENT_ID.encode() for r in records):
                    return True
        return False
    finally:
        await reader.stop()
