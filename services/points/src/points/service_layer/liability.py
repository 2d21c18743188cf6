"""The points liability report: every account with points (or a deficit) replayed from its ledger.

Accounts are read a chunk at a time in member order, each chunk's ledger in one query, so the
report holds one chunk in memory whatever the chain's size. Each account's lots come from its own
ledger read in one statement, as the expiry job reads it; accounts whose balance is zero hold
nothing and are not read. A store's share reads only the accounts one of that store's sales
credited (an `earn` of `sale:<store>/...`), the only ones that can hold points of it.

The daily snapshot (`take_snapshot`) replays every account once for the chain and all its stores
and keeps the figures by business day: a month-end's figure can be read after the fact, and a
chain whose ledger is too long to replay within a request reads the day's (`snapshot`).
"""

from datetime import date, datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, func
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.repository import LEDGER
from points.adapters.tables import AccountRow, LedgerRow, LiabilitySnapshotRow, table_of
from points.config import Settings
from points.domain.expiry import ExpiryPolicy, open_lots
from points.domain.liability import Liability, LiabilityBook, LiabilityTally
from points.domain.model import EntryType
from points.service_layer.expiry import ledger_entry
from shared.commands import Commands
from shared.db import insert_or_skip, one_of
from shared.errors import NotFound
from shared.member_directory import erased_among

CHUNK = 500  # accounts a query; their ledgers come in one more
SNAPSHOTS = table_of(LiabilitySnapshotRow)
# What the replay reads of an entry (`expiry.ledger_entry`), and whose entry it is.
ENTRY = [LEDGER.c[name] for name in ("member_id", "entry_type", "points", "balance_after", "reason", "source_ref",
                                     "source_event_id", "occurred_at", "reverses")]


async def points_liability(
    session: AsyncSession, policy: ExpiryPolicy, zone: ZoneInfo, now: datetime, store_id: str | None = None,
    chunk: int = CHUNK,
) -> Liability:
    """What members hold now: the chain's figure, or `store_id`'s share."""
    tally = LiabilityTally(today=now.astimezone(zone).date(), store_id=store_id)
    await _replay_accounts(session, tally, policy, zone, store_id, chunk)
    return tally.result()


async def _replay_accounts(
    session: AsyncSession, tally: LiabilityTally | LiabilityBook, policy: ExpiryPolicy, zone: ZoneInfo,
    store_id: str | None, chunk: int,
) -> None:
    """Adds to `tally` every account that may hold points (of `store_id`'s sales, if given)."""
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
            return
        erased = await erased_among(session, ids)
        # Plain rows, not ORM objects: building those took most of the report's time.
        rows = (await session.exec(core_select(*ENTRY).where(  # type: ignore[call-overload]
            one_of(session, LEDGER.c.member_id, ids)).order_by(LEDGER.c.member_id, LEDGER.c.id)
        )).all()
        for member_id, own in groupby(rows, key=lambda row: row.member_id):
            entries = [ledger_entry(row) for row in own]
            tally.add(open_lots(entries, policy, zone), balance=sum(e.points for e in entries), erased=member_id in erased)
        after = ids[-1]


# The chain's figure is kept under no store.
CHAIN = ""


async def take_snapshot(commands: Commands, settings: Settings) -> dict[str, int]:
    """The day's snapshot of the liability, once a business day: the first run of the day replays
    the ledger once for the chain and every store, and keeps their figures; later runs of the day
    find it taken. Snapshots older than `liability_snapshot_days_kept` go, except each month's
    first, which holds the previous month's close for the books.

    Always of the ledger as it is, at the service's clock: a run by hand for a past moment would
    otherwise keep today's figures under a past day, which no replay can rebuild."""
    zone, now = settings.zone, commands.clock()
    day = now.astimezone(zone).date()
    async with commands() as uow:
        if await uow.session.get(LiabilitySnapshotRow, (day, CHAIN)) is not None:
            return {"snapshots": 0, "pruned": 0}
    book = LiabilityBook(today=day)
    async with commands(read_only=True) as uow:
        await _replay_accounts(uow.session, book, settings.expiry_policy, zone, None, CHUNK)
    rows = [{"business_day": day, "store_id": store or CHAIN, "taken_at": now, "figures": figures.as_json()}
            for store, figures in book.results().items()]
    oldest_kept = day - timedelta(days=settings.liability_snapshot_days_kept)
    async with commands() as uow:
        # Another replica's run of the same moment may have kept the day's first: its figures stand.
        kept = await insert_or_skip(uow.session, SNAPSHOTS, rows, conflict_on=["business_day", "store_id"],
                                    returning="store_id")
        pruned = await uow.session.exec(delete(SNAPSHOTS).where(
            SNAPSHOTS.c.business_day < oldest_kept, func.extract("day", SNAPSHOTS.c.business_day) != 1))
    return {"snapshots": len(kept), "pruned": pruned.rowcount}


async def snapshot_days(session: AsyncSession) -> list[tuple[date, datetime]]:
    """The days whose snapshot is kept, newest first, with when each was taken."""
    rows = await session.exec(core_select(SNAPSHOTS.c.business_day, SNAPSHOTS.c.taken_at)  # type: ignore[call-overload]
                              .where(SNAPSHOTS.c.store_id == CHAIN).order_by(SNAPSHOTS.c.business_day.desc()))
    return [(day, taken_at) for day, taken_at in rows.all()]


async def snapshot(session: AsyncSession, day: date, store_id: str | None) -> tuple[datetime, Liability]:
    """The figures the day's snapshot kept: the chain's, or a store's share (nothing held, when
    none of the points then held came from its sales). NotFound names the days kept."""
    chain = await session.get(LiabilitySnapshotRow, (day, CHAIN))
    if chain is None:
        first, last = (await session.exec(select(func.min(LiabilitySnapshotRow.business_day),
                                                  func.max(LiabilitySnapshotRow.business_day)))).one()
        kept = f"snapshots are kept from {first} to {last}" if first else "no snapshot has been taken yet"
        raise NotFound(f"no snapshot of the points liability was taken on {day}: {kept}")
    if store_id is None:
        return chain.taken_at, Liability.from_json(chain.figures)
    share = await session.get(LiabilitySnapshotRow, (day, store_id))
    return chain.taken_at, Liability.from_json(share.figures) if share else Liability.nothing(chain=False)
