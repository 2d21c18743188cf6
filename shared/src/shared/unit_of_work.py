"""Unit of work: one database transaction plus the events it causes, written to the outbox.

Open one through `shared.commands.Commands` (routes, jobs) or let the consumer open it (handlers).
Handlers and routes change state through `uow.session` and announce what happened with
`uow.emit(...)`; both commit together or not at all (cosmicpython's UoW, with the outbox in place of
an in-memory message bus).
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from itertools import tee
from types import TracebackType
from typing import Any, NamedTuple

from asgi_correlation_id import correlation_id
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import Clock, utc_now
from shared.events.envelope import Envelope, EnvelopeFrame, envelope_texts, new_event, source_of
from shared.outbox import add_many_to_outbox, outbox_row, text_row


class Emission(NamedTuple):
    """One event of a bulk emission (`UnitOfWork.emit_many`)."""

    data: BaseModel
    key: str
    event_id: str | None = None
    subject: str | None = None


class ReadOnlyViolation(RuntimeError):
    """A read-only unit of work asked to write: a programming error, never a client's."""


class UnitOfWork:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], source: str, settings: Any = None, *, clock: Clock = utc_now,
        read_only: bool = False,
    ) -> None:
        # A unit that only reads (GET routes), on `shared.db.read_only_sessions`: on SQLite its
        # transaction does not take the write lock, so reads run beside each other and beside the
        # writers. It may not write or emit.
        self._sessions = sessions
        self.read_only = read_only
        self.source = source
        # The service's own settings, so handlers apply the app's rules (thresholds, time zone)
        # rather than whatever the process environment says.
        self.settings = settings
        # The service's clock: handlers and commands take the time from `uow.now()`.
        self.clock = clock
        self.session: AsyncSession
        self.emitted = False
        self.correlation_id: str | None = None
        # Outbox rows of `emit`, in emission order, written in a few multi-row INSERTs before the
        # commit (or by `flush_outbox`): an ORM object per event cost more than building the event.
        self._outbox: list[dict[str, Any]] = []

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self._sessions()
        await self.session.begin()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                if self.read_only and (self.session.new or self.session.dirty or self.session.deleted):
                    # A deferred SQLite transaction that writes may fail on a busy database
                    # rather than wait: a route that writes must use a writing unit.
                    raise ReadOnlyViolation("a read-only unit of work changed rows; use a writing unit")
                await self.flush_outbox()
                await self.session.commit()
            else:
                await self.session.rollback()
        finally:
            await self.session.close()

    async def end_read(self) -> None:
        """Ends a read-only unit's transaction now and gives its connection back to the pool, for a
        route that has read everything and then waits on something that needs a connection itself
        (a shared writer: 32 readers holding the pool's connections while waiting for it would
        leave it none)."""
        if not self.read_only:
            raise ReadOnlyViolation("only a read-only unit can end early; a writing unit commits at its end")
        await self.session.close()

    def now(self) -> datetime:
        return self.clock()

    def emit(
        self, type_: str, data: BaseModel, *, key: str, subject: str | None = None, event_id: str | None = None,
        credential: str | None = None, correlation: str | None = None,
    ) -> Envelope:
        """Announces `data` with the state change: its outbox row is queued and written, in order
        with the unit's other events, when the unit commits. `correlation` names the request or
        event this one follows when a batch handler emits for many (else the unit's own)."""
        if self.read_only:
            raise ReadOnlyViolation(f"a read-only unit of work cannot emit {type_}")
        envelope = new_event(
            type_,
            data,
            source=source_of(self.source),
            subject=subject,
            event_id=event_id,
            correlation_id=correlation or self.correlation_id or correlation_id.get(),
            credential=credential,
        )
        self._outbox.append(outbox_row(envelope, key))
        self.emitted = True
        return envelope

    def emit_each(self, type_: str, items: Iterable[tuple[BaseModel, str, str | None, str | None]]) -> int:
        """`emit` of one event of `type_` per (data, key, subject, correlation), queued in order
        like that many `emit` calls, for a batch handler announcing thousands of events: the
        envelope is serialised once (`EnvelopeFrame`), each event only adds its own values. The
        events share one time, that of the call. Answers how many."""
        if self.read_only:
            raise ReadOnlyViolation(f"a read-only unit of work cannot emit {type_}")
        frame = EnvelopeFrame(type_, source=source_of(self.source))
        default = self.correlation_id or correlation_id.get()
        rows = []
        for data, key, subject, correlation in items:
            event_id = str(uuid.uuid4())
            text = frame.text(event_id, data.model_dump_json(), subject=subject, correlation_id=correlation or default)
            rows.append(text_row(event_id, type_, key, text))
        self._outbox.extend(rows)
        self.emitted = self.emitted or bool(rows)
        return len(rows)

    async def flush_outbox(self) -> None:
        """Writes the queued events now (the commit does it anyway); a duplicate derived event id
        fails here, as an IntegrityError, like any unique key."""
        rows, self._outbox = self._outbox, []
        await add_many_to_outbox(self.session, rows)

    async def emit_many(
        self, type_: str, items: Iterable[tuple[BaseModel, str, str | None] | Emission],
    ) -> int:
        """Emits one event of `type_` per (data, key, event id or None), or per `Emission` when the
        envelopes name a subject, in a few multi-row INSERTs: for the tens of thousands of events
        of one command (a campaign launch, the analytics job). `items` is consumed to its end
        before this returns. Answers how many."""
        # What was emitted before goes first, so the outbox keeps the emission order.
        await self.flush_outbox()
        # Lazily, item by item: on PostgreSQL the COPY pulls each row as it sends, so `items` may be
        # a generator that does the work of each event while the server stores the previous ones.
        emissions, keyed = tee(Emission(*item) for item in items)
        texts = envelope_texts(type_, ((e.data, e.event_id, e.subject) for e in emissions),
                               source=source_of(self.source), correlation_id=self.correlation_id or correlation_id.get())
        rows = (text_row(event_id, type_, e.key, text) for (event_id, text), e in zip(texts, keyed, strict=True))
        count = await add_many_to_outbox(self.session, rows)
        self.emitted = self.emitted or count > 0
        return count
