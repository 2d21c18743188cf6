"""SQLite statements run in one call to aiosqlite's thread (shared.sqlite_driver) and answer what
the DB-API promises: rows, row counts, the last row id, errors as SQLAlchemy's, streamed results."""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from shared.db import make_engine, make_sessionmaker

pytestmark = pytest.mark.integration

METADATA = MetaData()
ITEMS = Table("item", METADATA, Column("id", Integer, primary_key=True, autoincrement=True), Column("name", String, unique=True))


async def test_rows_counts_last_ids_errors_and_streams(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
            first = await conn.execute(insert(ITEMS).values(name="大米"))
            assert first.inserted_primary_key == (1,)  # the cursor's lastrowid
            await conn.execute(insert(ITEMS), [{"name": f"item {n}"} for n in range(2, 6)])  # executemany
            changed = await conn.execute(update(ITEMS).where(ITEMS.c.id > 3).values(name=ITEMS.c.name + "!"))
            assert changed.rowcount == 2
            returned = await conn.execute(insert(ITEMS).values(name="面粉").returning(ITEMS.c.id, ITEMS.c.name))
            assert returned.all() == [(6, "面粉")]

        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            assert (await session.exec(select(ITEMS.c.name).where(ITEMS.c.id <= 2).order_by(ITEMS.c.id))).all() == [("大米",), ("item 2",)]
            assert (await session.exec(text("SELECT count(*) FROM item"))).scalar_one() == 6
            assert (await session.exec(select(ITEMS.c.id).where(ITEMS.c.id > 100))).all() == []

        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(insert(ITEMS).values(name="大米"))

        async with engine.connect() as conn:
            streamed = await conn.stream(select(ITEMS.c.id).order_by(ITEMS.c.id))
            assert [row.id async for row in streamed] == [1, 2, 3, 4, 5, 6]
    finally:
        await engine.dispose()


async def test_a_transaction_begins_with_its_first_statement_and_sends_no_empty_commit_or_rollback(tmp_path: Path) -> None:
    from shared.db import read_only_sessions

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    sent: list[str] = []
    try:
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
            await conn.execute(insert(ITEMS).values(name="大米"))
            raw = (await conn.get_raw_connection()).driver_connection
            original = raw._execute

            async def counted(fn, *args, **kwargs):  # every hand-off to the connection's thread
                sent.append(str(args[1]).split()[0] if fn.__name__ == "_run" else fn.__name__)
                return await original(fn, *args, **kwargs)

            raw._execute = counted
        assert sent == ["commit"]  # and no rollback when the pool takes the connection back
        sessions = make_sessionmaker(engine)
        for made in (sessions, read_only_sessions(sessions)):
            sent.clear()
            async with made() as session, session.begin():
                assert (await session.exec(select(ITEMS.c.name))).all() == [("大米",)]
                assert raw._conn.in_transaction  # the BEGIN went with the SELECT
            assert sent == ["SELECT", "commit"]
            sent.clear()
            async with made() as session, session.begin():
                pass  # a transaction that ran nothing: SQLite never hears of it
            assert sent == []
        # A write transaction still takes SQLite's write lock: another connection cannot write.
        async with sessions() as session, session.begin():
            await session.exec(select(ITEMS.c.id))
            other = sqlite3.connect(tmp_path / "driver.db", timeout=0)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("INSERT INTO item (name) VALUES ('面粉')")
            finally:
                other.close()
    finally:
        await engine.dispose()
