"""Manual adjustments and bonuses by staff: always with a reason, once per Idempotency-Key, and
within the caps (domain/manual.py) for staff whose reach is one store.

A capped booking first takes its staff member's lock row, then the account (always in this order),
then counts what they booked today: two parallel requests by one store manager are serialised, so
the second counts the first and they cannot both pass the daily cap.
"""

import uuid
from datetime import datetime

from sqlmodel import select

from points.adapters.manual_bookings import lock_staff, points_booked_by
from points.adapters.repository import AccountRepository
from points.adapters.tables import LedgerRow
from points.domain.exceptions import IdempotencyConflict, NotFound
from points.domain.manual import ManualCaps
from points.domain.model import EntryType, Source
from points.service_layer.erasure import REDACTED, ensure_not_erased
from shared.member_directory import erased_among
from shared.unit_of_work import UnitOfWork


async def book_manual(
    uow: UnitOfWork, *, kind: EntryType, member_id: str, points: int, reason: str, staff_id: str,
    idempotency_key: str | None, now: datetime, caps: ManualCaps | None,
) -> tuple[LedgerRow, bool]:
    """The ledger row and whether it was booked before under the same key (a retry). `caps` is None
    for a caller who may book any amount (an admin)."""
    ref = f"{kind.value}:{idempotency_key or uuid.uuid4()}"
    if caps is not None:
        await lock_staff(uow.session, staff_id, now)
    repo = AccountRepository(uow.session, now)
    account = await repo.lock(member_id, open_missing=False, booked=[(kind, ref)])
    if account is None:
        raise NotFound(f"no points account for member {member_id}")
    if not account.has_booked(kind, ref):  # a retry of a booked entry is answered whatever today's count
        await ensure_not_erased(uow.session, member_id)  # the reason is text about them
        if caps is not None:
            caps.check(points, await points_booked_by(uow.session, staff_id, *caps.day_of(now)))
        source = Source(ref=ref, staff_id=staff_id)
        if kind == EntryType.BONUS:
            account.bonus(points, reason=reason, source=source, at=now)
        else:
            account.adjust(points, reason=reason, source=source, at=now)
        await repo.save(account)
        replay = False
    else:
        replay = True
    row = (
        await uow.session.exec(
            select(LedgerRow).where(LedgerRow.member_id == member_id, LedgerRow.entry_type == kind.value, LedgerRow.source_ref == ref)
        )
    ).one()
    if replay and not await _same_booking(uow, row, points, reason):
        # The entry is the request's fingerprint: another amount or reason under the key is another booking.
        raise IdempotencyConflict(f"Idempotency-Key {idempotency_key} was used for a different {kind.value}")
    return row, replay


async def _same_booking(uow: UnitOfWork, row: LedgerRow, points: int, reason: str) -> bool:
    """Whether a retry asks for the entry booked under its key. The member's erasure replaced the
    reason staff wrote (`erasure.REDACTED`), so an erased member's entry is matched by its points:
    the retry of a bonus booked before the erasure is answered with it, not taken for another."""
    if row.points != points:
        return False
    return row.reason == reason or (row.reason == REDACTED and bool(await erased_among(uow.session, [row.member_id])))
