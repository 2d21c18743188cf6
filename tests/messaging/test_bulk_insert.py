"""`BulkInsert`: one statement built once per dialect and run for batches of any size, with the
columns' own conversions and its ON CONFLICT and RETURNING clauses, on both backends."""

from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlmodel import select

from gateway.adapters.tables import PosSaleRow
from gateway.config import Settings
from shared.clock import utc_now
from shared.db import BulkInsert, is_postgresql, make_engine, make_sessionmaker
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration

SALES = PosSaleRow.__table__  # type: ignore[attr-defined]
COLUMNS = ["store_id", "pos_txn_id", "event_id", "digest", "total", "refunded_total", "occurred_at", "accepted_at",
           "sold_by_sku"]
INSERT = BulkInsert(SALES, COLUMNS, lambda insert: insert.on_conflict_do_nothing().returning(SALES.c.pos_txn_id))


def _sale(txn: str, total: str) -> dict:
    now = utc_now()
    return {"store_id": "S001", "pos_txn_id": txn, "event_id": f"e-{txn}", "digest": "d", "total": Decimal(total),
            "refunded_total": Decimal("0.00"), "occurred_at": now, "accepted_at": now, "sold_by_sku": "{}"}


async def test_batches_of_any_size_share_the_statement_and_keep_conflicts_out(env: TestEnv, database_factory) -> None:
    settings = env.settings(Settings, await database_factory("gateway"))  # migrated already
    engine = make_engine(settings.database)
    sessions = make_sessionmaker(engine)
    sent: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: sent.append(statement) if "INSERT INTO pos_sale" in statement else None)
    try:
        async with sessions() as session:
            first = (await INSERT.run(session, [_sale("T1", "12.30"), _sale("T2", "0.05")])).all()
            # A batch of another size, one row of it accepted already: only the new one comes back.
            second = (await INSERT.run(session, [_sale("T2", "99.99"), _sale("T3", "7.00"), _sale("T4", "1.10")])).all()
            await session.commit()
        assert sorted(r[0] for r in first) == ["T1", "T2"]
        assert sorted(r[0] for r in second) == ["T3", "T4"]
        if is_postgresql(engine):  # one statement text whatever the batch's size: prepared once
            assert len(sent) == 2 and sent[0] == sent[1], sent
        async with sessions() as session:
            totals = dict((await session.exec(select(SALES.c.pos_txn_id, SALES.c.total))).all())  # type: ignore[call-overload]
        # Money through the column's own type (fen on the way in, Decimal out); T2 kept as first written.
        assert totals == {"T1": Decimal("12.30"), "T2": Decimal("0.05"), "T3": Decimal("7.00"), "T4": Decimal("1.10")}
    finally:
        await engine.dispose()
