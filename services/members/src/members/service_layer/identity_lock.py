"""Matching sales to members and attributing waiting sales at registration, one at a time.

A sale consumed while its customer registers could otherwise be lost to both: the consumer looks
the card up before the new member is committed and stores the sale as unattributed, while the
registration looks for waiting sales before that sale is committed and finds none. Both paths take
one transaction-scoped advisory lock first, so one of them always sees the other's row. SQLite
needs nothing: its writers are serialised already (every transaction begins IMMEDIATE).
"""

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import is_postgresql

# An arbitrary 64-bit key ("crm_id"), the same in every replica.
IDENTITY_MATCHING = 0x63726D5F6964


async def serialise_identity_matching(session: AsyncSession) -> None:
    if is_postgresql(session):
        await session.exec(select(func.pg_advisory_xact_lock(IDENTITY_MATCHING)))
