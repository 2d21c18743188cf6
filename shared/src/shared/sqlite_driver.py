"""aiosqlite with one hand-off to its thread per statement instead of four.

aiosqlite runs each SQLite connection in a thread of its own, and SQLAlchemy's adaptation of it
asks that thread four times per statement: make a cursor, execute, fetch the rows, close the
cursor. Each request is a round trip between the event loop and the thread (a queue, a wake-up,
the GIL changing hands twice); on a busy machine those waits, not SQLite, made most of a
transaction's time, and the write lock is held through all of them (shared.sqlite_writers). Here
a statement is one call in the thread that does all four and hands back the rows with the
cursor's description, row count and last row id. Server-side cursors (streamed results) keep
aiosqlite's own path.

A transaction's BEGIN travels with its first statement (`defer_begin`, used by `shared.db`), and a
COMMIT or ROLLBACK with no transaction open in SQLite is not sent at all (the pool's rollback when
a connection comes back after its commit; a read-only unit that ran nothing): a read of one
statement was five hand-offs (BEGIN, SELECT, COMMIT, the pool's ROLLBACK) and is now two.
"""

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)


def _run(
    conn: sqlite3.Connection, operation: str, parameters: Any, many: bool, begin: str | None = None,
) -> tuple[Any, list[Any], int, int | None]:
    """In the connection's thread: the transaction's deferred BEGIN if any, then the whole
    statement, from cursor to closed cursor."""
    if begin is not None:
        conn.execute(begin)
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        return description, cursor.fetchall() if description else [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _OneCallCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor made in the thread up front
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        """Nothing to close: the rows are fetched and the cursor closed with the statement."""

    def close(self) -> None:
        self._rows.clear()

    async def _call(self, operation: Any, parameters: Any, many: bool) -> None:
        adapted = cast("DeferredBegin", self._adapt_connection)  # made by OneCallAiosqlite.connect
        async with adapted._execute_mutex:
            begin, adapted._pending_begin = adapted._pending_begin, None
            # aiosqlite's own queue to its thread; `_conn` is the sqlite3 connection living there.
            self._description, rows, self._rowcount, self._lastrowid = await self._connection._execute(
                _run, self._connection._conn, operation, parameters, many, begin
            )
            self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._call(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        await self._call(operation, seq_of_parameters, True)


class DeferredBegin(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_pending_begin",)
    _cursor_cls = _OneCallCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._pending_begin: str | None = None

    def defer_begin(self, statement: str) -> None:
        """Begins a transaction with `statement` (BEGIN, BEGIN IMMEDIATE) in the same call to the
        thread as its first statement, rather than in a call of its own."""
        self._pending_begin = statement

    def cursor(self, server_side: bool = False) -> Any:
        if server_side and self._pending_begin is not None:
            # A streamed result runs on aiosqlite's own cursor, which knows nothing of a deferred
            # BEGIN: the transaction begins first, on its own.
            begin, self._pending_begin = self._pending_begin, None
            super().cursor().execute(begin)
        return super().cursor(server_side)

    def _in_transaction(self) -> bool:
        """Whether SQLite has a transaction open on this connection. Read from the event loop:
        it asks SQLite's autocommit flag, which no statement changes while the adapter holds the
        connection (statements of one connection run one at a time, awaited)."""
        conn = self._connection._connection
        return conn is not None and conn.in_transaction

    def rollback(self) -> None:
        if self._pending_begin is not None:  # began, ran nothing: SQLite never saw the BEGIN
            self._pending_begin = None
            return
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._pending_begin is not None:
            self._pending_begin = None
            return
        if self._in_transaction():
            super().commit()


class OneCallAiosqlite(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module for `create_async_engine(..., module=...)`: aiosqlite, whose
    connections run a statement in one call to their thread."""

    def __init__(self) -> None:
        import aiosqlite

        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return DeferredBegin(self, adapted._connection)
