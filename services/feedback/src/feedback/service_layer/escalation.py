"""The escalation job: every overdue step of an open complaint goes to the store manager, once.

"Once" holds across runs, replicas and restarts: each escalation is a row unique per complaint,
step and resolution round, and its event id is derived from the same three, so a run that races
another one fails on the constraint, rolls back and leaves the escalation to the winner.
"""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from feedback.adapters.tables import ComplaintRow, EscalationRow
from feedback.config import Settings
from feedback.domain.assignment import store_manager_queue
from feedback.domain.workflow import OPEN, Status, overdue_steps
from feedback.service_layer import events
from feedback.service_layer.complaints import record
from shared.commands import Commands
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def escalate_overdue(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    async with commands() as uow:
        candidates = (await uow.session.exec(select(ComplaintRow.id).where(
            col(ComplaintRow.status).in_([s.value for s in OPEN]),
            or_(
                and_(col(ComplaintRow.status) == Status.FILED.value, col(ComplaintRow.ack_due_at) < now),
                col(ComplaintRow.resolve_due_at) < now,
            ),
        ))).all()
    escalated = 0
    for complaint_id in candidates:
        try:
            async with commands() as uow:
                escalated += await _escalate_one(uow, complaint_id, now)
        except IntegrityError:
            log.info("complaint %s was escalated concurrently by another run", complaint_id)
    return {"overdue": len(candidates), "escalated": escalated}


async def _escalate_one(uow: UnitOfWork, complaint_id: str, now: datetime) -> int:
    row = (await uow.session.exec(select(ComplaintRow).where(ComplaintRow.id == complaint_id).with_for_update())).one()
    done = set((await uow.session.exec(select(EscalationRow.step).where(
        EscalationRow.complaint_id == row.id, EscalationRow.round == row.reopen_count))).all())
    count = 0
    for step, due_at in overdue_steps(Status(row.status), row.ack_due_at, row.resolve_due_at, now):
        if step in done:
            continue
        target = store_manager_queue(row.store_id)
        uow.session.add(EscalationRow(
            complaint_id=row.id, step=step, round=row.reopen_count, due_at=due_at, escalated_at=now, escalated_to=target,
        ))
        row.escalated_to = target
        row.updated_at = now
        record(uow, row, "escalated", "system:escalation", now, detail=f"{step} overdue since {due_at.isoformat(timespec='minutes')}; to {target}")
        events.emit_escalated(uow, row, step=step, due_at=due_at, at=now)
        count += 1
    await uow.session.flush()
    return count
