"""Statements sent straight to the driver belong to the session's transaction, even when they are
its first: a COPY rolled back with the session leaves nothing behind."""

import pytest
from sqlalchemy import func
from sqlmodel import select

from points.config import Settings
from shared.clock import utc_now
from shared.db import insert_rows, make_engine, make_sessionmaker
from shared.migrations import upgrade_async
from shared.outbox import OutboxRecord
from tests.messaging.test_unit_of_work_outbox import MIGRATIONS
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_copy_as_the_first_statement_rolls_back_with_the_session(env: TestEnv, database_factory) -> None:
    settings = env.settings(Settings, await database_factory("points"))
    await upgrade_async(MIGRATIONS, settings.database)
    engine = make_engine(settings.database)
    sessions = make_sessionmaker(engine)
    row = {"event_id": "e1", "event_type": "t", "topic": "t", "key": "k", "envelope": "{}", "created_at": utc_now()}
    try:
        async with sessions() as session:
            await insert_rows(session, OutboxRecord.__table__, [row])  # type: ignore[arg-type]
            await session.rollback()
        async with sessions() as session:
            assert (await session.exec(select(func.count()).select_from(OutboxRecord))).one() == 0
            await insert_rows(session, OutboxRecord.__table__, [row])  # type: ignore[arg-type]
            await session.commit()
        async with sessions() as session:
            assert (await session.exec(select(func.count()).select_from(OutboxRecord))).one() == 1
    finally:
        await engine.dispose()
