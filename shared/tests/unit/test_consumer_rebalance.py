"""A rebalance between a fetch and its commit: the consumer hands revoked partitions over quietly
instead of failing (and reconnecting, which would start yet another rebalance)."""

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from shared.consumer import EventConsumer
from shared.settings import ServiceSettings

A, B, C = (TopicPartition("t1.crm.members.events", p) for p in range(3))


def record(tp: TopicPartition, offset: int) -> ConsumerRecord:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, None, b"", None, 0, 0, [])


class Group:
    """The part of aiokafka's consumer the commit path uses, refusing commits as the broker does:
    for a partition not assigned, or every commit once the group has moved on (`commit_error`)."""

    def __init__(self, *assigned: TopicPartition, commit_error: Exception | None = None) -> None:
        self.assigned = set(assigned)
        self.commit_error = commit_error
        self.committed: dict[TopicPartition, int] = {}

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        for tp in offsets:
            if tp not in self.assigned:
                raise IllegalStateError(f"Partition {tp} is not assigned")
        if self.commit_error is not None:
            raise self.commit_error
        self.committed.update(offsets)


def consumer(
    group: Group, revoke: dict[TopicPartition, TopicPartition] | None = None, batch: int = 500,
) -> tuple[EventConsumer, list]:
    """An EventConsumer on `group` whose applied records are listed; while applying a batch that
    starts with a partition in `revoke`, the partition it maps to is revoked."""
    settings = ServiceSettings(service_name="test", kafka_topic_prefix="t1.", consumer_batch_size=batch)
    events = EventConsumer(settings, sessions=None, handlers={})  # type: ignore[arg-type]
    events._consumer = group  # type: ignore[assignment]
    applied: list[tuple[TopicPartition, int]] = []

    async def process(records: list[ConsumerRecord], parsed: object) -> None:
        applied.extend((TopicPartition(r.topic, r.partition), r.offset) for r in records)
        tp = TopicPartition(records[0].topic, records[0].partition)
        if revoke and tp in revoke:
            group.assigned.discard(revoke[tp])

    events._process = process  # type: ignore[method-assign]
    return events, applied


async def test_records_of_a_partition_revoked_after_the_fetch_are_left_to_its_new_owner() -> None:
    group = Group(A, B, C)
    events, applied = consumer(group, revoke={A: B}, batch=2)  # A's two records, then B's and C's
    await events._apply_and_commit({A: [record(A, 0), record(A, 1)], B: [record(B, 5)], C: [record(C, 7)]}, {})
    assert applied == [(A, 0), (A, 1), (C, 7)]
    assert group.committed == {A: 2, C: 8}


async def test_a_partition_revoked_while_its_records_are_applied_is_not_committed_and_the_rest_goes_on() -> None:
    group = Group(A, B)  # both in one batch, whose commit must then leave A out
    events, applied = consumer(group, revoke={A: A})
    await events._apply_and_commit({A: [record(A, 3)], B: [record(B, 4)]}, {})
    assert applied == [(A, 3), (B, 4)]
    assert group.committed == {B: 5}


async def test_a_commit_refused_after_a_rebalance_is_dropped_without_failing_the_consumer() -> None:
    group = Group(A, B, commit_error=CommitFailedError("the group has already rebalanced"))
    events, applied = consumer(group)
    await events._apply_and_commit({A: [record(A, 0)], B: [record(B, 0)]}, {})
    assert applied == [(A, 0), (B, 0)]
    assert group.committed == {}
    assert events._consumer is group, "still connected: no reconnect, no new rebalance"
