"""Async database access chosen by URL: PostgreSQL (asyncpg) in production, SQLite files by default."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, islice
from operator import itemgetter
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    TableValuedAlias,
    any_,
    bindparam,
    event,
    func,
    insert,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as _AsyncSession
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.columns import ScaledDecimal, UtcDateTime
from shared.sqlite_driver import DeferredBegin, OneCallAiosqlite
from shared.sqlite_writers import WriterQueue

# Seconds a SQLite transaction waits for the write lock before failing as "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30

# Connections an engine keeps open on a SQLite file, and how many more it opens for a moment.
# Each one kept costs the process memory (a thread with its malloc arena, SQLite's page cache and
# statements): with 40 kept the members process grew to 228 MB over 10,000 sales, with 10 to
# 196 MB and with SQLAlchemy's default of 5 to 162 MB, against the 200 MB a service may take
# (bench/ingest.py --backend sqlite). A burst beyond them opens and closes a few.
SQLITE_POOL_SIZE = 5
SQLITE_POOL_OVERFLOW = 10

# Prepared statements each SQLite connection keeps (Python's default is 128). A batch's multi-row
# INSERT or IN list is a different statement for every row count, and a prepared statement of a
# thousand values holds about 100 KB: with 128 kept per connection the members process held
# 194-202 MB after 40,000 live sales, with 32 kept 157-159 MB and the same CPU a sale, the
# statements every batch runs staying among the most recently used (bench/README.md).
SQLITE_CACHED_STATEMENTS = 32

# Execution option of a connection whose transaction only reads (`read_only_sessions`).
READ_ONLY: dict[str, Any] = {"crm_read_only": True}


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # aiosqlite, a statement one call to its thread (sqlite_driver).
        # A connection opened beyond the pool is closed again when given back, and opening one (a
        # thread, four PRAGMAs, the driver's functions) costs more than a read: the pool holds
        # the relay, consumer, jobs and a few requests' connections (SQLITE_POOL_SIZE).
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "cached_statements": SQLITE_CACHED_STATEMENTS},
            module=OneCallAiosqlite(),
            pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_OVERFLOW,
        )
        _tune_sqlite(engine)
        return engine
    # No pre-ping: with asyncpg it costs a BEGIN/ROLLBACK round trip per checkout; dead connections
    # are invalidated on error and recycled after half an hour instead.
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800)


def _tune_sqlite(engine: AsyncEngine) -> None:
    # WAL lets readers proceed while one writer works; busy_timeout turns lock contention
    # between the request path, the relay and the consumer into waiting instead of errors.
    # Transactions start with BEGIN IMMEDIATE: a deferred transaction that later upgrades to a
    # write lock fails at once with "database is locked" instead of waiting its turn. The
    # transactions of this process wait for that turn in a queue of their own (sqlite_writers).
    # A transaction marked READ_ONLY never upgrades, so it begins deferred, without a turn: it
    # reads its snapshot alongside the writer and other readers instead of queueing for the lock.
    writers = WriterQueue(engine, SQLITE_BUSY_TIMEOUT_S)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:  # a DB-API connection
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("crm_read_only"):
            _begin(conn, "BEGIN")
            return
        writers.take_turn(conn)
        _begin(conn, "BEGIN IMMEDIATE")


def _begin(conn: Connection, statement: str) -> None:
    # Sent with the transaction's first statement, in one hand-off to aiosqlite's thread
    # (sqlite_driver); the write turn above is already held.
    dbapi = conn.connection.dbapi_connection
    if isinstance(dbapi, DeferredBegin):
        dbapi.defer_begin(statement)
    else:
        conn.exec_driver_sql(statement)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def read_only_sessions(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions like `sessions` (same engine and pool) whose transactions only read: on SQLite they
    begin deferred (see `_tune_sqlite`). On PostgreSQL their statements run in autocommit: at READ
    COMMITTED each statement of a transaction reads its own snapshot anyway, so the BEGIN and
    COMMIT around a read bought no consistency, only two round trips, each a wake-up of the
    server's process (a customer-360 is seven reads in five services). Their sessions must not
    write, nor rely on anything held to the end of a transaction (SET LOCAL, an xact lock)."""
    engine = sessions.kw["bind"]
    options = READ_ONLY | ({"isolation_level": "AUTOCOMMIT"} if is_postgresql(engine) else {})
    bind = engine.execution_options(**options)
    return async_sessionmaker(class_=sessions.class_, **{**sessions.kw, "bind": bind})


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def is_postgresql(target: _AsyncSession | AsyncEngine | AsyncConnection | Engine | Connection) -> bool:
    """Whether a session, engine or connection talks to PostgreSQL (else SQLite): the one place
    that decides between PostgreSQL-only statements (ANY(array), COPY, advisory locks, its own
    upsert) and their portable fallbacks."""
    bind = target.bind if isinstance(target, _AsyncSession) else target
    return bind.dialect.name == "postgresql"  # type: ignore[union-attr]


def advisory_lock(*key: Any, shared: bool = False) -> ColumnElement[Any]:
    """A transaction-scoped PostgreSQL advisory lock on `key` (one 64-bit or two 32-bit numbers),
    exclusive or shared, for `take_advisory_locks`."""
    return (func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock)(*key)


async def take_advisory_locks(session: AsyncSession, *locks: ColumnElement[Any]) -> None:
    """Takes `locks` in the order given, in one round trip, held until the transaction ends. On
    SQLite nothing: its writers run one at a time already."""
    if is_postgresql(session):
        await session.exec(select(*locks))  # type: ignore[call-overload]


def insert_into(session: _AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT in the session's dialect, for its ON CONFLICT clauses (DO NOTHING: a concurrent
    writer or a redelivery got there first; DO UPDATE: an upsert), which both dialects spell alike."""
    return postgresql.insert(table) if is_postgresql(session) else sqlite.insert(table)


def unnest_rows(table: Table, rows: list[dict[str, Any]]) -> TableValuedAlias:
    """PostgreSQL: `rows` as one FROM item, `unnest()` of one array parameter per column (named
    as the keys of the rows, all the same). A multi-row INSERT ... SELECT, upsert or UPDATE ... FROM
    over it is one statement with a parameter per column however many rows: the server plans and
    runs it once, where an executemany runs one statement per row and SQLAlchemy builds the
    parameters of each. The values are converted by the columns' own types (money in fen)."""
    return _unnest(table, list(rows[0]), rows)


def unnest_columns(table: Table, columns: Sequence[str]) -> TableValuedAlias:
    """`unnest_rows` without its values, for a statement built once and run with
    `unnest_params(rows)`: a statement built on every call also has its cache key worked out on
    every call, which on the hottest paths cost as much as running it."""
    return _unnest(table, columns)


def unnest_params(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    return {f"unnest_{name}": [row[name] for row in rows] for name in columns}


def _unnest(table: Table, columns: Sequence[str], rows: list[dict[str, Any]] | None = None) -> TableValuedAlias:
    arrays = [
        bindparam(f"unnest_{name}", type_=postgresql.ARRAY(table.c[name].type)) if rows is None
        else bindparam(f"unnest_{name}", [row[name] for row in rows], type_=postgresql.ARRAY(table.c[name].type))
        for name in columns
    ]
    return func.unnest(*arrays).table_valued(*columns).render_derived()


def insert_many(session: _AsyncSession, table: Table, rows: list[dict[str, Any]]) -> tuple[postgresql.Insert | sqlite.Insert, list[dict[str, Any]] | None]:
    """A multi-row INSERT of `rows` (all with the same keys) and the parameters to run it with,
    for `session.exec(stmt, params=params)`; add ON CONFLICT and RETURNING clauses to `stmt` as to
    `insert_into`'s. On PostgreSQL one INSERT ... SELECT from `unnest_rows` (no parameters),
    elsewhere an executemany of one INSERT. `BulkInsert` is the same built once."""
    stmt = insert_into(session, table)
    if not is_postgresql(session):
        return stmt, rows
    return _from_unnest(stmt, unnest_rows(table, rows), list(rows[0])), None


def _from_unnest(stmt: Any, source: TableValuedAlias, columns: Sequence[str]) -> Any:
    # WHERE true: without it PostgreSQL could read the ON of a following ON CONFLICT as a join's.
    return stmt.from_select(list(columns), select(*(source.c[name] for name in columns)).where(true()))


class BulkInsert:
    """`insert_many` of rows with the same `columns`, its statement built once per dialect (with
    the ON CONFLICT and RETURNING clauses `finish` adds) and kept, for the paths that insert a
    batch many times a second: building the statement and working out its cache key on every
    batch cost more than running it (a group of POS sales at the gateway)."""

    def __init__(self, table: Table, columns: Sequence[str], finish: Callable[[Any], Any] = lambda stmt: stmt) -> None:
        self._table, self._columns, self._finish = table, tuple(columns), finish
        self._built: dict[str, Any] = {}

    async def run(self, session: AsyncSession, rows: list[dict[str, Any]]) -> Any:
        """The result of inserting `rows` (each with exactly the columns), e.g. what it RETURNs."""
        postgres = is_postgresql(session)
        dialect = "postgresql" if postgres else "sqlite"
        if (stmt := self._built.get(dialect)) is None:
            stmt = insert_into(session, self._table)
            if postgres:
                stmt = _from_unnest(stmt, unnest_columns(self._table, self._columns), self._columns)
            stmt = self._built[dialect] = self._finish(stmt)
        params = unnest_params(self._columns, rows) if postgres else rows
        return await session.exec(stmt, params=params)


def one_of(session: _AsyncSession, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL as `= ANY(:array)`: one parameter and one cached statement
    whatever the number of values, where IN sends (and plans) one parameter per value, which
    matters when a batch looks up thousands of events, sales or members."""
    values = list(values)
    if is_postgresql(session):
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


async def driver_connection(session: _AsyncSession) -> Any:
    """The asyncpg connection of the session's transaction, for what SQLAlchemy has no cheap path
    to (COPY, tens of thousands of rows of arrays read back); PostgreSQL only. Flushes the session
    first: statements sent this way bypass it, and what it holds pending must go first."""
    await session.flush()
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        # SQLAlchemy's adapter sends BEGIN with the first statement it runs: a COPY sent straight to
        # the driver before any would run, and commit, on its own, outside the session's transaction.
        await connection.exec_driver_sql("SELECT 1")
    return driver


async def insert_or_skip(session: AsyncSession, table: Table, rows: list[dict[str, Any]], *,
                         conflict_on: Sequence[str] | None = None, returning: str | None = None) -> list[Any]:
    """`insert_many` with ON CONFLICT DO NOTHING (a concurrent writer or a redelivery got some of
    the rows there first); answers the `returning` column of the rows inserted."""
    if not rows:
        return []
    # Consumers run it on every batch (their dedupe): the statement is built once per call site.
    key = (table, tuple(rows[0]), tuple(conflict_on or ()), returning)
    if (insert := _SKIPPING.get(key)) is None:
        insert = _SKIPPING[key] = BulkInsert(table, key[1], lambda stmt: _skipping(stmt, table, conflict_on, returning))
    result = await insert.run(session, rows)
    return list(result.scalars().all()) if returning is not None else []


_SKIPPING: dict[tuple[Any, ...], BulkInsert] = {}


def _skipping(insert: Any, table: Table, conflict_on: Sequence[str] | None, returning: str | None) -> Any:
    insert = insert.on_conflict_do_nothing(index_elements=conflict_on)
    return insert if returning is None else insert.returning(table.c[returning])


# From this many rows `insert_rows` sends a COPY; below it an INSERT, which measured cheaper in the
# service and in PostgreSQL up to about 15 rows.
COPY_FROM_ROWS = 16
_FEW: dict[tuple[Table, tuple[str, ...]], BulkInsert] = {}


async def insert_rows(session: AsyncSession, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Many new rows into one table, all with the same keys; answers how many. On PostgreSQL
    through COPY on the transaction's own connection (below `COPY_FROM_ROWS` rows, a prepared
    INSERT): no per-row statement parameters to build, which is most of the CPU a multi-row INSERT
    of thousands of rows costs. Nothing may conflict (COPY has no ON CONFLICT): a unique key
    violated fails the transaction, either way.

    `rows` may be a generator: the COPY takes each row as it comes and sends every half megabyte,
    so PostgreSQL stores what it got while the caller builds the next rows."""
    rows = iter(rows)
    head = list(islice(rows, COPY_FROM_ROWS))
    if not head:
        return 0
    if not is_postgresql(session):
        params = [*head, *rows]
        await session.exec(insert(table), params=params)
        return len(params)
    columns = list(head[0])
    if len(head) < COPY_FROM_ROWS:
        # A few rows (a command's one or two events): COPY's set-up, on both sides, costs more than
        # a prepared INSERT from unnest(), one statement text for any number of rows.
        key = (table, tuple(columns))
        if (few := _FEW.get(key)) is None:
            few = _FEW[key] = BulkInsert(table, columns)
        await few.run(session, head)
        return len(head)
    dialect = session.bind.dialect  # type: ignore[union-attr]
    # Column types like MoneyColumn (fen) and UtcDateTime convert values on the way in; COPY
    # bypasses SQLAlchemy, so they are applied here, to those columns only.
    convert = [
        (i, table.c[name].type.process_bind_param)  # type: ignore[attr-defined]
        for i, name in enumerate(columns) if isinstance(table.c[name].type, ScaledDecimal | UtcDateTime)
    ]
    get = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    count = 0

    def records() -> Iterator[Sequence[Any]]:
        nonlocal count
        for row in chain(head, rows):
            values = get(row)
            if convert:
                values = list(values)
                for i, fn in convert:
                    values[i] = fn(values[i], dialect)
            count += 1
            yield values

    try:
        await (await driver_connection(session)).copy_records_to_table(table.name, records=records(), columns=columns)
    except asyncpg.IntegrityConstraintViolationError as exc:
        # As SQLAlchemy reports it for an INSERT, so callers handle a duplicate key one way.
        raise IntegrityError(f"COPY {table.name}", None, exc) from exc
    return count
