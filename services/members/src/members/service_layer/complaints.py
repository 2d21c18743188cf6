"""Complaints of members as feedback announces them: a summary for the archive, and churn risk.

Each complaint is one row keyed by its complaint id, so it counts once however often, under
whatever event ids, and in whatever order its filing and resolution arrive; a reopening makes it
open again until the next resolution. A complaint filed
within the complaint window raises the member's stored churn risk at once (the tracking queue and
campaigns see it without waiting for the next analytics run); the run recomputes it from the same
rows, so both paths agree.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select

from members.adapters.tables import MemberRow
from members.adapters.tables.analytics import MemberComplaintRow, MemberValueRow
from members.config import settings_of
from members.domain import churn
from members.service_layer.analytics import publish_if_changed
from shared.consumer import Delivery
from shared.events import contracts as c
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def on_complaint_filed(uow: UnitOfWork, delivery: Delivery) -> None:
    filed: c.ComplaintFiledV1 = delivery.payload  # type: ignore[assignment]
    if filed.member_id is None:
        return  # an anonymous complaint concerns no member's file or risk
    row = await uow.session.get(MemberComplaintRow, filed.complaint_id)
    if row is None:
        row = MemberComplaintRow(
            complaint_id=filed.complaint_id, member_id=filed.member_id, store_id=filed.store_id,
            category=filed.category, severity=filed.severity,
        )
    elif row.filed_at is not None:
        log.info("complaint %s already recorded; ignoring event %s", filed.complaint_id, delivery.envelope.id)
        return
    row.channel, row.filed_at = filed.channel, filed.filed_at
    uow.session.add(row)
    await _raise_churn_risk(uow, filed.member_id, filed.filed_at)


async def on_complaint_resolved(uow: UnitOfWork, delivery: Delivery) -> None:
    resolved: c.ComplaintResolvedV1 = delivery.payload  # type: ignore[assignment]
    if resolved.member_id is None:
        return
    row = await uow.session.get(MemberComplaintRow, resolved.complaint_id)
    if row is None:  # the resolution overtook the filing; the filing fills in the rest
        row = MemberComplaintRow(
            complaint_id=resolved.complaint_id, member_id=resolved.member_id, store_id=resolved.store_id,
            category=resolved.category, severity=resolved.severity,
        )
    elif row.resolved_at is not None:
        log.info("complaint %s already resolved; ignoring event %s", resolved.complaint_id, delivery.envelope.id)
        return
    row.resolved_at = resolved.resolved_at
    uow.session.add(row)


async def on_complaint_reopened(uow: UnitOfWork, delivery: Delivery) -> None:
    """Open again until its next resolution. A complaint's events share a partition (keyed by
    member), so the reopening follows the resolution it undoes; one resolved after it is kept."""
    reopened: c.ComplaintReopenedV1 = delivery.payload  # type: ignore[assignment]
    if reopened.member_id is None:
        return
    row = await uow.session.get(MemberComplaintRow, reopened.complaint_id)
    if row is None or row.resolved_at is None or row.resolved_at > reopened.reopened_at:
        return
    row.resolved_at = None
    uow.session.add(row)


async def _raise_churn_risk(uow: UnitOfWork, member_id: str, filed_at: datetime) -> None:
    session = uow.session
    value = await session.get(MemberValueRow, member_id)
    member = await session.get(MemberRow, member_id)
    if value is None or member is None:
        return  # no snapshot yet: the next analytics run takes the complaint into account
    now = uow.now()
    if filed_at <= now - timedelta(days=settings_of(uow).churn_complaint_days):
        return  # an old complaint replayed late no longer weighs on the risk
    raised = churn.effective_risk(value.rhythm_churn_risk, recent_complaint=True)  # type: ignore[arg-type]
    if raised == value.churn_risk:
        return
    value.churn_risk = raised
    if member.erased_at is None:
        row = value.model_dump()
        if publish_if_changed(uow, member, row, now):
            value.attributes_digest = row["attributes_digest"]
            value.attributes_version = row["attributes_version"]
            value.published_at = row["published_at"]
    session.add(value)


async def complaint_summary(uow: UnitOfWork, member_id: str) -> dict[str, Any]:
    """Counts for the member's file: filed, open, resolved, the last filing, and by category."""
    rows = (await uow.session.exec(select(MemberComplaintRow).where(MemberComplaintRow.member_id == member_id))).all()
    filed = [r for r in rows if r.filed_at is not None]
    by_category: dict[str, int] = {}
    for r in rows:
        by_category[r.category] = by_category.get(r.category, 0) + 1
    return {
        "member_id": member_id,
        "filed": len(rows),
        "open": sum(1 for r in rows if r.resolved_at is None),
        "resolved": sum(1 for r in rows if r.resolved_at is not None),
        "last_filed_at": max((r.filed_at for r in filed), default=None),  # type: ignore[type-var]
        "by_category": dict(sorted(by_category.items())),
    }
