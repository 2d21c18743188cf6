"""The access log: every read of a member's personal data in clear, and the admins' query over it.

Whoever returns a member's phone, address or e-mail in clear calls `record_personal_data_read` with
the session of the same unit of work, so the log row commits together with the read (a read whose
transaction fails leaves no row, and no response leaves without its row). A member reading their own
data is logged too: the log then tells the whole story of a profile, and the member's own export
shows it.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables.privacy import AccessLogRow
from shared.auth import Principal
from shared.errors import TooManyRequests


def record_personal_data_read(
    session: AsyncSession, reader: Principal, member_id: str, fields: Sequence[str], purpose: str,
    *, now: datetime,
) -> None:
    """Logs that `reader` saw `fields` of `member_id` in clear, for `purpose` (a route or job name).
    Jobs that read contact details (e.g. an SMS sender) pass a principal naming the job."""
    if not fields:
        return
    session.add(AccessLogRow(
        actor=reader.subject, role=reader.role.value, member_id=member_id, fields=",".join(fields),
        purpose=purpose, at=now,
    ))


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
