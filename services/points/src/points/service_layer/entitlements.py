"""Service entitlements: granted by spend milestones, used at the service desk."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import cast

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from points.adapters.tables import EntitlementGrantRow, EntitlementRow, EntitlementUseRow, table_of
from points.domain.entitlements import (
    DEFAULT_VISITS_BY_MILESTONE,
    LEFTOVER_COLLECTION,
    check_use,
    earns_bonus,
    granted_after,
)
from points.domain.exceptions import IdempotencyConflict, NothingLeft
from points.service_layer.erasure import ensure_not_erased
from shared.commands import derived_event_id
from shared.consumer import Delivery
from shared.db import insert_into
from shared.events import contracts as c
from shared.events.registry import ENTITLEMENT_GRANTED
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

ENTITLEMENTS = table_of(EntitlementRow)


def milestone_handler(table: Mapping[Decimal, int] = DEFAULT_VISITS_BY_MILESTONE):
    async def on_spend_milestone_reached(uow: UnitOfWork, delivery: Delivery) -> None:
        reached = cast(c.SpendMilestoneReachedV1, delivery.payload)  # the registry maps the event type to this model
        await grant_for_milestone(uow, reached, table)

    return on_spend_milestone_reached


async def grant_for_milestone(uow: UnitOfWork, reached: c.SpendMilestoneReachedV1, table: Mapping[Decimal, int]) -> None:
    if not earns_bonus(imported=reached.imported):
        log.info("milestone %s of member %s reached by imported sales: no bonus", reached.milestone, reached.member_id)
        return
    session, kind = uow.session, LEFTOVER_COLLECTION
    now = uow.now()
    await session.exec(
        insert_into(session, ENTITLEMENTS).on_conflict_do_nothing(),
        params=[{"member_id": reached.member_id, "kind": kind, "granted": 0, "used": 0, "updated_at": now}],
    )
    row = (
        await session.exec(
            select(EntitlementRow).where(EntitlementRow.member_id == reached.member_id, EntitlementRow.kind == kind).with_for_update()
        )
    ).one()
    total = granted_after(row.granted, reached.milestone, table)
    if total == row.granted:
        return  # a repeated or lower milestone: never more than the table says
    source_ref = f"milestone:{reached.milestone}"
    row.granted, row.updated_at = total, now
    session.add(row)
    session.add(EntitlementGrantRow(member_id=reached.member_id, kind=kind, source_ref=source_ref, granted_total=total, granted_at=now))
    uow.emit(
        ENTITLEMENT_GRANTED,
        c.EntitlementGrantedV1(member_id=reached.member_id, kind=kind, granted_total=total, source_ref=source_ref, granted_at=reached.reached_at),
        key=reached.member_id,
        subject=reached.member_id,
        event_id=derived_event_id("points", "entitlement", reached.member_id, kind, total),
    )


@dataclass(frozen=True)
class UseRequest:
    member_id: str
    kind: str
    used_on: date
    store_id: str
    staff_id: str
    idempotency_key: str | None


async def book_use(uow: UnitOfWork, req: UseRequest) -> tuple[EntitlementUseRow, bool]:
    """The use booked, and whether it was booked already (a retry under the same key)."""
    session = uow.session
    if req.idempotency_key:
        # The member's own key, as for redemptions: another member's booking under it is its own.
        earlier = (await session.exec(select(EntitlementUseRow).where(
            EntitlementUseRow.member_id == req.member_id, EntitlementUseRow.idempotency_key == req.idempotency_key))).first()
        if earlier is not None:
            if (earlier.kind, earlier.used_on, earlier.store_id) != (req.kind, req.used_on, req.store_id):
                raise IdempotencyConflict(f"Idempotency-Key {req.idempotency_key} was used for a different entitlement use")
            return earlier, True
    await ensure_not_erased(session, req.member_id)
    # One guarded update: two desks booking the last visit at once cannot both succeed.
    result = await session.exec(
        update(ENTITLEMENTS)
        .where(ENTITLEMENTS.c.member_id == req.member_id, ENTITLEMENTS.c.kind == req.kind, ENTITLEMENTS.c.used < ENTITLEMENTS.c.granted)
        .values(used=ENTITLEMENTS.c.used + 1, updated_at=uow.now())
    )
    if result.rowcount != 1:
        row = await session.get(EntitlementRow, (req.member_id, req.kind))
        check_use(row.granted if row else 0, row.used if row else 0)
        raise NothingLeft("no use left")
    use = EntitlementUseRow(
        member_id=req.member_id, kind=req.kind, used_on=req.used_on, store_id=req.store_id, staff_id=req.staff_id,
        idempotency_key=req.idempotency_key, booked_at=uow.now(),
    )
    session.add(use)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same key in a concurrent request: its use is the one booked
        raise IdempotencyConflict(f"Idempotency-Key {req.idempotency_key} is in use by a concurrent request; retry it") from exc
    return use, False
