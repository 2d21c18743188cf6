"""Group commit's rules, on a recording stand-in for the database: each request is answered only
after the transaction holding its item committed, a failed group is written again item by item,
and a request that goes away does not take its group's write with it."""

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY

from shared.group_commit import GroupCommit

pytestmark = pytest.mark.unit


class Database:
    """Commits a transaction's items only if writing them raised nothing, as a real one would."""

    settings = SimpleNamespace(service_name="test")

    def __init__(self, poison: set[str] = frozenset(), slow_s: float = 0.0) -> None:
        self.committed: list[list[str]] = []
        self.poison, self.slow_s = poison, slow_s

    async def run(self, command):
        pending: list[str] = []
        result = await command(pending)
        await asyncio.sleep(self.slow_s)
        self.committed.append(pending)
        return result


async def write(pending: list[str], items: Sequence[str]) -> list[object]:
    outcomes: list[object] = []
    for item in items:
        if item.startswith("poison"):
            raise RuntimeError(f"cannot write {item}")
        if item.startswith("refused"):
            outcomes.append(ValueError(f"{item} refused"))
            continue
        pending.append(item)
        outcomes.append(item.upper())
    return outcomes


async def test_requests_arriving_together_share_a_commit_and_hear_their_own_answers() -> None:
    db = Database(slow_s=0.01)
    writer = GroupCommit(db, write)  # type: ignore[arg-type]
    answers = await asyncio.gather(*(writer.submit(f"sale{i}") for i in range(20)))
    assert answers == [f"SALE{i}" for i in range(20)]
    assert sorted(item for group in db.committed for item in group) == sorted(f"sale{i}" for i in range(20))
    assert len(db.committed) < 20 and writer.groups_written == len(db.committed)


async def test_a_refusal_fails_its_request_only() -> None:
    writer = GroupCommit(Database(), write)  # type: ignore[arg-type]
    answers = await asyncio.gather(writer.submit("a"), writer.submit("refused-b"), writer.submit("c"), return_exceptions=True)
    assert answers[0] == "A" and answers[2] == "C"
    assert isinstance(answers[1], ValueError)


async def test_a_failed_group_is_written_again_item_by_item() -> None:
    db = Database()
    writer = GroupCommit(db, write)  # type: ignore[arg-type]
    answers = await asyncio.gather(*(writer.submit(item) for item in ("a", "b", "poison", "c")), return_exceptions=True)
    assert answers[:2] == ["A", "B"] and answers[3] == "C"
    assert isinstance(answers[2], RuntimeError)
    # The failed group committed nothing; its good items were then committed one per transaction.
    assert db.committed == [["a"], ["b"], ["c"]]


async def test_a_request_that_goes_away_does_not_cancel_its_groups_write() -> None:
    db = Database(slow_s=0.05)
    writer = GroupCommit(db, write)  # type: ignore[arg-type]
    gone = asyncio.create_task(writer.submit("gone"))
    stays = asyncio.create_task(writer.submit("stays"))
    await asyncio.sleep(0.01)
    gone.cancel()
    assert await stays == "STAYS"
    assert [item for group in db.committed for item in group] == ["gone", "stays"]


async def test_each_committed_transaction_is_measured_with_its_items() -> None:
    labels = {"service": "test", "writer": "measured-writer"}
    names = ("crm_group_commit_items_count", "crm_group_commit_items_sum", "crm_group_commit_seconds_count",
             "crm_group_commit_seconds_sum")

    def samples() -> dict[str, float]:  # the registry is the process's: what this test adds counts
        return {name: REGISTRY.get_sample_value(name, labels) or 0.0 for name in names}

    before = samples()
    db = Database(slow_s=0.01)
    writer = GroupCommit(db, write, name="measured-writer")  # type: ignore[arg-type]
    await asyncio.gather(*(writer.submit(item) for item in ("a", "poison", "b")), return_exceptions=True)
    await asyncio.gather(*(writer.submit(f"c{i}") for i in range(5)))
    # The failed group is not a transaction that committed; its good items then committed alone.
    assert db.committed == [["a"], ["b"], [f"c{i}" for i in range(5)]]
    added = {name: value - before[name] for name, value in samples().items()}
    assert added["crm_group_commit_items_count"] == added["crm_group_commit_seconds_count"] == 3
    assert added["crm_group_commit_items_sum"] == 7
    assert added["crm_group_commit_seconds_sum"] >= 3 * 0.01


class Counting(Database):
    """Counts the transactions open at once."""

    def __init__(self) -> None:
        super().__init__(slow_s=0.005)
        self.open = self.most_open = 0

    async def run(self, command):
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            return await super().run(command)
        finally:
            self.open -= 1


async def test_one_group_is_written_at_a_time() -> None:
    db = Counting()
    writer = GroupCommit(db, write)  # type: ignore[arg-type]
    for _ in range(3):  # requests at quiet moments and in bursts alike
        assert await asyncio.gather(*(writer.submit(f"s{i}") for i in range(10))) == [f"S{i}" for i in range(10)]
        assert await writer.submit("alone") == "ALONE"
    assert db.most_open == 1


async def test_an_item_queued_as_the_writer_ends_is_written() -> None:
    """A writer that found the queue empty and ended must not count as one still at work."""
    writer = GroupCommit(Database(), write)  # type: ignore[arg-type]
    for i in range(20):
        # Each submitted as soon as the last was answered: its writer has just ended, and its end
        # is not yet told to anyone waiting on the task.
        async with asyncio.timeout(5):
            assert await writer.submit(f"s{i}") == f"S{i}"
