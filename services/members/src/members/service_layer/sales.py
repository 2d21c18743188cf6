"""Sales and returns from the POS: recorded, matched to members, counted in their spend.

A sale or return is recorded once per POS transaction (`store_id` + `pos_txn_id` / `refund_id`),
whatever event id it arrives under. A return names its sale by `pos_txn_id` of the sale's store,
`sale_store_id`, which is the return's own store unless the goods came back at another store.
Sales whose card or phone is not registered yet wait, unattributed, and are credited at
registration (`late_match`). A return may arrive before its
sale (the two travel on different partitions when the return names no customer): it waits and is
applied when the sale arrives. Every effect on a member announces itself (`purchase_attributed`,
`return_attributed`) and updates the read models through `projections`.

Sales arrive through `sales_batch`, which records a batch itself (a promotion or a milestone
through `tiers.spend_grew`, as here) and hands a sale with a return waiting for it to
`on_purchase_made`.
"""

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables import MemberRow, PurchaseLineRow, PurchaseRow, ReturnLineRow, ReturnRow
from members.adapters.tables.core import RetiredCardRow
from members.domain.cards import still_theirs
from members.domain.spend import ReturnTooLarge, paid_returned, record_purchase, record_return, returnable
from members.service_layer import projections
from members.service_layer.identity_lock import lock_for_matching_sales
from shared.consumer import Delivery
from shared.db import one_of
from shared.events import contracts as c
from shared.events.registry import PURCHASE_ATTRIBUTED, RETURN_ATTRIBUTED
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Where a sale comes from, as its `purchase_attributed` tells the other services: a till (live),
    or an import of the chain's past sales (`sales_import`), which may earn no points. An imported
    sale counts everywhere but reaches the customer nowhere: the tier and milestone events it causes
    carry `imported` too (`tiers`)."""

    imported: bool = False
    earns_points: bool = True


LIVE = Origin()


async def on_purchase_made(uow: UnitOfWork, delivery: Delivery, origin: Origin = LIVE) -> None:
    sale: c.PurchaseMadeV1 = delivery.payload  # type: ignore[assignment]
    session = uow.session
    if sale.customer is not None:
        await lock_for_matching_sales(session)
    existing = (
        await session.exec(
            select(PurchaseRow).where(PurchaseRow.store_id == sale.store_id, PurchaseRow.pos_txn_id == sale.pos_txn_id)
        )
    ).first()
    if existing is not None:
        # The same POS transaction under another event id (e.g. a vendor re-sending it directly):
        # the first one counts; a differing one is logged for staff, never applied twice.
        log.warning(
            "sale %s/%s already recorded from event %s; ignoring event %s",
            sale.store_id, sale.pos_txn_id, existing.sale_event_id, delivery.envelope.id,
        )
        return
    customer = sale.customer
    purchase = PurchaseRow(
        sale_event_id=delivery.envelope.id,
        store_id=sale.store_id,
        pos_txn_id=sale.pos_txn_id,
        card_no=customer.card_no if customer else None,
        phone_hmac=customer.phone_hmac if customer else None,
        occurred_at=sale.occurred_at,
        total=sale.total,
        discount=sale.discount_total,
        payment=sale.payment,
        received_at=uow.now(),
    )
    # The member is looked up first so the purchase row is written once, already attributed.
    # An anonymous sale, or one whose card or phone is not registered yet, is kept unattributed.
    member = await _member_for(uow, customer, sale.occurred_at) if customer else None
    session.add(purchase)
    await session.flush()
    assert purchase.id is not None, "the flush assigns the purchase its id"
    lines = [
        PurchaseLineRow(
            purchase_id=purchase.id, line_no=i, sku=line.sku, name=line.name, category=line.category,
            qty=line.qty, unit_price=line.unit_price, amount=line.amount,
        )
        for i, line in enumerate(sale.lines, start=1)
    ]
    session.add_all(lines)
    if member is not None:
        await _attribute(uow, member, purchase, lines, late_match=False, origin=origin)
    waiting = (
        await session.exec(
            select(ReturnRow).where(
                of_sale(sale.store_id), ReturnRow.pos_txn_id == sale.pos_txn_id, col(ReturnRow.purchase_id).is_(None),
            ).order_by(col(ReturnRow.id))
        )
    ).all()
    for ret in waiting:
        try:
            await _link_return(uow, purchase, ret, member)
        except ReturnTooLarge as exc:
            # The sale itself is fine and must count; the oversized return stays unlinked for staff.
            log.error("return %s/%s not applied: %s", ret.store_id, ret.refund_id, exc)


async def on_purchase_refunded(uow: UnitOfWork, delivery: Delivery) -> None:
    refund: c.PurchaseRefundedV1 = delivery.payload  # type: ignore[assignment]
    session = uow.session
    # A return follows its sale's attribution, which a registration may be changing right now.
    await lock_for_matching_sales(session)
    existing = (
        await session.exec(
            select(ReturnRow).where(ReturnRow.store_id == refund.store_id, ReturnRow.refund_id == refund.refund_id)
        )
    ).first()
    if existing is not None:
        log.warning(
            "return %s/%s already recorded from event %s; ignoring event %s",
            refund.store_id, refund.refund_id, existing.refund_event_id, delivery.envelope.id,
        )
        return
    ret = ReturnRow(
        refund_event_id=delivery.envelope.id, store_id=refund.store_id, refund_id=refund.refund_id,
        pos_txn_id=refund.pos_txn_id, sale_store_id=refund.sale_store_id, occurred_at=refund.occurred_at,
        amount=refund.amount, received_at=uow.now(),
    )
    session.add(ret)
    await session.flush()
    assert ret.id is not None, "the flush assigns the return its id"
    session.add_all(
        ReturnLineRow(
            return_id=ret.id, line_no=i, sku=line.sku, name=line.name,
            category=line.category, qty=line.qty, unit_price=line.unit_price, amount=line.amount,
        )
        for i, line in enumerate(refund.lines, start=1)
    )
    purchase = (
        await session.exec(
            select(PurchaseRow).where(PurchaseRow.store_id == refund.sale_store, PurchaseRow.pos_txn_id == refund.pos_txn_id)
        )
    ).first()
    if purchase is None:
        log.info("return %s/%s waits for its sale %s/%s", refund.store_id, refund.refund_id, refund.sale_store, refund.pos_txn_id)
        return
    member = await session.get(MemberRow, purchase.member_id) if purchase.member_id else None
    await _link_return(uow, purchase, ret, member)


# The store of a return's sale: the one it names when the goods came back at another store, else its own.
RETURNED_SALE_STORE = func.coalesce(col(ReturnRow.sale_store_id), col(ReturnRow.store_id))


def of_sale(store_id: str) -> ColumnElement[bool]:
    """The returns whose sale is `store_id`'s (with `pos_txn_id`): its own, and those it sold that
    came back at another store."""
    return RETURNED_SALE_STORE == store_id


async def attribute_waiting_sales(uow: UnitOfWork, member: MemberRow) -> None:
    """Credits a newly registered member with the sales (and their returns) made before."""
    session = uow.session
    conditions = [col(PurchaseRow.card_no) == member.card_no]
    if member.phone_hmac:
        conditions.append(col(PurchaseRow.phone_hmac) == member.phone_hmac)
    waiting = (
        await session.exec(
            select(PurchaseRow)
            .where(col(PurchaseRow.member_id).is_(None))
            .where(or_(*conditions))
            .order_by(col(PurchaseRow.occurred_at))
        )
    ).all()
    for purchase in waiting:
        lines = (await session.exec(select(PurchaseLineRow).where(PurchaseLineRow.purchase_id == purchase.id))).all()
        await _attribute(uow, member, purchase, list(lines), late_match=True)
        returns = (
            await session.exec(
                select(ReturnRow).where(ReturnRow.purchase_id == purchase.id, col(ReturnRow.applied_at).is_(None))
                .order_by(col(ReturnRow.id))
            )
        ).all()
        for ret in returns:
            await _apply_return(uow, member, purchase, ret, late_match=True)


async def _member_for(uow: UnitOfWork, customer: c.CustomerRef, sold_at: datetime) -> MemberRow | None:
    by = MemberRow.card_no == customer.card_no if customer.card_no else MemberRow.phone_hmac == customer.phone_hmac
    member = (await uow.session.exec(select(MemberRow).where(by))).first()
    if member is None and customer.card_no:
        held = (await holders_of_replaced(uow.session, [customer.card_no])).get(customer.card_no)
        if held is not None and still_theirs(sold_at, held[1]):
            member = await uow.session.get(MemberRow, held[0])
    return member


RETIRED = RetiredCardRow.__table__  # type: ignore[attr-defined]


async def holders_of_replaced(session: AsyncSession, cards: Collection[str]) -> dict[str, tuple[str, datetime]]:
    """The cards among `cards` replaced at the desk, each with the member it was taken from and
    when: it names them still for the sales made on it before (`domain.cards.still_theirs`), and the
    desk's search by card finds them by it. An erased member's cards lead back to nobody and are
    not among them."""
    if not cards:
        return {}
    found = await session.exec(select(RETIRED.c.card_no, RETIRED.c.member_id, RETIRED.c.retired_at).where(
        one_of(session, RETIRED.c.card_no, cards), RETIRED.c.member_id.is_not(None)))
    return {card: (member_id, at) for card, member_id, at in found}


async def _attribute(
    uow: UnitOfWork, member: MemberRow, purchase: PurchaseRow, lines: list[PurchaseLineRow], *, late_match: bool,
    origin: Origin = LIVE,
) -> None:
    purchase.member_id = member.id
    purchase.attributed_at = uow.now()
    # Spend, tiers and milestones follow what the customer paid (docs/members.md).
    record_purchase(member, purchase.total - purchase.discount, purchase.occurred_at)
    uow.session.add_all([purchase, member])
    uow.emit(
        PURCHASE_ATTRIBUTED,
        c.PurchaseAttributedV1(
            member_id=member.id,
            sale_event_id=purchase.sale_event_id,
            store_id=purchase.store_id,
            pos_txn_id=purchase.pos_txn_id,
            occurred_at=purchase.occurred_at,
            total=purchase.total,
            discount=purchase.discount,
            lines=[c.AttributedLine(sku=ln.sku, category=ln.category, qty=ln.qty, amount=ln.amount) for ln in lines],
            late_match=late_match,
            imported=origin.imported,
            earns_points=origin.earns_points,
        ),
        key=member.id,
        subject=member.id,
    )
    await projections.purchase_attributed(uow, member, purchase, lines, imported=origin.imported)


async def _link_return(uow: UnitOfWork, purchase: PurchaseRow, ret: ReturnRow, member: MemberRow | None) -> None:
    # Refuses (and so dead-letters, for staff to look at) a return beyond what is left of the sale;
    # the gateway already rejects those, but a POS publishing straight to Kafka is not checked there.
    left = returnable(purchase.total, purchase.returned, ret.amount)
    # Worked out here, in the order returns are linked, so that however late the member is known
    # the returns of a sale give back exactly what was paid for it.
    ret.paid = paid_returned(purchase.total, purchase.discount, purchase.returned, ret.amount)
    purchase.returned = purchase.total - left
    purchase.returned_paid += ret.paid
    ret.purchase_id = purchase.id
    uow.session.add_all([purchase, ret])
    if member is not None:
        await _apply_return(uow, member, purchase, ret, late_match=False)


async def _apply_return(uow: UnitOfWork, member: MemberRow, purchase: PurchaseRow, ret: ReturnRow, *, late_match: bool) -> None:
    ret.member_id = member.id
    ret.applied_at = uow.now()
    record_return(member, ret.paid)
    lines = (await uow.session.exec(select(ReturnLineRow).where(ReturnLineRow.return_id == ret.id))).all()
    uow.session.add_all([ret, member])
    uow.emit(
        RETURN_ATTRIBUTED,
        c.ReturnAttributedV1(
            member_id=member.id, refund_event_id=ret.refund_event_id, sale_event_id=purchase.sale_event_id,
            store_id=ret.store_id, refund_id=ret.refund_id, pos_txn_id=ret.pos_txn_id, sale_store_id=ret.sale_store_id,
            occurred_at=ret.occurred_at, amount=ret.amount, sale_total=purchase.total,
            lines=[c.AttributedLine(sku=ln.sku, category=ln.category, qty=ln.qty, amount=ln.amount) for ln in lines],
            late_match=late_match,
        ),
        key=member.id,
        subject=member.id,
    )
    await projections.return_attributed(uow, member, purchase, ret, list(lines))
