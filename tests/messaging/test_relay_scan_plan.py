"""The relay's scan for pending rows walks `ix_outbox_pending` in order and stops after a batch,
whatever the statistics say about how many rows are pending: on an outbox whose statistics predate
a backlog, PostgreSQL could choose to read every pending row and sort them instead."""

import pytest
from sqlalchemy import text, update
from sqlalchemy.dialects import postgresql
from sqlmodel import select

from shared.clock import utc_now
from shared.db import insert_rows
from shared.outbox import OUTBOX, OutboxRelay, pending_rows
from tests.messaging.test_outbox_and_consumer import database
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_the_relays_scan_walks_the_pending_index_in_order_with_stale_statistics(env: TestEnv, database_factory) -> None:
    now = utc_now()
    async with database(env, database_factory) as (settings, sessions):
        async with sessions() as session:
            # A backlog on a table never analyzed: 20,000 rows written, the first 8,000 published.
            await insert_rows(session, OUTBOX, [
                {"event_id": f"e{i}", "event_type": "t", "topic": "t", "key": "k", "envelope": "{}" + " " * 900,
                 "created_at": now} for i in range(20_000)])
            first = (await session.exec(select(OUTBOX.c.id).order_by(OUTBOX.c.id).limit(1))).one()
            await session.exec(update(OUTBOX).where(OUTBOX.c.id < first + 8_000).values(published_at=now))  # type: ignore[call-overload]
            await session.commit()
        scan = pending_rows(settings.outbox_batch_size, first + 8_000).compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        async with OutboxRelay(settings, sessions)._publisher_session() as session:
            assert session is not None  # the publisher lock is free
            plan = "\n".join((await session.exec(text(f"EXPLAIN {scan}"))).scalars())  # type: ignore[call-overload]
    assert "Index Scan using ix_outbox_pending" in plan and "Bitmap" not in plan and "Sort" not in plan, plan
