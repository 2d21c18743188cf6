"""Planting a dead letter on the broker as a consumer that gave up on an event would have: the
original record (CloudEvent headers and JSON value) with the consumer's `dlq_*` headers."""

import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from shared.events.binding import to_kafka
from shared.events.contracts.members import MemberRegisteredV1
from shared.events.envelope import Envelope, new_event
from shared.events.registry import MEMBER_REGISTERED, Topics


def member_registered(member_id: str | None = None) -> Envelope:
    member_id = member_id or str(uuid.uuid4())
    payload = MemberRegisteredV1(member_id=member_id, card_no=f"C{uuid.uuid4().int % 10**10:010d}", channel="retail",
                                 home_store_id="S001", registered_at=datetime.now(UTC))
    return new_event(MEMBER_REGISTERED, payload, source="members", subject=member_id)


async def plant_dead_letter(bootstrap: str, prefix: str, envelope: Envelope, *, error: str = "OperationalError: database is locked",
                            group: str = "points", original_topic: str = Topics.MEMBERS) -> None:
    value, headers = to_kafka(envelope)
    headers += [
        ("dlq_error", error.encode()), ("dlq_consumer_group", f"{prefix}{group}".encode()),
        ("dlq_original_topic", f"{prefix}{original_topic}".encode()), ("dlq_original_partition", b"0"),
        ("dlq_original_offset", b"7"), ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(f"{prefix}{Topics.DEAD_LETTER}", value=value, key=(envelope.subject or "").encode(),
                                     headers=headers)
    finally:
        await producer.stop()
