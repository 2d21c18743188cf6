"""Counting a group's lag by fetching: an empty poll is the end only once the broker has answered,
and a group's partitions are read together without one ending another's count early."""

from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition

from gateway.adapters import consumer_lag
from gateway.domain.dead_letters import BrokerAway

TP = TopicPartition("t.crm.members.events", 0)
TP1 = TopicPartition("t.crm.members.events", 1)


class ScriptedReader:
    """A reader whose broker answers each partition's polls as scripted: `None` for a poll the
    broker has not answered yet, a number for the records an answer brings (0: answered, nothing
    new). A partition's script run out answers nothing new. Only the partitions asked for (not
    paused) move on in their scripts, as a fetch covers only those."""

    def __init__(self, script: dict[TopicPartition, list[int | None]]) -> None:
        self.script = {tp: list(polls) for tp, polls in script.items()}
        self.answered: set[TopicPartition] = set()
        self.asked: list[set[TopicPartition]] = []
        self.paused: set[TopicPartition] = set()

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.answered, self.paused = set(), set()

    def seek(self, tp: TopicPartition, offset: int) -> None:
        pass

    async def seek_to_beginning(self, tp: TopicPartition) -> None:
        pass

    def pause(self, tp: TopicPartition) -> None:
        self.paused.add(tp)

    async def getmany(self, *partitions: TopicPartition, timeout_ms: int) -> dict:
        assert not self.paused & set(partitions), "a paused partition asked for"
        self.asked.append(set(partitions))
        batch = {}
        for tp in partitions:
            polls = self.script.get(tp)
            answer = polls.pop(0) if polls else 0
            if answer is None:
                continue
            self.answered.add(tp)
            if answer:
                batch[tp] = [SimpleNamespace(timestamp=1_765_000_000_000 + n) for n in range(answer)]
        return batch

    def highwater(self, tp: TopicPartition) -> int | None:
        return 100 if tp in self.answered else None


async def test_a_slow_first_answer_is_not_taken_for_a_group_that_caught_up() -> None:
    [lag] = await consumer_lag._behind(ScriptedReader({TP: [None, None, 1]}), "g", [TP], {TP: 2}, cap=100)
    assert (lag.behind, lag.capped, lag.committed) == (1, False, 2)
    assert lag.oldest_at is not None


async def test_a_caught_up_group_is_measured_at_zero_once_the_broker_answered() -> None:
    [lag] = await consumer_lag._behind(ScriptedReader({TP: [0]}), "g", [TP], {TP: 3}, cap=100)
    assert (lag.behind, lag.oldest_at) == (0, None)


async def test_a_broker_that_never_answers_is_away_not_a_lag_of_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumer_lag, "ANSWER_S", 0.0)
    with pytest.raises(BrokerAway, match=r"did not answer a fetch of t\.crm\.members\.events\[0\]"):
        await consumer_lag._behind(ScriptedReader({TP: [None] * 1000}), "g", [TP], {TP: 2}, cap=100)


async def test_records_of_one_partition_do_not_end_the_count_of_another_still_fetching() -> None:
    # Partition 0 brings records poll after poll while partition 1's answer is slow: each of those
    # polls returns at once with partition 0's records, none of which is a quiet time for 1.
    reader = ScriptedReader({TP: [2, 2, 2], TP1: [0, 0, 0, 5]})
    lags = await consumer_lag._behind(reader, "g", [TP, TP1], {TP: 0, TP1: None}, cap=100)
    assert [(lag.partition, lag.committed, lag.behind) for lag in lags] == [(0, 0, 6), (1, None, 5)]
    assert reader.asked[0] == {TP, TP1}  # read together, not one after the other


async def test_a_partition_counted_to_the_cap_is_paused_and_the_others_are_read_on() -> None:
    reader = ScriptedReader({TP: [7, 7, 7], TP1: [1, 0, 2]})
    lags = await consumer_lag._behind(reader, "g", [TP, TP1], {TP: 0, TP1: 0}, cap=10)
    assert [(lag.behind, lag.capped) for lag in lags] == [(10, True), (3, False)]
    assert reader.paused == {TP} and TP not in reader.asked[-1]


async def test_a_group_reading_nothing_is_measured_without_a_fetch() -> None:
    reader = ScriptedReader({})
    assert await consumer_lag._behind(reader, "g", [], {}, cap=10) == []
    assert reader.asked == []
