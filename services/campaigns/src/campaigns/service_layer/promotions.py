"""The promotion list marketing maintains: add, read, withdraw, and what is on it at a time."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select

from campaigns.adapters.tables import PromotionRow
from campaigns.domain.promotions import Promotion, PromotionIn
from shared.errors import Invalid, NotFound
from shared.unit_of_work import UnitOfWork


async def create(uow: UnitOfWork, spec: PromotionIn, by: str, *, promotion_id: str | None = None) -> PromotionRow:
    """`promotion_id`: the id chosen for it beforehand (a create under an Idempotency-Key), else a new one."""
    now = uow.now()
    if spec.valid_until <= now:
        # No round would ever offer it (a round takes what is in force when it is built): listed, it
        # would look to marketing as if it were on the members' lists. Coupon templates refuse
        # their passed dates alike (`templates.ensure_usable`).
        raise Invalid("valid_until", f"{spec.valid_until:%Y-%m-%dT%H:%M%z} has passed: no offer list could ever carry this promotion")
    row = PromotionRow(id=promotion_id or str(uuid.uuid4()), item=spec.item, spec=spec.model_dump(mode="json"),
                       valid_from=spec.valid_from, valid_until=spec.valid_until, created_by=by, created_at=now)
    uow.session.add(row)
    return row


async def get(uow: UnitOfWork, promotion_id: str) -> PromotionRow:
    row = await uow.session.get(PromotionRow, promotion_id)
    if row is None:
        raise NotFound(f"no promotion {promotion_id}")
    return row


async def withdraw(uow: UnitOfWork, promotion_id: str) -> PromotionRow:
    """Off the list for the next rounds; coupons already on members' lists stay valid. Twice is once."""
    row = await get(uow, promotion_id)
    if row.withdrawn_at is None:
        row.withdrawn_at = uow.now()
        uow.session.add(row)
    return row


async def listing(uow: UnitOfWork, at: datetime | None, limit: int, offset: int) -> Sequence[PromotionRow]:
    """Every promotion, newest first; with `at`, those in force then (not withdrawn)."""
    query = select(PromotionRow).order_by(col(PromotionRow.created_at).desc(), col(PromotionRow.id))
    if at is not None:
        query = query.where(col(PromotionRow.valid_from) <= at, col(PromotionRow.valid_until) > at,
                            col(PromotionRow.withdrawn_at).is_(None))
    return (await uow.session.exec(query.offset(offset).limit(limit))).all()


async def in_force(uow: UnitOfWork, at: datetime) -> list[tuple[PromotionRow, Promotion]]:
    """The current promotion list by marketing's priority (the general list's order)."""
    query = select(PromotionRow).where(col(PromotionRow.valid_from) <= at, col(PromotionRow.valid_until) > at,
                                       col(PromotionRow.withdrawn_at).is_(None))
    return ordered((await uow.session.exec(query)).all())


def ordered(rows: Sequence[PromotionRow]) -> list[tuple[PromotionRow, Promotion]]:
    specs = [(r, Promotion.model_validate(r.spec)) for r in rows]
    return sorted(specs, key=lambda pair: (pair[1].priority, pair[0].created_at, pair[0].id))
