"""`insert_rows` on PostgreSQL: a COPY for many rows, a prepared INSERT for a few. Either belongs to
the session's transaction even as its first statement (a COPY goes straight to the driver), so
it rolls back with the session; either refuses a duplicate key as the same `IntegrityError`."""

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from points.config import Settings
from shared.clock import utc_now
from shared.db import COPY_FROM_ROWS, insert_rows, make_engine, make_sessionmaker
from shared.migrations import upgrade_async
from shared.outbox import OUTBOX, OutboxRecord
from tests.messaging.test_unit_of_work_outbox import MIGRATIONS
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("count", [1, COPY_FROM_ROWS - 1, COPY_FROM_ROWS], ids=["one", "a few", "a copy"])
async def test_rows_roll_back_with_the_session_and_a_duplicate_is_refused(env: TestEnv, database_factory, count: int) -> None:
    settings = env.settings(Settings, await database_factory("points"))
    await upgrade_async(MIGRATIONS, settings.database)
    engine = make_engine(settings.database)
    sessions = make_sessionmaker(engine)
    rows = [{"event_id": f"e{i}", "event_type": "t", "topic": "t", "key": "k", "envelope": "{}", "created_at": utc_now()}
            for i in range(count)]

    async def stored() -> list[str]:
        async with sessions() as session:
            return list((await session.exec(select(OutboxRecord.event_id).order_by(OutboxRecord.id))).all())  # type: ignore[arg-type]

    try:
        async with sessions() as session:
            assert await insert_rows(session, OUTBOX, rows) == count
            await session.rollback()
        assert await stored() == []
        async with sessions() as session:
            assert await insert_rows(session, OUTBOX, iter(rows)) == count  # a generator too
            await session.commit()
        assert await stored() == [row["event_id"] for row in rows]
        async with sessions() as session:
            with pytest.raises(IntegrityError):
                await insert_rows(session, OUTBOX, [rows[-1]] if count < COPY_FROM_ROWS else rows)
        async with sessions() as session:
            assert (await session.exec(select(func.count()).select_from(OutboxRecord))).one() == count
    finally:
        await engine.dispose()
