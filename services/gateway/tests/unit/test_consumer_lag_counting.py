"""Counting a group's lag by fetching: an empty poll is the end only once the broker has answered."""

from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition

from gateway.adapters import consumer_lag
from gateway.domain.dead_letters import BrokerAway

TP = TopicPartition("t.crm.members.events", 0)


class SlowReader:
    """A reader whose broker answers the first fetch only after `silent` empty polls, with `waiting`
    records after the committed offset."""

    def __init__(self, silent: int, waiting: int) -> None:
        self.silent, self.waiting, self.answered = silent, waiting, False

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.answered = False

    def seek(self, tp: TopicPartition, offset: int) -> None:
        pass

    async def getmany(self, tp: TopicPartition, timeout_ms: int, max_records: int) -> dict:
        if self.silent:
            self.silent -= 1
            return {}
        self.answered = True
        records, self.waiting = [SimpleNamespace(timestamp=0)] * self.waiting, 0
        return {tp: records} if records else {}

    def highwater(self, tp: TopicPartition) -> int | None:
        return 3 if self.answered else None


async def test_a_slow_first_answer_is_not_taken_for_a_group_that_caught_up() -> None:
    lag = await consumer_lag._behind(SlowReader(silent=2, waiting=1), "g", TP, committed=2, cap=100)
    assert lag.behind == 1


async def test_a_caught_up_group_is_measured_at_zero_once_the_broker_answered() -> None:
    lag = await consumer_lag._behind(SlowReader(silent=0, waiting=0), "g", TP, committed=3, cap=100)
    assert lag.behind == 0


async def test_a_broker_that_never_answers_is_away_not_a_lag_of_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumer_lag, "ANSWER_S", 0.0)
    with pytest.raises(BrokerAway, match=r"did not answer a fetch of t\.crm\.members\.events\[0\]"):
        await consumer_lag._behind(SlowReader(silent=10**6, waiting=1), "g", TP, committed=2, cap=100)
