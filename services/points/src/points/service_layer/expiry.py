"""The expiry job: expires what is due and warns members ahead of time.

Safe to run twice and on several replicas: the replayed ledger, read under the account's lock,
already shows expired lots as consumed; an expiry entry's source is `expiry:<date>@<run day>`
(unique in the ledger; `#2`... for the same date due again later that day); a warning
is recorded per member and expiry date (unique), and its event id is derived from both.
"""

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.repository import AccountRepository
from points.adapters.tables import AccountRow, ExpiryWarningRow, LedgerRow, table_of
from points.domain.expiry import ExpiryPolicy, due, open_lots, overdue, upcoming
from points.domain.model import EntryType, LedgerEntry, PointsAccount, Source
from shared import ledger_reasons as reasons
from shared.commands import Commands, derived_event_id
from shared.db import insert_into
from shared.events import contracts as c
from shared.events.registry import POINTS_EXPIRING
from shared.integers import POINTS_MAX
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

WARNINGS = table_of(ExpiryWarningRow)


async def _candidates(session: AsyncSession, policy: ExpiryPolicy, zone: ZoneInfo, today: date) -> list[str]:
    """Members with a positive balance and a credit old enough to expire within the window."""
    boundary = datetime(policy.last_expiring_earned_year(today) + 1, 1, 1, tzinfo=zone)
    query = (
        select(LedgerRow.member_id)
        .distinct()
        .join(AccountRow, col(AccountRow.member_id) == col(LedgerRow.member_id))
        .where(LedgerRow.points > 0, LedgerRow.occurred_at < boundary, AccountRow.balance > 0)
        .order_by(LedgerRow.member_id)
    )
    return list((await session.exec(query)).all())


def _reverses(row: LedgerRow | Row[Any]) -> str | None:
    """The sale a reversal takes back: its column, or for one booked before the column (migration
    0013) its reason, which names the sale (unless cut at 200 characters: then the oldest first)."""
    if row.entry_type != EntryType.REVERSE.value:
        return None
    if row.reverses:
        return row.reverses
    said = reasons.read(row.reason)
    return f"sale:{said.sale}" if said is not None and said.kind == "return" else None


def ledger_entry(r: LedgerRow | Row[Any]) -> LedgerEntry:
    """A stored entry (a row of `LedgerRow`'s table, or one read as a plain row) as the domain
    replays it (`domain.expiry`)."""
    return LedgerEntry(EntryType(r.entry_type), r.points, r.balance_after, r.reason, r.source_ref, r.source_event_id, r.occurred_at,
                       reverses=_reverses(r))


async def member_entries(session: AsyncSession, member_id: str) -> list[LedgerEntry]:
    rows = (await session.exec(select(LedgerRow).where(LedgerRow.member_id == member_id).order_by(col(LedgerRow.id)))).all()
    return [ledger_entry(r) for r in rows]


async def overdue_points(session: AsyncSession, member_id: str, policy: ExpiryPolicy, zone: ZoneInfo, now: datetime) -> int:
    """Points of the member's balance past their expiry date that the job has not taken yet (it
    runs every few hours): they are held, not spent."""
    return overdue(open_lots(await member_entries(session, member_id), policy, zone), now.astimezone(zone).date())


async def run_expiry(commands: Commands, policy: ExpiryPolicy, zone: ZoneInfo, now: datetime) -> dict[str, int]:
    today = now.astimezone(zone).date()
    async with commands() as uow:
        members = await _candidates(uow.session, policy, zone, today)
    summary = {"members_checked": len(members), "points_expired": 0, "expiry_entries": 0, "warnings": 0, "failed": 0}
    for member_id in members:
        # One member's failure (a lock timeout, a database error) is theirs alone:
        # logged and counted, and the run goes on to everyone after them, as the next run retries it.
        counted = dict(summary)
        try:
            async with commands() as uow:
                await _expire_member(uow, member_id, policy, zone, today, now, counted)
        except Exception:
            log.exception("points expiry failed for member %s; the others go on", member_id)
            summary["failed"] += 1
        else:
            summary = counted
    return summary


def _expiry_ref(account: PointsAccount, expires_on: date, today: date) -> str:
    """The source of an expiry: `expiry:<valid until>@<run day>`, and `#2`, `#3`... for points of
    that date due again the same day (given back by a cancelled redemption, earned by a late sale
    of an earlier year) after a run took the first. What is due comes from the replayed ledger,
    under the account's lock, so a rerun finds nothing left to book: the suffix cannot repeat one."""
    ref = f"expiry:{expires_on.isoformat()}@{today.isoformat()}"
    n = 1
    while account.has_booked(EntryType.EXPIRE, ref if n == 1 else f"{ref}#{n}"):
        n += 1
    return ref if n == 1 else f"{ref}#{n}"


async def _expire_member(
    uow: UnitOfWork, member_id: str, policy: ExpiryPolicy, zone: ZoneInfo, today: date, now: datetime, summary: dict[str, int]
) -> None:
    repo = AccountRepository(uow.session, now)
    account = await repo.lock(member_id, open_missing=False)
    if account is None:
        return
    entries = await member_entries(uow.session, member_id)
    account.booked_sources = {(e.entry_type, e.source_ref) for e in entries}
    lots = open_lots(entries, policy, zone)
    job_id = f"expiry@{today.isoformat()}"
    for expires_on, points in sorted(due(lots, today).items()):
        amount = min(points, account.balance)
        if amount <= 0:
            continue
        ref = _expiry_ref(account, expires_on, today)
        account.expire(
            amount, reason=reasons.points_expired(expires_on), source=Source(ref=ref, job_id=job_id), at=now
        )
        summary["points_expired"] += amount
        summary["expiry_entries"] += 1
    await repo.save(account)
    for expires_on, points in sorted(upcoming(lots, today, policy).items()):
        inserted = await uow.session.exec(
            insert_into(uow.session, WARNINGS).on_conflict_do_nothing().values(
                member_id=member_id, expires_on=expires_on, points=points, warned_at=now
            )
        )
        if inserted.rowcount != 1:
            continue  # warned before, by an earlier run
        # The event carries at most POINTS_MAX, the most any points figure on an event may be: one
        # sale earns at most that, but a member's points of one expiry date add up over many sales.
        # One warning naming the cap (the row above keeps the whole figure, and the member's
        # `expiring` view shows it) rather than a run that fails on this member every time and
        # expires none of their due points; several events for one date would each trigger the
        # same reminder, which campaigns sends once per member and date anyway.
        if points > POINTS_MAX:
            log.warning("member %s: %d points expire on %s; the warning carries the cap of %d",
                        member_id, points, expires_on.isoformat(), POINTS_MAX)
        uow.emit(
            POINTS_EXPIRING,
            c.PointsExpiringV1(member_id=member_id, points=min(points, POINTS_MAX), expires_on=expires_on,
                               balance=account.balance),
            key=member_id, subject=member_id,
            event_id=derived_event_id("points", "points-expiring", member_id, expires_on.isoformat()),
        )
        summary["warnings"] += 1
