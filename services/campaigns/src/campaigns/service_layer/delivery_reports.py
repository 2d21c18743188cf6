"""Delivery reports from the SMS provider: each moves its message (found by our id, which the
provider quotes back as `out_id`) as `domain.delivery_reports` allows. The row is locked, so a
report arriving while the dispatch that sent the message is still committing waits for it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from campaigns.adapters.tables import MessageRow
from campaigns.domain.delivery_reports import after_report
from campaigns.domain.messages import Status
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Report:
    message_id: str
    delivered: bool
    code: str  # the provider's status code, e.g. DELIVERED, MK:0001
    description: str
    at: datetime  # when the carrier reported it


async def apply(uow: UnitOfWork, reports: Sequence[Report]) -> dict[str, int]:
    counts = {"delivered": 0, "failed": 0, "unchanged": 0, "unknown": 0}
    for report in reports:
        row = (await uow.session.exec(
            select(MessageRow).where(MessageRow.id == report.message_id).with_for_update()
        )).first()
        if row is None:  # not ours (another system's OutId), or a test message from the console
            counts["unknown"] += 1
            continue
        moved = after_report(Status(row.status), report.delivered)
        if moved is None:
            counts["unchanged"] += 1
            continue
        row.status = moved.value
        if moved is Status.DELIVERED:
            row.delivered_at, row.reason = report.at, None
        else:
            row.failed_at, row.reason = report.at, f"delivery report {report.code}: {report.description}"[:500]
        uow.session.add(row)
        counts[moved.value] += 1
    return counts
