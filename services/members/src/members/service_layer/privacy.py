"""The access log: every read of a member's personal data in clear, and the admins' query over it.

Whoever returns a member's phone, address or e-mail in clear calls `record_personal_data_read` with
the session of the same unit of work, so the log row commits together with the read (a read whose
transaction fails leaves no row, and no response leaves without its row). A member reading their own
data is logged too: the log then tells the whole story of a profile, and the member's own export
shows it.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables.privacy import AccessLogRow
from shared.auth import Principal


def record_personal_data_read(
    session: AsyncSession, reader: Principal, member_id: str, fields: Sequence[str], purpose: str,
    *, at: datetime | None = None,
) -> None:
    """Logs that `reader` saw `fields` of `member_id` in clear, for `purpose` (a route or job name).
    Jobs that read contact details (e.g. an SMS sender) pass a principal naming the job."""
    if not fields:
        return
    session.add(AccessLogRow(
        actor=reader.subject, role=reader.role.value, member_id=member_id, fields=",".join(fields),
        purpose=purpose, at=at or datetime.now(UTC),
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
        query.order_by(AccessLogRow.at.desc(), AccessLogRow.id.desc()).offset(offset).limit(limit)  # type: ignore[attr-defined,union-attr]
    )).all()
    return list(rows), total
