"""Matching sales to members, and new identities (a registration, a phone changed in), never at once.

A sale consumed while its customer registers could otherwise be lost to both: the consumer looks
the card up before the new member is committed and stores the sale as unattributed, while the
registration looks for waiting sales before that sale is committed and finds none. Both paths take
one transaction-scoped advisory lock first, so one of them always sees the other's row.

The race is only ever between a sale and a new identity, so sales and returns take the lock
exclusively and new identities share it: registrations at every desk and replica run side by side,
and a sales batch waits only for those under way. What two registrations could still race on is
settled elsewhere: the unique indexes refuse a phone or card registered twice, a waiting sale
carries one card or one phone and so belongs to one new member at most, and two requests under one
Idempotency-Key wait for each other on a lock of that key, so the second answers the first's member.
SQLite needs none of it: its writers are serialised already (every transaction begins IMMEDIATE).
"""

from sqlalchemy import func
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import advisory_lock, take_advisory_locks

# An arbitrary 64-bit key ("crm_id"), the same in every replica.
IDENTITY_MATCHING = 0x63726D5F6964
# The two-part keys of Idempotency-Keys of registrations: this namespace ("rgst"), the key's hash.
REGISTRATION_KEYS = 0x72677374


async def lock_for_matching_sales(session: AsyncSession) -> None:
    """Before a sale or return is matched to a member by its card or phone."""
    await take_advisory_locks(session, advisory_lock(IDENTITY_MATCHING))


async def lock_for_new_identity(session: AsyncSession, idempotency_key: str | None = None) -> None:
    """Before a card or phone becomes a member's and its waiting sales are looked up."""
    key = [] if idempotency_key is None else [advisory_lock(REGISTRATION_KEYS, func.hashtext(idempotency_key))]
    await take_advisory_locks(session, *key, advisory_lock(IDENTITY_MATCHING, shared=True))
