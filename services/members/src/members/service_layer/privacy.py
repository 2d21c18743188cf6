"""The access log: every read of a member's personal data in clear, and the admins' query over it.

Whoever returns a member's phone, address or e-mail in clear logs it before answering: a unit of
work that writes anyway calls `record_personal_data_read` with its own session, so the log row
commits together with the read (a read whose transaction fails leaves no row); a read-only unit (a
profile read, the customer-360 view's) hands its rows to `AccessLogWriter`, which writes the rows
of concurrent reads in one shared transaction and answers each read only once its rows are
committed. Either way no response leaves without its row. A member reading their own data is
logged too: the log then tells the whole story of a profile, and the member's own export shows it.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables.privacy import AccessLogRow
from shared.auth import Principal
from shared.commands import Commands
from shared.errors import TooManyRequests
from shared.group_commit import GroupCommit
from shared.unit_of_work import UnitOfWork


def access_row(
    reader: Principal, member_id: str, fields: Sequence[str], purpose: str, *, now: datetime
) -> dict[str, Any]:
    """The log row saying that `reader` saw `fields` of `member_id` in clear, for `purpose`."""
    return {"actor": reader.subject, "role": reader.role.value, "member_id": member_id, "fields": ",".join(fields),
            "purpose": purpose, "at": now}


def record_personal_data_read(
    session: AsyncSession, reader: Principal, member_id: str, fields: Sequence[str], purpose: str,
    *, now: datetime,
) -> None:
    """Logs, in the session's transaction, that `reader` saw `fields` of `member_id` in clear, for
    `purpose` (a route or job name). Jobs that read contact details (e.g. an SMS sender) pass a
    principal naming the job."""
    if not fields:
        return
    session.add(AccessLogRow(**access_row(reader, member_id, fields, purpose, now=now)))


async def _write_access_rows(uow: UnitOfWork, reads: Sequence[list[dict[str, Any]]]) -> list[None]:
    rows = [row for read in reads for row in read]
    if rows:
        await uow.session.exec(insert(AccessLogRow), params=rows)  # one multi-row INSERT
    return [None] * len(reads)


class AccessLogWriter:
    """Writes the access-log rows of read-only units: concurrent reads share one transaction
    (`shared.group_commit`), where a row each in the read's own transaction cost every profile
    read a write transaction (on SQLite, a turn at the one write lock)."""

    def __init__(self, commands: Commands) -> None:
        self._group = GroupCommit[list[dict[str, Any]], None](commands, _write_access_rows, name="access-log-writer")

    @property
    def transactions(self) -> int:
        """Transactions committed so far (`crm_group_commit_items` counts them for operators)."""
        return self._group.groups_written

    async def record(self, rows: list[dict[str, Any]]) -> None:
        """Returns once the rows are committed (raises if they could not be): the caller answers
        only then."""
        if rows:
            await self._group.submit(rows)


PHONE_SEARCH = "members.search_by_phone"


class TooManySearches(TooManyRequests):
    """The caller searched by phone more often than the policy allows (HTTP 429)."""


async def phone_search_allowed(
    session: AsyncSession, reader: Principal, limit: int, window: timedelta, *, now: datetime
) -> None:
    """Refuses a phone search beyond `limit` per `window` for this caller. Counted from the access
    log itself, so the limit holds across replicas and restarts and needs no store of its own."""
    since = now - window
    done = (await session.exec(select(func.count()).select_from(AccessLogRow).where(
        AccessLogRow.actor == reader.subject, AccessLogRow.purpose == PHONE_SEARCH, AccessLogRow.at >= since,
    ))).one()
    if done >= limit:
        raise TooManySearches(
            f"phone: at most {limit} searches by phone per {int(window.total_seconds() // 60)} minutes; try again later"
        )


def record_phone_search(session: AsyncSession, reader: Principal, found: Sequence[str], *, now: datetime) -> None:
    """Every search by phone is logged, a miss too (as member ""): a search tells the caller whose
    number it is, or that it is nobody's."""
    for member_id in found or [""]:
        session.add(AccessLogRow(
            actor=reader.subject, role=reader.role.value, member_id=member_id, fields="phone", purpose=PHONE_SEARCH,
            at=now,
        ))


async def access_log_page(
    session: AsyncSession, *, member_id: str | None, actor: str | None, since: datetime | None,
    until: datetime | None, limit: int, offset: int,
) -> tuple[list[AccessLogRow], int]:
    """Newest first; `since` inclusive, `until` exclusive."""
    query = select(AccessLogRow)
    if member_id:
        query = query.where(AccessLogRow.member_id == member_id)
    if actor:
        query = query.where(AccessLogRow.actor == actor)
    if since:
        query = query.where(AccessLogRow.at >= since)
    if until:
        query = query.where(AccessLogRow.at < until)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = (await session.exec(
        query.order_by(col(AccessLogRow.at).desc(), col(AccessLogRow.id).desc()).offset(offset).limit(limit)
    )).all()
    return list(rows), total
