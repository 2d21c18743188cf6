"""The consumer's loop parses a fetch while the fetch before it applies, and applies fetches
strictly one after the other: a failure stops everything after it uncommitted, and a rejected
record is dead-lettered in its turn, after the records fetched before it."""

import asyncio

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from shared.consumer import EventConsumer
from shared.events.binding import UnreadableEvent
from shared.settings import ServiceSettings

A = TopicPartition("t1.crm.members.events", 0)


def record(offset: int) -> ConsumerRecord:
    return ConsumerRecord(A.topic, A.partition, offset, 0, 0, None, b"", None, 0, 0, [])


class Group:
    """The part of aiokafka's consumer the loop uses: the fetches given, in turn, then nothing,
    at which point the consumer is asked to stop."""

    def __init__(self, steps: list[str], *fetches: list[int]) -> None:
        self.steps = steps
        self.fetches = list(fetches)
        self.commits: list[int] = []
        self.events: EventConsumer | None = None
        self.position_after: int | None = None  # the offset after the last record handed over

    def assignment(self) -> set[TopicPartition]:
        return {A}

    def highwater(self, tp: TopicPartition) -> int | None:
        return None

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
        if not self.fetches:
            assert self.events is not None
            self.events.stopping = True
            return {}
        offsets = self.fetches.pop(0)
        assert len(offsets) <= max_records
        self.steps.append(f"fetch {offsets[0]}-{offsets[-1]}")
        self.position_after = offsets[-1] + 1
        return {A: [record(o) for o in offsets]}

    async def position(self, tp: TopicPartition) -> int:
        assert self.position_after is not None
        return self.position_after

    def rebalance(self, committed: int) -> None:
        """A rebalance that gives the partition back to this consumer, from its committed offset."""
        self.steps.append(f"rebalance to {committed}")
        self.position_after = committed

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets[A])


def consumer(
    *fetches: list[int], batch: int = 2, failing: int | None = None, rejected: int | None = None, rebalance_at: int | None = None,
    broken: int | None = None,
) -> tuple[EventConsumer, Group, list[str]]:
    """An EventConsumer over `fetches` whose steps are listed: each record's parse, each batch's
    apply (which waits for the database, fails for a batch holding `failing`, and the first batch
    holding `rebalance_at` sees a rebalance back to its own first offset), each dead letter (the record
    at `rejected` does not parse, the one at `broken` breaks the parser) and each reconnect (which
    stops the loop)."""
    steps: list[str] = []
    group = Group(steps, *fetches)
    settings = ServiceSettings(service_name="test", kafka_topic_prefix="t1.", consumer_batch_size=batch)
    events = EventConsumer(settings, sessions=None, handlers={})  # type: ignore[arg-type]
    events._consumer = group  # type: ignore[assignment]
    group.events = events

    def parse(r: ConsumerRecord) -> object:
        steps.append(f"parse {r.offset}")
        if r.offset == rejected:
            raise UnreadableEvent("value is not JSON")
        if r.offset == broken:
            raise AttributeError("'NoneType' object has no attribute 'decode'")
        return r.offset

    async def apply_batch(offsets: list[int]) -> None:
        name = f"{offsets[0]}-{offsets[-1]}"
        steps.append(f"apply {name}")
        await asyncio.sleep(0.01)
        if rebalance_at in offsets and not any(s.startswith("rebalance") for s in steps):
            group.rebalance(committed=offsets[0])
        if failing in offsets:
            raise OSError("database away")
        steps.append(f"applied {name}")

    async def dead_letter(r: ConsumerRecord, exc: BaseException) -> None:
        steps.append(f"dead-letter {r.offset}")

    async def reconnect() -> None:
        steps.append("reconnect")
        events.stopping = True

    events._parse = parse  # type: ignore[assignment,method-assign]
    events.apply_batch = apply_batch  # type: ignore[assignment,method-assign]
    events._dead_letter = dead_letter  # type: ignore[method-assign]
    events.stop = reconnect  # type: ignore[method-assign]
    return events, group, steps


async def test_a_full_fetch_is_followed_by_the_next_parsed_while_it_applies() -> None:
    events, group, steps = consumer([0, 1], [2, 3])
    await asyncio.wait_for(events.run(), 5)
    assert steps.index("parse 2") < steps.index("applied 0-1"), "the next fetch is parsed while the first applies"
    assert [s for s in steps if s.startswith("appl")] == ["apply 0-1", "applied 0-1", "apply 2-3", "applied 2-3"]
    assert group.commits == [2, 4]


async def test_a_fetch_taken_while_one_applied_is_topped_up_to_a_full_batch_before_it_applies() -> None:
    events, group, steps = consumer([0, 1], [2], [3])
    await asyncio.wait_for(events.run(), 5)
    assert steps.index("fetch 3-3") > steps.index("applied 0-1"), "topped up with what arrived meanwhile"
    assert [s for s in steps if s.startswith("appl")] == ["apply 0-1", "applied 0-1", "apply 2-3", "applied 2-3"]
    assert group.commits == [2, 4]


async def test_a_fetch_taken_before_a_rebalance_is_not_applied_but_read_again_from_the_committed_offset() -> None:
    # The rebalance moves the position back to 0, where the group's commit stands (the first
    # fetch's own commit counted as refused): 2-3, taken before it, would come before 0-1 again.
    events, group, steps = consumer([0, 1], [2, 3], [0, 1], [2, 3], rebalance_at=0)
    await asyncio.wait_for(events.run(), 5)
    assert steps.index("rebalance to 0") < steps.index("fetch 0-1", 1)
    applied = [s for s in steps if s.startswith("apply ")]
    assert applied == ["apply 0-1", "apply 0-1", "apply 2-3"], "0-1 again (deduped by event id), then 2-3, in order"
    assert group.commits == [2, 2, 4]


async def test_at_a_trickle_the_first_records_to_arrive_are_topped_up_with_the_rest() -> None:
    events, group, steps = consumer([0], [1], [2])
    await asyncio.wait_for(events.run(), 5)
    assert steps.index("parse 1") < steps.index("applied 0-0"), "what arrived first is parsed while 0 applies"
    assert [s for s in steps if s.startswith("appl")] == ["apply 0-0", "applied 0-0", "apply 1-2", "applied 1-2"]
    assert group.commits == [1, 3]


async def test_a_failed_fetch_leaves_the_next_one_parsed_but_not_applied_and_nothing_committed() -> None:
    events, group, steps = consumer([0, 1], [2, 3], failing=1)
    await asyncio.wait_for(events.run(), 5)
    assert "parse 2" in steps
    # The batch, then its events one by one (the retry for a poison event), stopping at the failure.
    assert [s for s in steps if s.startswith("appl")] == ["apply 0-1", "apply 0-0", "applied 0-0", "apply 1-1"]
    assert steps[-1] == "reconnect"
    assert group.commits == [], "both fetches are redelivered after the reconnect"


async def test_a_rejected_record_of_the_next_fetch_is_dead_lettered_after_the_fetch_before_it_applied() -> None:
    events, group, steps = consumer([0, 1], [2, 3], rejected=2)
    await asyncio.wait_for(events.run(), 5)
    assert steps.index("parse 2") < steps.index("applied 0-1")
    assert steps.index("dead-letter 2") > steps.index("applied 0-1")
    assert [s for s in steps if s.startswith("appl")] == ["apply 0-1", "applied 0-1", "apply 3-3", "applied 3-3"]
    assert group.commits == [2, 4]


async def test_a_record_that_breaks_the_parser_is_dead_lettered_in_its_turn_like_a_rejected_one() -> None:
    # Not taken for the broker or the database being away: reconnecting would fetch it again, for ever.
    events, group, steps = consumer([0, 1], [2, 3], broken=2)
    await asyncio.wait_for(events.run(), 5)
    assert "reconnect" not in steps
    assert steps.index("dead-letter 2") > steps.index("applied 0-1")
    assert [s for s in steps if s.startswith("appl")] == ["apply 0-1", "applied 0-1", "apply 3-3", "applied 3-3"]
    assert group.commits == [2, 4]


async def test_stopping_the_loop_cancels_the_fetch_still_applying() -> None:
    events, group, steps = consumer([0, 1], [2, 3])
    started = asyncio.Event()

    async def slow_apply(offsets: list[int]) -> None:
        steps.append(f"apply {offsets[0]}-{offsets[-1]}")
        started.set()
        await asyncio.sleep(30)

    events.apply_batch = slow_apply  # type: ignore[assignment,method-assign]
    loop = asyncio.create_task(events.run())
    await asyncio.wait_for(started.wait(), 5)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(loop, 5)
    assert group.commits == []
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()], "no task left behind"
