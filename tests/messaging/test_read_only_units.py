"""A read-only unit of work reads beside a writer (on SQLite it does not queue for the write lock
that every writing unit takes with BEGIN IMMEDIATE), and refuses to write or emit."""

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import func
from sqlmodel import select

from points.config import Settings
from shared.commands import Commands
from shared.db import make_engine, make_sessionmaker
from shared.events.registry import PURCHASE_ATTRIBUTED
from shared.migrations import upgrade_async
from shared.outbox import OutboxRecord
from shared.unit_of_work import ReadOnlyViolation
from tests.messaging.test_unit_of_work_outbox import MIGRATIONS, attributed
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


def outbox_record(now: datetime) -> OutboxRecord:
    return OutboxRecord(event_id="e1", event_type="t", topic="t", key="k", envelope="{}", created_at=now)


async def test_a_read_only_unit_reads_while_a_writer_holds_its_transaction_open(env: TestEnv, database_factory) -> None:
    settings = env.settings(Settings, await database_factory("points"))
    await upgrade_async(MIGRATIONS, settings.database)
    engine = make_engine(settings.database)
    commands = Commands(make_sessionmaker(engine), settings)

    async def outbox_rows(read_only: bool) -> int:
        async with commands(read_only=read_only) as uow:
            return (await uow.session.exec(select(func.count()).select_from(OutboxRecord))).one()

    try:
        async with commands() as writer:
            writer.session.add(outbox_record(writer.now()))
            await writer.session.flush()  # the writer now holds SQLite's write lock until it commits
            # The reader sees the last committed state at once; a writing unit would wait its turn.
            assert await asyncio.wait_for(outbox_rows(read_only=True), timeout=5) == 0
        assert await outbox_rows(read_only=True) == 1
    finally:
        await engine.dispose()


async def test_a_read_only_unit_refuses_to_emit_or_write_and_nothing_is_written(env: TestEnv, database_factory) -> None:
    settings = env.settings(Settings, await database_factory("points"))
    await upgrade_async(MIGRATIONS, settings.database)
    engine = make_engine(settings.database)
    commands = Commands(make_sessionmaker(engine), settings)
    try:
        with pytest.raises(ReadOnlyViolation, match="cannot emit"):
            async with commands(read_only=True) as uow:
                uow.emit(PURCHASE_ATTRIBUTED, attributed("m1", "T1"), key="m1")
        with pytest.raises(ReadOnlyViolation, match="changed rows"):
            async with commands(read_only=True) as uow:
                uow.session.add(outbox_record(uow.now()))
        with pytest.raises(ReadOnlyViolation, match="only a read-only unit"):
            async with commands() as uow:
                await uow.end_read()
        async with commands(read_only=True) as uow:
            assert (await uow.session.exec(select(func.count()).select_from(OutboxRecord))).one() == 0
    finally:
        await engine.dispose()
