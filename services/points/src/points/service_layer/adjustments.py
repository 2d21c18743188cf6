"""Manual adjustments and bonuses by staff: always with a reason, once per Idempotency-Key."""

import uuid
from datetime import datetime

from sqlmodel import select

from points.adapters.repository import AccountRepository
from points.adapters.tables import LedgerRow
from points.domain.model import EntryType, Source
from points.service_layer.redemptions import NotFound
from shared.unit_of_work import UnitOfWork


async def book_manual(
    uow: UnitOfWork, *, kind: EntryType, member_id: str, points: int, reason: str, staff_id: str,
    idempotency_key: str | None, now: datetime,
) -> tuple[LedgerRow, bool]:
    """The ledger row and whether it was booked before under the same key (a retry)."""
    ref = f"{kind.value}:{idempotency_key or uuid.uuid4()}"
    repo = AccountRepository(uow.session)
    account = await repo.lock(member_id, open_missing=False, booked=[(kind, ref)])
    if account is None:
        raise NotFound(f"no points account for member {member_id}")
    if not account.has_booked(kind, ref):
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
    return row, replay
