"""SQLite statements run in one call to aiosqlite's thread (shared.sqlite_driver) and answer what
the DB-API promises: rows, row counts, the last row id, errors as SQLAlchemy's, streamed results."""

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
