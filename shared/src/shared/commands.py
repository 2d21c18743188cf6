"""Running a command: one unit of work of a service, committed, and the relay woken if it emitted.

Routes (`shared.deps.UowDep`), jobs and the event consumer all open their transactions here, so the
events' source is always the service's name, the unit of work always carries the service's settings
and clock, and an emitted event is published at once rather than at the relay's next poll.

Derived event ids (an event announced by a job or a handler, whose id must be the same however
often the work is redone) come from `derived_event_id`: one UUIDv5 namespace per service, so two
services can never derive the same id from the same parts.
"""

import contextlib
import functools
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import Clock, utc_now
from shared.db import read_only_sessions
from shared.unit_of_work import UnitOfWork

T = TypeVar("T")

# The namespace of all derived event ids; each service's namespace is derived from it and the
# service's name. (POS sales keep their own, `shared.events.envelope.sale_event_id`: POS vendors
# publishing directly compute those ids themselves.)
DERIVED_NAMESPACE = uuid.UUID("3f1d6c52-9a4e-4b8f-8d17-2c5e0b7a9f61")


@functools.cache  # a launch derives 200,000 ids: one uuid5 each, not two
def service_namespace(service: str) -> uuid.UUID:
    return uuid.uuid5(DERIVED_NAMESPACE, f"crm/{service}")


def derived_event_id(service: str, *parts: object) -> str:
    """The id of an event `service` announces for the fact named by `parts` (e.g. `"milestone",
    member_id, milestone`): the same parts give the same id, so the outbox refuses a repeat.

    The text of `uuid.uuid5(service_namespace(service), "/".join(parts))`, computed without the
    UUID object: the analytics job derives 100,000 ids in a run, and the object was most of it."""
    digest = bytearray(hashlib.sha1(_namespace_bytes(service) + "/".join(map(str, parts)).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@functools.cache
def _namespace_bytes(service: str) -> bytes:
    return service_namespace(service).bytes


class Commands:
    """Opens units of work for one service. `async with commands() as uow:` commits on success,
    rolls back on error, and wakes the relay after a commit that emitted events."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: Any, *,
        wake: Callable[[], None] = lambda: None, clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.wake = wake
        self.clock = clock

    @functools.cached_property
    def read_sessions(self) -> async_sessionmaker[AsyncSession]:
        return read_only_sessions(self.sessions)

    @contextlib.asynccontextmanager
    async def __call__(self, *, read_only: bool = False) -> AsyncIterator[UnitOfWork]:
        """`read_only=True`: a unit that only reads (see `UnitOfWork`), for GET routes."""
        async with UnitOfWork(
            self.read_sessions if read_only else self.sessions, self.settings.service_name, self.settings,
            clock=self.clock, read_only=read_only,
        ) as uow:
            yield uow
        if uow.emitted:
            self.wake()  # publish now rather than at the next poll

    async def run(self, command: Callable[[UnitOfWork], Awaitable[T]], *, retry_on_conflict: bool = False) -> T:
        """Runs `command` in its own transaction and returns its result once committed.

        `retry_on_conflict`: two retries of one request racing each other - the loser hits a
        unique key, and running the command again finds the winner's row and replays it."""
        for attempt in (1, 2):
            try:
                async with self() as uow:
                    return await command(uow)
            except IntegrityError:
                if not retry_on_conflict or attempt == 2:
                    raise
        raise AssertionError("unreachable")
