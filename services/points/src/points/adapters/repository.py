"""Loads and saves points accounts, one or many at a time.

Accounts are read as plain columns (no ORM identity map) and written with multi-row statements, so
a batch of a thousand sales costs a handful of round trips. Rows are locked (`FOR UPDATE` on
PostgreSQL, the write lock of `BEGIN IMMEDIATE` on SQLite) in member-id order, so two transactions
never book on a stale balance and never deadlock on each other.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, text, tuple_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.tables import AccountRow, LedgerRow, table_of
from points.domain.model import EntryType, PointsAccount
from shared.db import insert_many, insert_rows, is_postgresql, one_of

ACCOUNTS = table_of(AccountRow)
LEDGER = table_of(LedgerRow)


class AccountRepository:
    """`now` is the unit of work's time (its clock, or a job's `now`): when accounts are opened and
    entries booked. Manual caps count bookings by it, so it must be the same clock the caps read."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now

    async def open(self, member_ids: Iterable[str], *, channel: str = "retail", card_no: str | None = None) -> None:
        now = self.now
        rows = [
            {"member_id": m, "channel": channel, "card_no": card_no, "balance": 0, "opened_at": now, "updated_at": now}
            for m in member_ids
        ]
        if rows:
            # One INSERT ... SELECT FROM unnest(...) on PostgreSQL however many members.
            stmt, params = insert_many(self.session, ACCOUNTS, rows)
            await self.session.exec(stmt.on_conflict_do_nothing(), params=params)

    async def lock_many(
        self, member_ids: Iterable[str], *, open_missing: bool = True, booked: Iterable[tuple[EntryType, str]] = ()
    ) -> dict[str, PointsAccount]:
        """The accounts of these members, locked; missing ones are opened first (retail channel)."""
        ids = sorted(set(member_ids))
        if not ids:
            return {}
        accounts = await self._locked(ids)
        # Opened only when missing, after the existing rows are locked: nearly every account exists
        # already, and inserting them all again to skip them on conflict cost a statement parameter
        # set per member.
        missing = [m for m in ids if m not in accounts] if open_missing else []
        if missing:
            await self.open(missing)
            accounts.update(await self._locked(missing))
        wanted = [(kind.value, ref) for kind, ref in booked]
        if wanted and accounts:
            hits = await self.session.exec(
                select(LEDGER.c.member_id, LEDGER.c.entry_type, LEDGER.c.source_ref).where(
                    LEDGER.c.member_id.in_(list(accounts)),
                    tuple_(LEDGER.c.entry_type, LEDGER.c.source_ref).in_(wanted),
                )
            )
            for member_id, kind, ref in hits:
                accounts[member_id].booked_sources.add((EntryType(kind), ref))
        return accounts

    async def _locked(self, ids: list[str]) -> dict[str, PointsAccount]:
        found = await self.session.exec(
            select(ACCOUNTS.c.member_id, ACCOUNTS.c.channel, ACCOUNTS.c.balance)
            .where(one_of(self.session, ACCOUNTS.c.member_id, ids))
            .order_by(ACCOUNTS.c.member_id)
            .with_for_update()
        )
        return {m: PointsAccount(member_id=m, channel=ch, balance=bal) for m, ch, bal in found}

    async def lock(
        self, member_id: str, *, open_missing: bool = True, booked: Iterable[tuple[EntryType, str]] = ()
    ) -> PointsAccount | None:
        return (await self.lock_many([member_id], open_missing=open_missing, booked=booked)).get(member_id)

    async def save(self, *accounts: PointsAccount) -> None:
        await self.save_many(accounts)

    async def save_many(self, accounts: Iterable[PointsAccount]) -> None:
        now = self.now
        changed = [a for a in accounts if a.new_entries]
        if not changed:
            return
        if is_postgresql(self.session):  # one statement for the whole batch
            # Plain SQL, which sqlmodel's exec() does not take: run on the transaction's connection.
            connection = await self.session.connection()
            await connection.execute(
                text(
                    "UPDATE points_account AS a SET balance = v.balance, updated_at = :now"
                    " FROM unnest(CAST(:ids AS varchar[]), CAST(:balances AS bigint[])) AS v(member_id, balance)"
                    " WHERE a.member_id = v.member_id"
                ),
                {"ids": [a.member_id for a in changed], "balances": [a.balance for a in changed], "now": now},
            )
        else:
            await self.session.exec(
                update(ACCOUNTS)
                .where(ACCOUNTS.c.member_id == bindparam("m"))
                .values(balance=bindparam("b"), updated_at=bindparam("u")),
                params=[{"m": a.member_id, "b": a.balance, "u": now} for a in changed],
            )
        await insert_rows(
            self.session,
            LEDGER,
            [
                {
                    "member_id": a.member_id, "entry_type": e.entry_type.value, "points": e.points,
                    "balance_after": e.balance_after, "reason": e.reason[:200], "source_ref": e.source_ref,
                    "source_event_id": e.source_event_id, "staff_id": e.staff_id, "job_id": e.job_id, "reverses": e.reverses,
                    "occurred_at": e.occurred_at, "booked_at": now,
                }
                for a in changed
                for e in a.new_entries
            ],
        )
        for a in changed:
            a.new_entries.clear()
