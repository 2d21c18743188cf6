"""Complaint compensation: the points feedback promised, booked once per complaint, under the staff
member who resolved the complaint (`resolved_by`; none on events published before it was added)."""

import logging
from typing import cast

from points.adapters.repository import AccountRepository
from points.domain.model import EntryType, Source
from shared import ledger_reasons as reasons
from shared.consumer import Delivery
from shared.events import contracts as c
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


async def on_complaint_resolved(uow: UnitOfWork, delivery: Delivery) -> None:
    resolved = cast(c.ComplaintResolvedV1, delivery.payload)  # the registry maps the event type to this model
    if resolved.member_id is None or resolved.compensation_points <= 0:
        return  # an anonymous complaint, or one settled without points
    ref = f"complaint:{resolved.complaint_id}"
    repo = AccountRepository(uow.session, uow.now())
    account = await repo.lock(resolved.member_id, booked=[(EntryType.BONUS, ref)])
    assert account is not None
    if account.has_booked(EntryType.BONUS, ref):
        log.info("compensation for %s already booked", ref)
        return
    account.bonus(
        resolved.compensation_points, reason=reasons.COMPENSATION,
        source=Source(ref=ref, event_id=delivery.envelope.id, staff_id=resolved.resolved_by),
        at=resolved.resolved_at or uow.now(),
    )
    await repo.save(account)
