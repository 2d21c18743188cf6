"""Group commit: concurrent requests share one transaction and one commit.

At 32 tills the gateway spent most of a sale's CPU and latency on its own transaction (BEGIN, a
few statements, COMMIT and its fsync), not on the sale; members' access log, a row per profile
shown, cost a profile read its own write transaction. Here each request hands its item over and
waits; one writer at a time takes everything queued so far and writes it as one group, so the
more requests arrive together, the fewer transactions they need. Nobody waits on a timer: the
first request of a quiet moment is written at once, and requests arriving meanwhile form the next
group.

Every request is answered only after the transaction holding its item committed. A group whose
transaction fails is written again one item per transaction, so a bad item fails (visibly) only
its own request and never loses or half-applies the others.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from shared.commands import Commands
from shared.metrics import GROUP_COMMIT_ITEMS, GROUP_COMMIT_SECONDS
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# What writing a group answers: per item, in order, its result or the refusal to raise to its
# request (an unknown store, an id reused for other content). Refusals do not fail the group.
WriteGroup = Callable[[UnitOfWork, Sequence[Item]], Awaitable[list[Any]]]


class GroupCommit(Generic[Item, Result]):
    def __init__(self, commands: Commands, write: WriteGroup[Item], *, max_group: int = 200, name: str = "group-commit") -> None:
        self._commands = commands
        self._name = name
        self._write = write
        # Bounds one transaction's statement size (SQLite binds at most 32,766 parameters).
        self._max_group = max_group
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.groups_written = 0  # transactions committed, for tests
        service = commands.settings.service_name
        self._items, self._seconds = GROUP_COMMIT_ITEMS.labels(service, name), GROUP_COMMIT_SECONDS.labels(service, name)

    async def submit(self, item: Item) -> Result:
        """Answers the item's result once it is durable, or raises its refusal or failure."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._writer is None or self._writer.done():
            # Its own task: a request that goes away (client disconnected) must not cancel the
            # write of a group that holds other requests' items.
            self._writer = asyncio.create_task(self._write_queued(), name=self._name)
        return await future

    async def _write_queued(self) -> None:
        while self._queue:
            group, self._queue = self._queue[: self._max_group], self._queue[self._max_group :]
            try:
                await self._commit([item for item, _ in group], [future for _, future in group])
            except Exception as exc:  # the group's transaction failed: nothing of it was applied
                if len(group) == 1:
                    _answer(group[0][1], exc)
                    continue
                log.warning("group of %d failed (%s); writing its items one by one", len(group), exc)
                for item, future in group:
                    try:
                        await self._commit([item], [future])
                    except Exception as single:  # only this item's request fails
                        _answer(future, single)

    async def _commit(self, items: list[Item], futures: list[asyncio.Future[Result]]) -> None:
        started = time.perf_counter()
        outcomes = await self._commands.run(lambda uow: self._write(uow, items))
        self._seconds.observe(time.perf_counter() - started)
        self._items.observe(len(items))
        # Answered only now, after the commit: an answer never reports what might still roll back.
        self.groups_written += 1
        for future, outcome in zip(futures, outcomes, strict=True):
            _answer(future, outcome)


def _answer(future: asyncio.Future[Any], outcome: object) -> None:
    if future.done():  # its request was cancelled; what it asked for is written all the same
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
