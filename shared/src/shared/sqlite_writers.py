"""SQLite writers of one process take turns in an asyncio queue instead of SQLite's busy handler.

SQLite has one writer per database, and every transaction here starts with BEGIN IMMEDIATE (see
`shared.db`). A connection that finds the write lock taken sleeps in SQLite's busy handler, which
retries after 1, 2, 5, 10, ... 100 ms: under steady load (the POS group commit, the relay, the
consumer and the jobs of one service, each on its own pooled connection) most waiting was sleep
past the moment the lock came free, and one transaction's wait could add up to hundreds of ms.
Here the transactions of one engine queue for an `asyncio.Lock` before BEGIN IMMEDIATE, so the
next one starts as soon as the previous one's connection is back in the pool, in arrival order.
Other processes on the same file (the CLI, a migration) still meet the busy handler, as before.

The lock is taken in the engine's `begin` event (inside SQLAlchemy's greenlet, where `await_`
may wait on the event loop) and released when the connection is checked back in to the pool,
after its COMMIT or ROLLBACK: a session gives its connection back when its transaction ends.
"""

import asyncio
import sqlite3
import weakref
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

_HELD = "crm_sqlite_write_lock"


class WriterQueue:
    """The turn of one engine's transactions; `timeout_s` as SQLite's own busy timeout."""

    def __init__(self, engine: AsyncEngine, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        # One lock per event loop: tests run an engine's app on more than one loop, and an
        # asyncio.Lock belongs to the loop it first waited on.
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        event.listen(engine.sync_engine.pool, "checkin", self._give_back)
        # A connection found broken mid-transaction is closed by the pool: its turn ends with it.
        event.listen(engine.sync_engine.pool, "invalidate", self._give_back_invalidated)

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def take_turn(self, conn: Connection) -> None:
        """Waits until no other transaction of this engine writes; called before BEGIN IMMEDIATE.
        A connection that already holds the turn (a second transaction on a connection not yet
        given back) keeps it."""
        info = conn.connection.info  # the pooled DB-API connection's, alive until its checkin
        if _HELD in info:
            return
        lock = self._lock()
        try:
            await_(asyncio.wait_for(lock.acquire(), self.timeout_s))
        except TimeoutError:
            # As SQLite reports a lock it waited for in vain, so callers see one kind of failure.
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")) from None
        info[_HELD] = lock

    @staticmethod
    def _give_back(_dbapi_conn: Any, record: Any) -> None:
        lock: asyncio.Lock | None = record.info.pop(_HELD, None)
        if lock is not None:
            lock.release()

    @classmethod
    def _give_back_invalidated(cls, dbapi_conn: Any, record: Any, _exc: BaseException | None) -> None:
        cls._give_back(dbapi_conn, record)
