"""The transactions of one process on a SQLite file wait for their turn in a queue of their own
(shared.sqlite_writers) instead of sleeping in SQLite's busy handler; the turn
ends with the transaction however it ends, and a turn waited for too long fails as SQLite would."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

import shared.db
from shared.db import make_engine

pytestmark = pytest.mark.integration


async def sqlite_engine(path: Path, *, sqlite_waits: bool = False) -> AsyncEngine:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    if not sqlite_waits:
        # SQLite itself refuses a second writer at once: whoever waits, waits in the queue.
        @event.listens_for(engine.sync_engine, "connect")
        def _no_busy_wait(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA busy_timeout=0")

    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS step (n INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT)"))
    return engine


async def steps(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return [row[0] for row in await conn.execute(text("SELECT who FROM step ORDER BY n"))]


async def test_writers_wait_for_their_turn_instead_of_failing(tmp_path: Path) -> None:
    engine = await sqlite_engine(tmp_path / "turns.db")
    try:
        holding, release = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO step (who) VALUES ('first')"))
                holding.set()
                await release.wait()
                await conn.execute(text("INSERT INTO step (who) VALUES ('first, again')"))

        async def later(who: str) -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO step (who) VALUES (:who)"), {"who": who})
                await asyncio.sleep(0.01)  # another writer would interleave here if it could
                await conn.execute(text("INSERT INTO step (who) VALUES (:who)"), {"who": who})

        holder = asyncio.create_task(first())
        await holding.wait()
        waiting = [asyncio.create_task(later(who)) for who in ("second", "third", "fourth")]
        await asyncio.sleep(0.2)  # long enough for any of them to fail, had SQLite been asked
        assert not any(task.done() for task in waiting)
        release.set()
        await asyncio.gather(holder, *waiting)
        written = await steps(engine)
        assert written[:2] == ["first", "first, again"]
        # Each later writer's two rows together: one transaction after the other, whatever order
        # their connections were opened in.
        pairs = [written[i:i + 2] for i in range(2, len(written), 2)]
        assert sorted(pairs) == [["fourth", "fourth"], ["second", "second"], ["third", "third"]]
    finally:
        await engine.dispose()


async def test_a_turn_ends_with_a_rollback_an_invalidated_connection_or_the_second_transaction_of_a_connection(tmp_path: Path) -> None:
    engine = await sqlite_engine(tmp_path / "ends.db")
    try:
        with pytest.raises(RuntimeError):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO step (who) VALUES ('rolled back')"))
                raise RuntimeError("the command failed")

        async with engine.connect() as conn:
            await conn.execute(text("INSERT INTO step (who) VALUES ('broken')"))
            await conn.invalidate()

        # Two transactions on one connection before it goes back to the pool: the second does not
        # wait for the turn its own connection holds.
        async with engine.connect() as conn:
            await conn.execute(text("INSERT INTO step (who) VALUES ('one')"))
            await conn.commit()
            await conn.execute(text("INSERT INTO step (who) VALUES ('two')"))
            await conn.commit()

        async with asyncio.timeout(5):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO step (who) VALUES ('after')"))
        assert await steps(engine) == ["one", "two", "after"]
    finally:
        await engine.dispose()


async def test_a_turn_waited_for_too_long_fails_as_a_locked_database_and_leaves_the_queue_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared.db, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    engine = await sqlite_engine(tmp_path / "timeout.db", sqlite_waits=True)
    try:
        holding, release = asyncio.Event(), asyncio.Event()

        async def holder() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO step (who) VALUES ('holder')"))
                holding.set()
                await release.wait()

        task = asyncio.create_task(holder())
        await holding.wait()
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO step (who) VALUES ('impatient')"))
        release.set()
        await task
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO step (who) VALUES ('next')"))
        assert await steps(engine) == ["holder", "next"]
    finally:
        await engine.dispose()
