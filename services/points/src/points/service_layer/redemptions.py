"""Gift redemption at the service desk and the gift register's life cycle.

Redeeming checks the balance and the store's stock in one transaction: the member's account row
is locked first, then the stock is taken with one guarded UPDATE (`quantity > 0`), so concurrent
redemptions of the last unit cannot both succeed and no balance goes below zero. The same order
(account, then stock) everywhere keeps two transactions from deadlocking.

A coupon item has no stock and nothing to hand over: its entry is complete when it is written, and
campaigns issues the coupon from `reward_redeemed` (which names the template). It cannot be
cancelled, since points cannot tell whether the coupon has been used.

An erased member's reserved gifts are cancelled with the erasure (`on_member_erased`): nobody can
collect them any more, so their units go back to the store and their points to the account. A
hand-over for an erased member is refused (409 `MemberErased`), as everything else done by hand.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import case, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.repository import AccountRepository
from points.adapters.tables import GiftPriceRow, GiftRow, GiftStockRow, RedemptionRow, table_of
from points.domain.catalogue import Gift, GiftKind, RegisterStatus, check_transition, initial_status
from points.domain.exceptions import IdempotencyConflict, NotFound, OutOfStock, StoreClosed
from points.domain.model import Source
from points.service_layer.erasure import ERASURE_STAFF_ID, REDACTED, ensure_not_erased
from points.service_layer.expiry import overdue_points
from shared import ledger_reasons as reasons
from shared.commands import derived_event_id
from shared.consumer import Delivery
from shared.events import contracts as c
from shared.events.registry import REWARD_REDEEMED, REWARD_REDEMPTION_CANCELLED
from shared.member_directory import erased_among
from shared.store_directory import is_closed
from shared.unit_of_work import UnitOfWork

STOCK = table_of(GiftStockRow)


@dataclass(frozen=True)
class RedeemRequest:
    member_id: str
    gift_id: str
    store_id: str
    staff_id: str
    idempotency_key: str
    # Whether the caller named the store (a desk does); the app's is the member's home store of the
    # moment, no part of what the member asked, and a retry after it changed is the same request.
    store_named: bool = True

    @property
    def digest(self) -> str:
        store = self.store_id if self.store_named else ""
        return hashlib.sha256(f"{self.member_id}\n{self.gift_id}\n{store}".encode()).hexdigest()


async def load_gift(session: AsyncSession, gift_id: str) -> Gift:
    row = await session.get(GiftRow, gift_id)
    if row is None:
        # Not found, not a conflict: no state of the catalogue or the account would let it pass.
        raise NotFound(f"gift_id: gift {gift_id} is not in the catalogue")
    prices = (await session.exec(select(GiftPriceRow).where(GiftPriceRow.gift_id == gift_id))).all()
    return Gift(gift_id, {p.channel: p.points for p in prices}, row.active_from, row.active_until, GiftKind(row.kind),
                row.coupon_template_id)


async def earlier(session: AsyncSession, req: RedeemRequest) -> RedemptionRow | None:
    """The redemption the same request made before (a retry), whatever changed since."""
    return await _by_key(session, req)


async def _by_key(session: AsyncSession, req: RedeemRequest) -> RedemptionRow | None:
    # The member's own key: another member's request under the same key is a request of its own.
    earlier = (await session.exec(select(RedemptionRow).where(
        RedemptionRow.member_id == req.member_id, RedemptionRow.idempotency_key == req.idempotency_key))).first()
    if earlier is not None and earlier.request_hash != req.digest:
        raise IdempotencyConflict(f"Idempotency-Key {req.idempotency_key} was used for a different redemption")
    return earlier


async def redeem(uow: UnitOfWork, req: RedeemRequest, now: datetime) -> tuple[RedemptionRow, bool]:
    """The register entry and whether it is a replay of an earlier request with the same key."""
    session = uow.session
    if (earlier := await _by_key(session, req)) is not None:
        return earlier, True
    repo = AccountRepository(session, now)
    account = await repo.lock(req.member_id, open_missing=False)
    if account is None:
        raise NotFound(f"no points account for member {req.member_id}")
    # Checked again under the account lock: a concurrent retry of the same request has committed.
    if (earlier := await _by_key(session, req)) is not None:
        return earlier, True
    await ensure_not_erased(session, req.member_id)
    gift = await load_gift(session, req.gift_id)
    gift.check_active(now, uow.settings.zone)
    # A gift is handed over at the store; a coupon item is not picked up anywhere.
    if gift.has_stock and await is_closed(session, req.store_id):
        raise StoreClosed(f"store {req.store_id} is closed: no gift can be picked up there "
                          "(a service desk can move the member's home store)")
    price = gift.price_for(account.channel)
    redemption_id = str(uuid.uuid4())
    settings = uow.settings
    account.redeem(
        price, reason=reasons.gift_redeemed(req.gift_id, req.store_id),
        source=Source(ref=f"redemption:{redemption_id}", staff_id=req.staff_id), at=now,
        overdue=await overdue_points(session, req.member_id, settings.expiry_policy, settings.zone, now),
    )
    if gift.has_stock:
        taken = await session.exec(
            update(STOCK)
            .where(STOCK.c.gift_id == req.gift_id, STOCK.c.store_id == req.store_id, STOCK.c.quantity > 0)
            .values(quantity=STOCK.c.quantity - 1, updated_at=now)
        )
        if taken.rowcount != 1:
            raise OutOfStock(f"gift {req.gift_id} is out of stock at store {req.store_id}")
    row = RedemptionRow(
        redemption_id=redemption_id, idempotency_key=req.idempotency_key, request_hash=req.digest,
        member_id=req.member_id, gift_id=req.gift_id, kind=gift.kind.value, coupon_template_id=gift.coupon_template_id,
        store_id=req.store_id, channel=account.channel, points=price,
        status=initial_status(gift.kind).value, staff_id=req.staff_id, redeemed_at=now,
    )
    session.add(row)
    await repo.save(account)
    uow.emit(
        REWARD_REDEEMED,
        c.RewardRedeemedV1(
            member_id=req.member_id, redemption_id=redemption_id, gift_id=req.gift_id, store_id=req.store_id,
            channel=account.channel, points=price, staff_id=req.staff_id, redeemed_at=now,  # type: ignore[arg-type]
            kind=gift.kind.value, coupon_template_id=gift.coupon_template_id,
        ),
        key=req.member_id, subject=req.member_id, event_id=derived_event_id("points", "redeemed", redemption_id),
    )
    await session.flush()
    return row, False


async def _locked(session: AsyncSession, redemption_id: str) -> RedemptionRow:
    # populate_existing: the row may sit in the identity map from before we waited for the lock.
    query = select(RedemptionRow).where(RedemptionRow.redemption_id == redemption_id).with_for_update()
    row = (await session.exec(query.execution_options(populate_existing=True))).first()
    if row is None:
        raise NotFound(f"no gift register entry {redemption_id}")
    return row


async def hand_over(uow: UnitOfWork, redemption_id: str, staff_id: str, now: datetime) -> RedemptionRow:
    row = await _locked(uow.session, redemption_id)
    if row.status == RegisterStatus.HANDED_OVER:
        return row  # a retried hand-over
    # Before the transition: the erasure cancelled the member's reservations, and the refusal to
    # say is that the member is erased, not that the entry is cancelled.
    await ensure_not_erased(uow.session, row.member_id)
    check_transition(RegisterStatus(row.status), RegisterStatus.HANDED_OVER)
    row.status, row.handed_over_at, row.handed_over_by = RegisterStatus.HANDED_OVER.value, now, staff_id
    uow.session.add(row)
    return row


async def cancel(uow: UnitOfWork, redemption_id: str, staff_id: str, reason: str, now: datetime) -> RedemptionRow:
    """Cancels a reserved gift: the points come back (cancel-redeem) and so does the unit of stock."""
    session = uow.session
    peek = await session.get(RedemptionRow, redemption_id)
    if peek is None:
        raise NotFound(f"no gift register entry {redemption_id}")
    repo = AccountRepository(session, now)
    account = await repo.lock(peek.member_id, open_missing=False)  # account first, as in redeem()
    row = await _locked(session, redemption_id)
    if row.status == RegisterStatus.CANCELLED:
        return row  # a retried cancellation
    check_transition(RegisterStatus(row.status), RegisterStatus.CANCELLED)
    assert account is not None
    if await erased_among(session, [row.member_id]):
        # The unit must still go back to the store; the note, written about the customer after
        # the erasure's scrub, is not kept.
        reason = REDACTED
    account.cancel_redeem(
        row.points, reason=reasons.gift_cancelled(row.gift_id, reason),
        source=Source(ref=f"redemption:{redemption_id}", staff_id=staff_id), at=now,
    )
    # The unit goes back to what can be reserved, unless the last count found fewer on the shelf
    # than were reserved: then it is one of the units promised that are not there.
    short = STOCK.c.shortfall > 0
    await session.exec(
        update(STOCK).where(STOCK.c.gift_id == row.gift_id, STOCK.c.store_id == row.store_id)
        .values(quantity=case((short, STOCK.c.quantity), else_=STOCK.c.quantity + 1),
                shortfall=case((short, STOCK.c.shortfall - 1), else_=0), updated_at=now)
    )
    row.status, row.cancelled_at, row.cancelled_by, row.cancel_reason = RegisterStatus.CANCELLED.value, now, staff_id, reason
    session.add(row)
    await repo.save(account)
    uow.emit(
        REWARD_REDEMPTION_CANCELLED,
        c.RewardRedemptionCancelledV1(
            member_id=row.member_id, redemption_id=redemption_id, gift_id=row.gift_id, store_id=row.store_id,
            points_returned=row.points, staff_id=staff_id, cancelled_at=now,
        ),
        key=row.member_id, subject=row.member_id, event_id=derived_event_id("points", "redemption-cancelled", redemption_id),
    )
    return row


async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    """Cancels the gifts the erased member had reserved and not collected: nobody can collect them
    any more (the member has no card or token, and the desk serves them no more), and left reserved
    their units would be held from every other customer for good. Each is cancelled as at the desk
    (`cancel`): the unit goes back to the store, the points to the account, with the placeholder
    for a note. Idempotent: a redelivered erasure finds none reserved."""
    member_id = cast(c.MemberErasedV1, delivery.payload).member_id  # the registry maps the event type to this model
    now = uow.now()
    # The account first, as everywhere; a hand-over holding an entry finishes first, and the
    # entries still reserved once locked are the ones to cancel.
    if await AccountRepository(uow.session, now).lock(member_id, open_missing=False) is None:
        return
    reserved = (await uow.session.exec(
        select(RedemptionRow).where(RedemptionRow.member_id == member_id, RedemptionRow.status == RegisterStatus.RESERVED.value)
        .with_for_update().execution_options(populate_existing=True)
    )).all()
    for row in reserved:
        await cancel(uow, row.redemption_id, ERASURE_STAFF_ID, REDACTED, now)
