"""Lanes of partitions applied at once (`consumer_partitions_in_flight`): a lane's partitions share
each batch, every partition in order, and another lane is parsed and booked while the first waits
for the database."""

import asyncio

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from shared.consumer import EventConsumer
from shared.settings import ServiceSettings

A, B, C = (TopicPartition("t1.crm.members.events", p) for p in range(3))


def record(tp: TopicPartition, offset: int) -> ConsumerRecord:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, None, b"", None, 0, 0, [])


class Group:
    def __init__(self, *assigned: TopicPartition) -> None:
        self.assigned = set(assigned)
        self.commits: list[tuple[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.extend(offsets.items())


def consumer(group: Group, in_flight: int, batch: int = 500) -> tuple[EventConsumer, list[str]]:
    """An EventConsumer whose `_process` waits for the database (a sleep) between the start and the
    end of each batch, both listed."""
    settings = ServiceSettings(service_name="test", kafka_topic_prefix="t1.", consumer_partitions_in_flight=in_flight,
                               consumer_batch_size=batch)
    events = EventConsumer(settings, sessions=None, handlers={})  # type: ignore[arg-type]
    events._consumer = group  # type: ignore[assignment]
    steps: list[str] = []

    async def process(records: list[ConsumerRecord], parsed: object) -> None:
        parts = sorted({r.partition for r in records})
        name = "+".join(f"p{p}@{min(r.offset for r in records if r.partition == p)}-"
                        f"{max(r.offset for r in records if r.partition == p)}" for p in parts)
        steps.append(f"start {name}")
        if records[0].partition == 2:
            raise RuntimeError("database away")
        await asyncio.sleep(0.01)
        steps.append(f"end {name}")

    events._process = process  # type: ignore[method-assign]
    return events, steps


async def test_two_partitions_in_flight_overlap_and_each_keeps_its_order_and_batches() -> None:
    group = Group(A, B)
    events, steps = consumer(group, in_flight=2, batch=2)
    await events._apply_and_commit({A: [record(A, o) for o in range(3)], B: [record(B, 10)]}, {})
    assert steps[:2] == ["start p0@0-1", "start p1@10-10"], "B is booked while A waits for the database"
    assert [s for s in steps if "p0" in s] == ["start p0@0-1", "end p0@0-1", "start p0@2-2", "end p0@2-2"]
    assert sorted(group.commits) == [(A, 2), (A, 3), (B, 11)]
    assert group.commits.index((A, 2)) < group.commits.index((A, 3))


async def test_one_lane_applies_every_partition_in_shared_batches_each_in_order() -> None:
    group = Group(A, B)
    events, steps = consumer(group, in_flight=1, batch=3)
    await events._apply_and_commit({A: [record(A, 0), record(A, 1)], B: [record(B, 5), record(B, 6)]}, {})
    assert steps == ["start p0@0-1+p1@5-5", "end p0@0-1+p1@5-5", "start p1@6-6", "end p1@6-6"]
    assert group.commits == [(A, 2), (B, 6), (B, 7)]


async def test_a_failing_partition_stops_the_others_uncommitted_and_the_error_reaches_the_loop() -> None:
    group = Group(A, C)
    events, steps = consumer(group, in_flight=2)
    with pytest.raises(RuntimeError, match="database away"):
        await events._apply_and_commit({A: [record(A, 0)], C: [record(C, 0)]}, {})
    assert steps == ["start p0@0-0", "start p2@0-0"]
    assert group.commits == [], "A was cancelled before its commit: redelivered after the reconnect"
