"""The points liability report: every account with points (or a deficit) replayed from its ledger.

Accounts are read a chunk at a time in member order, each chunk's ledger in one query, so the
report holds one chunk in memory whatever the chain's size. Each account's lots come from its own
ledger read in one statement, as the expiry job reads it; accounts whose balance is zero hold
nothing and are not read. A store's share reads only the accounts one of that store's sales
credited (an `earn` of `sale:<store>/...`), the only ones that can hold points of it.
"""

from datetime import datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import exists
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.repository import LEDGER
from points.adapters.tables import AccountRow, LedgerRow
from points.domain.expiry import ExpiryPolicy, open_lots
from points.domain.liability import Liability, LiabilityTally
from points.domain.model import EntryType
from points.service_layer.erasure import erased_among
from points.service_layer.expiry import ledger_entry
from shared.db import one_of

CHUNK = 500  # accounts a query; their ledgers come in one more
# What the replay reads of an entry (`expiry.ledger_entry`), and whose entry it is.
ENTRY = [LEDGER.c[name] for name in ("member_id", "entry_type", "points", "balance_after", "reason", "source_ref",
                                     "source_event_id", "occurred_at", "reverses")]


async def points_liability(
    session: AsyncSession, policy: ExpiryPolicy, zone: ZoneInfo, now: datetime, store_id: str | None = None,
    chunk: int = CHUNK,
) -> Liability:
    tally = LiabilityTally(today=now.astimezone(zone).date(), store_id=store_id)
    accounts = select(AccountRow.member_id).where(AccountRow.balance != 0)
    if store_id is not None:
        accounts = accounts.where(AccountRow.balance > 0, exists().where(
            col(LedgerRow.member_id) == col(AccountRow.member_id), col(LedgerRow.entry_type) == EntryType.EARN.value,
            col(LedgerRow.source_ref).startswith(f"sale:{store_id}/", autoescape=True),
        ))
    after = ""
    while True:
        ids = list((await session.exec(
            accounts.where(AccountRow.member_id > after).order_by(col(AccountRow.member_id)).limit(chunk)
        )).all())
        if not ids:
            return tally.result()
        erased = await erased_among(session, ids)
        # Plain rows, not ORM objects: building those took most of the report's time.
        rows = (await session.exec(core_select(*ENTRY).where(  # type: ignore[call-overload]
            one_of(session, LEDGER.c.member_id, ids)).order_by(LEDGER.c.member_id, LEDGER.c.id)
        )).all()
        for member_id, own in groupby(rows, key=lambda row: row.member_id):
            entries = [ledger_entry(row) for row in own]
            tally.add(open_lots(entries, policy, zone), balance=sum(e.points for e in entries), erased=member_id in erased)
        after = ids[-1]
