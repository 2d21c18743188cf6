"""The complaint events feedback publishes: ids, store, category and severity, never free text.

Event ids are derived from the complaint and the step, so a retried request or a second job run
cannot announce the same fact twice (the outbox refuses a duplicate event id).
"""

from datetime import datetime
from decimal import Decimal
from typing import cast

from feedback.adapters.tables import ComplaintRow
from feedback.domain.workflow import Step
from shared.commands import derived_event_id
from shared.events import contracts as c
from shared.events.contracts import ComplaintCategory, ComplaintChannel, Severity
from shared.events.registry import COMPLAINT_ESCALATED, COMPLAINT_FILED, COMPLAINT_RESOLVED
from shared.unit_of_work import UnitOfWork


def event_id(complaint_id: str, fact: str) -> str:
    return derived_event_id("feedback", "complaint", complaint_id, fact)


def _key(row: ComplaintRow) -> str:
    # Keyed by member so a customer's events stay in order; anonymous ones by complaint.
    return row.member_id or row.id


# The row keeps category, severity and channel as text; the API admitted only the contract's values
# (api/schemas.py uses the same literals), and the contract validates them again when it is built.
def _category(row: ComplaintRow) -> ComplaintCategory:
    return cast(ComplaintCategory, row.category)


def _severity(row: ComplaintRow) -> Severity:
    return cast(Severity, row.severity)


def emit_filed(uow: UnitOfWork, row: ComplaintRow) -> None:
    data = c.ComplaintFiledV1(
        complaint_id=row.id, member_id=row.member_id, store_id=row.store_id, category=_category(row),
        severity=_severity(row), channel=cast(ComplaintChannel, row.channel), pos_txn_id=row.sale_pos_txn_id,
        filed_at=row.filed_at,
    )
    uow.emit(COMPLAINT_FILED, data, key=_key(row), subject=row.member_id, event_id=event_id(row.id, "filed"))


def emit_resolved(uow: UnitOfWork, row: ComplaintRow, *, points: int, coupon_value: Decimal | None, at: datetime) -> None:
    data = c.ComplaintResolvedV1(
        complaint_id=row.id, member_id=row.member_id, store_id=row.store_id, category=_category(row),
        severity=_severity(row), resolved_at=at, compensation_points=points, coupon_value=coupon_value,
    )
    uow.emit(
        COMPLAINT_RESOLVED, data, key=_key(row), subject=row.member_id,
        event_id=event_id(row.id, f"resolved/{row.reopen_count}"),
    )


def emit_escalated(uow: UnitOfWork, row: ComplaintRow, *, step: Step, due_at: datetime, at: datetime) -> None:
    data = c.ComplaintEscalatedV1(
        complaint_id=row.id, member_id=row.member_id, store_id=row.store_id, category=_category(row),
        severity=_severity(row), overdue_step=step, due_at=due_at, escalated_at=at,
    )
    uow.emit(
        COMPLAINT_ESCALATED, data, key=_key(row), subject=row.member_id,
        event_id=event_id(row.id, f"escalated/{step}/{row.reopen_count}"),
    )
