"""Bulk bonus: one job books the same bonus for a list of members.

The job is created once per Idempotency-Key and then worked through in chunks, one transaction per
chunk. Each member's entry has the source `bulk:<job id>` (unique in the ledger) and the result
row for the member is written in the same transaction, so a crash, a retry or a second worker
resumes where the job stopped and never books a member twice.
"""

import hashlib
import logging
import uuid
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.repository import AccountRepository
from points.adapters.tables import AccountRow, BulkBonusItemRow, BulkBonusJobRow
from points.domain.exceptions import IdempotencyConflict, NotFound
from points.domain.model import EntryType, Source
from shared.commands import Commands
from shared.errors import Invalid
from shared.member_directory import erased_among
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

CHUNK = 200


def _digest(member_ids: list[str], points: int, reason: str) -> str:
    """The request as a set of members: the same members in another order (a list exported again,
    sorted otherwise) are the same job, as they are by card or by id."""
    return hashlib.sha256(f"{points}\n{reason}\n{','.join(sorted(member_ids))}".encode()).hexdigest()


async def create_job(
    uow: UnitOfWork, *, idempotency_key: str, member_ids: list[str], points: int, reason: str, staff_id: str, now: datetime
) -> tuple[BulkBonusJobRow, bool]:
    members = list(dict.fromkeys(member_ids))  # each member once, in the order given
    digest = _digest(members, points, reason)
    earlier = (await uow.session.exec(select(BulkBonusJobRow).where(BulkBonusJobRow.idempotency_key == idempotency_key))).first()
    if earlier is not None:
        if earlier.request_hash != digest:
            raise IdempotencyConflict(f"Idempotency-Key {idempotency_key} was used for a different bulk bonus")
        return earlier, True
    job = BulkBonusJobRow(
        job_id=str(uuid.uuid4()), idempotency_key=idempotency_key, request_hash=digest, points=points, reason=reason,
        status="pending", total=len(members), created_by=staff_id, created_at=now, member_ids=members,
    )
    uow.session.add(job)
    return job, False


async def holders_of(session: AsyncSession, card_nos: list[str]) -> list[str]:
    """The members whose points accounts hold `card_nos` now, in the order of the cards (a card
    given twice, once); every card must be one: those no account holds are refused, naming them."""
    cards = list(dict.fromkeys(card_nos))
    found = dict((await session.exec(select(AccountRow.card_no, AccountRow.member_id).where(col(AccountRow.card_no).in_(cards)))).all())
    if unknown := [card for card in cards if card not in found]:
        shown = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise Invalid("card_nos", f"no points account holds {shown}")
    return [found[card] for card in cards]


async def cards_of(session: AsyncSession, member_ids: list[str]) -> dict[str, str | None]:
    """The card each member's account holds now."""
    if not member_ids:
        return {}
    return dict((await session.exec(select(AccountRow.member_id, AccountRow.card_no).where(col(AccountRow.member_id).in_(member_ids)))).all())


async def jobs(session: AsyncSession, limit: int, offset: int) -> list[tuple[BulkBonusJobRow, dict[str, int]]]:
    """The jobs, newest first, each with its counts (one query for the counts of the page)."""
    page = (await session.exec(select(BulkBonusJobRow).order_by(col(BulkBonusJobRow.created_at).desc(), col(BulkBonusJobRow.job_id))
                                .offset(offset).limit(limit))).all()
    counted = (await session.exec(
        select(BulkBonusItemRow.job_id, BulkBonusItemRow.outcome, func.count())
        .where(col(BulkBonusItemRow.job_id).in_([job.job_id for job in page]))
        .group_by(BulkBonusItemRow.job_id, BulkBonusItemRow.outcome))).all()
    counts = {(job_id, outcome): n for job_id, outcome, n in counted}
    return [(job, {o: counts.get((job.job_id, o), 0) for o in ("booked", "skipped")}) for job in page]


async def progress(session: AsyncSession, job_id: str) -> tuple[BulkBonusJobRow, dict[str, int]]:
    job = await session.get(BulkBonusJobRow, job_id)
    if job is None:
        raise NotFound(f"no bulk bonus job {job_id}")
    counts = dict(
        (await session.exec(select(BulkBonusItemRow.outcome, func.count()).where(BulkBonusItemRow.job_id == job_id).group_by(BulkBonusItemRow.outcome))).all()
    )
    return job, {"booked": counts.get("booked", 0), "skipped": counts.get("skipped", 0)}


async def run_job(commands: Commands, job_id: str) -> dict[str, int]:
    """Works the job through to the end; safe to call again at any time."""
    booked = skipped = 0
    while True:
        async with commands() as uow:
            job = (await uow.session.exec(select(BulkBonusJobRow).where(BulkBonusJobRow.job_id == job_id).with_for_update())).one()
            if job.status == "done":
                break
            done = set((await uow.session.exec(select(BulkBonusItemRow.member_id).where(BulkBonusItemRow.job_id == job_id))).all())
            chunk = [m for m in job.member_ids if m not in done][:CHUNK]
            now = uow.now()
            if not chunk:
                job.status, job.finished_at = "done", now
                uow.session.add(job)
                break
            job.status = "running"
            uow.session.add(job)
            b, s = await _book_chunk(uow, job, chunk, now)
            booked, skipped = booked + b, skipped + s
    return {"booked": booked, "skipped": skipped}


# Why a member was skipped, as the job's result per member records it (the reports word it).
NO_ACCOUNT = "no points account for this member"
ERASED = "member is erased"


async def _book_chunk(uow: UnitOfWork, job: BulkBonusJobRow, chunk: list[str], now: datetime) -> tuple[int, int]:
    ref = f"bulk:{job.job_id}"
    repo = AccountRepository(uow.session, now)
    accounts = await repo.lock_many(chunk, open_missing=False, booked=[(EntryType.BONUS, ref)])
    erased = await erased_among(uow.session, chunk)
    booked = skipped = 0
    for member_id in chunk:
        account = accounts.get(member_id)
        if account is None:
            outcome, detail = "skipped", NO_ACCOUNT
            skipped += 1
        elif member_id in erased and not account.has_booked(EntryType.BONUS, ref):
            # As one by one: nothing new is written about an erased member (the reason is text).
            outcome, detail = "skipped", ERASED
            skipped += 1
        else:
            if not account.has_booked(EntryType.BONUS, ref):
                account.bonus(job.points, reason=job.reason, source=Source(ref=ref, staff_id=job.created_by, job_id=job.job_id), at=now)
            outcome, detail = "booked", f"{job.points} points"
            booked += 1
        uow.session.add(BulkBonusItemRow(job_id=job.job_id, member_id=member_id, outcome=outcome, detail=detail, processed_at=now))
    await repo.save_many(accounts.values())
    return booked, skipped


async def run_unfinished(commands: Commands) -> dict[str, int]:
    async with commands() as uow:
        ids = (await uow.session.exec(select(BulkBonusJobRow.job_id).where(BulkBonusJobRow.status != "done"))).all()
    totals = {"jobs": len(ids), "booked": 0, "skipped": 0, "failed": 0}
    for job_id in ids:
        # One job that cannot go on (its chunk fails each time) must not keep the others waiting:
        # it is logged and counted in the run's result, and tried again on the next run.
        try:
            result = await run_job(commands, job_id)
        except Exception:
            log.exception("bulk bonus job %s failed; the other jobs go on", job_id)
            totals["failed"] += 1
            continue
        totals["booked"] += result["booked"]
        totals["skipped"] += result["skipped"]
    return totals
