"""Loads and saves points accounts."""

from datetime import UTC, datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.tables import AccountRow, LedgerRow
from points.domain.model import EntryType, PointsAccount


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # Rows loaded (and locked) by get(), so save() updates them without selecting again.
        self._rows: dict[str, AccountRow] = {}

    async def get(self, member_id: str, *, source_refs: list[str] | None = None) -> PointsAccount | None:
        # Row lock on PostgreSQL so two transactions cannot book on stale balances.
        row = (await self.session.exec(select(AccountRow).where(AccountRow.member_id == member_id).with_for_update())).first()
        if row is None:
            return None
        self._rows[member_id] = row
        booked: set[tuple[EntryType, str]] = set()
        if source_refs:
            found = await self.session.exec(
                select(LedgerRow.entry_type, LedgerRow.source_ref).where(
                    LedgerRow.member_id == member_id, LedgerRow.source_ref.in_(source_refs)  # type: ignore[attr-defined]
                )
            )
            booked = {(EntryType(kind), ref) for kind, ref in found}
        return PointsAccount(member_id=row.member_id, channel=row.channel, balance=row.balance, booked_sources=booked)

    async def get_or_open(self, member_id: str, *, channel: str = "retail", source_refs: list[str] | None = None) -> PointsAccount:
        account = await self.get(member_id, source_refs=source_refs)
        if account is not None:
            return account
        now = datetime.now(UTC)
        row = AccountRow(member_id=member_id, channel=channel, balance=0, opened_at=now, updated_at=now)
        self.session.add(row)
        await self.session.flush()
        self._rows[member_id] = row
        return PointsAccount(member_id=member_id, channel=channel)

    async def save(self, account: PointsAccount) -> None:
        now = datetime.now(UTC)
        row = self._rows[account.member_id]
        row.balance = account.balance
        row.channel = account.channel
        row.updated_at = now
        self.session.add(row)
        for entry in account.new_entries:
            self.session.add(
                LedgerRow(
                    member_id=account.member_id, entry_type=entry.entry_type.value, points=entry.points,
                    balance_after=entry.balance_after, reason=entry.reason, source_ref=entry.source_ref,
                    source_event_id=entry.source_event_id, occurred_at=entry.occurred_at, booked_at=now,
                )
            )
        account.new_entries.clear()
