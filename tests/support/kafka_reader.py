"""Reading a topic from the start with a plain consumer, as an outside observer would."""

import time

from aiokafka import AIOKafkaConsumer, ConsumerRecord


async def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 30.0,
                     then_wait: float = 0.0) -> list[ConsumerRecord]:
    """Reads until `expected` records are in or `timeout` passes. With `then_wait`, goes on reading
    that long after the expected records are in, so that a test can assert there is no record beyond
    them (a duplicate) without waiting the whole `timeout` for one that must never come."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + timeout
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
        if then_wait > 0 and len(records) >= expected:
            grace = time.monotonic() + then_wait
            while time.monotonic() < grace:
                batch = await consumer.getmany(timeout_ms=max(1, int((grace - time.monotonic()) * 1000)))
                for recs in batch.values():
                    records.extend(recs)
    finally:
        await consumer.stop()
    return records
