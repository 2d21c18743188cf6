"""Sales and returns from the POS topic: a sale redeems its codes, the return completing it
reverses them, whichever of the two is read first."""

from datetime import datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import func
from sqlmodel import col, select

from campaigns.adapters.tables import CouponRejectionRow, CouponRow, CouponSaleReturnRow
from campaigns.domain.coupons import ZERO, Basket, Reason, State
from campaigns.service_layer.coupons.cards import channel_of, holder_of_card
from campaigns.service_layer.coupons.counters import (
    Take,
    counted_takes,
    counters,
    give_back,
    period_of,
    take_all,
    take_counter,
)
from campaigns.service_layer.coupons.templates import get_template, spec_of
from campaigns.service_layer.coupons.till import (
    back_in_wallet,
    basket_lines,
    end_lapsed_hold,
    evaluate_loaded,
    held_by,
    load,
    member_for_caps,
    release_txn,
)
from shared.commands import derived_event_id
from shared.consumer import Delivery
from shared.db import advisory_lock, insert_or_skip, take_advisory_locks
from shared.events import contracts as c
from shared.events.registry import COUPON_REDEEMED, COUPON_REVERSED
from shared.unit_of_work import UnitOfWork

SERVICE = "campaigns"
SALE_RETURN = CouponSaleReturnRow.__table__  # type: ignore[attr-defined]
# The advisory lock of one sale's coupons ('coup', with the hash of the sale's transaction).
SALE_COUPONS = 0x636F7570


async def _lock_sale(uow: UnitOfWork, store_id: str, pos_txn_id: str) -> None:
    """A sale and a return of it are applied one after the other, never side by side. A return
    naming no customer travels on another partition than its sale, so two replicas may apply them
    at once; each would look for the other's work before it was committed (the return for the
    redeemed coupons, the sale for the returns kept before it) and the return would count for
    nothing. Held to the end of the transaction (PostgreSQL; SQLite runs one writer at a time)."""
    await take_advisory_locks(uow.session, advisory_lock(SALE_COUPONS, func.hashtext(f"{store_id}/{pos_txn_id}")))


async def on_purchase_made(uow: UnitOfWork, delivery: Delivery) -> None:
    """Redeems the sale's codes: those the till reserved for it, and those it did not (a till
    publishing straight to Kafka) if they are valid and within their caps. A code that cannot be
    redeemed is recorded in `coupon_rejection`. Reservations of the sale it did not use are released."""
    sale = cast(c.PurchaseMadeV1, delivery.payload)
    session, sale_event_id = uow.session, delivery.envelope.id
    codes = list(sale.coupons)
    if not codes:
        await release_txn(uow, sale.store_id, sale.pos_txn_id, reason="voided")
        return
    await _lock_sale(uow, sale.store_id, sale.pos_txn_id)
    claimed = {code: sum((d.amount for d in sale.discounts if d.code == code), ZERO) for code in codes}
    # A rejection of the sale's codes keeps the reason the till was told: an unknown or replaced card, not "no card".
    holder = await holder_of_card(session, sale.customer.card_no if sale.customer else None)
    member = holder.member_id
    await release_txn(uow, sale.store_id, sale.pos_txn_id, keep=set(codes), reason="voided")
    loaded = await load(session, codes, sale.store_id, sale.pos_txn_id, holder, sale.occurred_at, lock=True)
    basket = Basket(sale.store_id, await channel_of(session, member, "retail"), sale.occurred_at, basket_lines(sale.lines), (sale.store_id, sale.pos_txn_id),
                    uow.settings.zone, uow.now())
    evaluation = evaluate_loaded(basket, codes, loaded)
    redeemed: list[CouponRow] = []
    for verdict in sorted(evaluation.verdicts, key=lambda v: v.code):
        code = verdict.code
        row = loaded.rows.get(code)
        if row is not None and row.state == State.REDEEMED and row.redeemed_sale_event_id == sale_event_id:
            continue  # this sale redeemed it already
        if row is not None and held_by(row, sale.store_id, sale.pos_txn_id):
            # Reserved for this very sale: the till was promised it, whatever has changed since.
            # What the till was promised is also the most it counts: a sale claiming more for the
            # code (a till's mistake, or a cashier's) must not charge the budget beyond its worth.
            spec = loaded.specs[code]
            promised = row.discount or ZERO
            discount = min(claimed[code], promised) if claimed[code] else promised
            delta = discount - (row.discount or ZERO)
            if delta:  # the money actually given is what the budget counts
                for take in counted_takes(spec, row):
                    await take_counter(session, Take(take.key), 0, delta)
            _redeem(uow, row, sale, sale_event_id, discount, reserved=True)
            redeemed.append(row)
            continue
        if not verdict.ok or row is None:
            _reject(uow, sale, sale_event_id, code, verdict.reason or Reason.UNKNOWN_CODE, claimed[code])
            continue
        spec = loaded.specs[code]
        await end_lapsed_hold(uow, row, spec, sale.store_id, sale.pos_txn_id)
        discount = min(claimed[code], verdict.discount) if claimed[code] else verdict.discount
        period = period_of(sale.occurred_at, spec.caps.period_days, uow.settings.zone) if spec.caps.period_days else None
        member_id = member_for_caps(row, loaded)
        if not await take_all(session, counters(spec, row.campaign_key, member_id, sale.store_id, period), discount):
            _reject(uow, sale, sale_event_id, code, Reason.CAP_REACHED, claimed[code])
            continue
        row.counted_store_id, row.counted_period, row.counted_member_id = sale.store_id, period, member_id
        row.store_id, row.pos_txn_id = sale.store_id, sale.pos_txn_id
        if row.code is None:
            row.member_id = loaded.member_id
        _redeem(uow, row, sale, sale_event_id, discount, reserved=False)
        redeemed.append(row)
    if redeemed:
        await _count_earlier_returns(uow, redeemed, sale.store_id, sale.pos_txn_id)


async def _count_earlier_returns(uow: UnitOfWork, rows: list[CouponRow], store_id: str, pos_txn_id: str) -> None:
    """Returns of the sale that came before it: a return naming no customer travels on another
    partition than its sale (a till publishing straight to the topic), and may be read first.
    It was kept (`coupon_sale_return`) and counts now, as it would have after the sale."""
    earlier = (await uow.session.exec(
        select(CouponSaleReturnRow).where(
            # Its returns at any store of the chain: those at another store name this one as the sale's.
            func.coalesce(col(CouponSaleReturnRow.sale_store_id), col(CouponSaleReturnRow.store_id)) == store_id,
            CouponSaleReturnRow.pos_txn_id == pos_txn_id,
        )
        .order_by(col(CouponSaleReturnRow.recorded_at), col(CouponSaleReturnRow.refund_id))
    )).all()
    for ret in earlier:
        for row in rows:
            if row.state == State.REDEEMED.value:  # not reversed by an earlier one of these returns
                # When the return happened is not kept: when campaigns read it stands in for it.
                await _count_return(uow, row, store_id, pos_txn_id, ret.refund_id, ret.amount, ret.recorded_at)


def _redeem(uow: UnitOfWork, row: CouponRow, sale: c.PurchaseMadeV1, sale_event_id: str, discount: Decimal, *, reserved: bool) -> None:
    row.state, row.reserved_until = State.REDEEMED.value, None
    row.redeemed_sale_event_id, row.redeemed_at, row.discount = sale_event_id, sale.occurred_at, discount
    row.sale_total, row.sale_returned = sale.total, ZERO  # a return reverses the coupon once all of it is back
    uow.session.add(row)
    data = c.CouponRedeemedV1(
        coupon_id=row.id, template_id=row.template_id, campaign_id=row.campaign_id, member_id=row.member_id,
        store_id=sale.store_id, pos_txn_id=sale.pos_txn_id, sale_event_id=sale_event_id, discount=discount,
        reserved=reserved, redeemed_at=sale.occurred_at,
    )
    uow.emit(COUPON_REDEEMED, data, key=row.id, event_id=derived_event_id(SERVICE, "coupon_redeemed", row.id, sale_event_id))


def _reject(uow: UnitOfWork, sale: c.PurchaseMadeV1, sale_event_id: str, code: str, reason: Reason, claimed: Decimal) -> None:
    uow.session.add(CouponRejectionRow(
        id=derived_event_id(SERVICE, "coupon_rejection", sale_event_id, code), sale_event_id=sale_event_id,
        store_id=sale.store_id, pos_txn_id=sale.pos_txn_id, code=code, reason=reason.value, discount_claimed=claimed,
        recorded_at=uow.now(),
    ))


async def on_purchase_refunded(uow: UnitOfWork, delivery: Delivery) -> None:
    """The return that brings the last of a sale back reverses the coupons the sale redeemed, once:
    back to `issued` (and out of the counters) when the template returns coupons on a refund,
    otherwise marked `reversed`. A partial return leaves them used: the till refunds the returned
    lines' share of what was paid, so the customer already gives back that share of the discount,
    and a coupon back on top of it would pay them twice (down to a 0.00 return of a sale).
    Coupons redeemed before sales' totals were kept (`sale_total` empty) go back on any return, as
    they always did."""
    refund = cast(c.PurchaseRefundedV1, delivery.payload)
    # The sale is `sale_store`'s (another store's when the goods came back elsewhere); the return's
    # own key is its own store's.
    sale_store = refund.sale_store
    await _lock_sale(uow, sale_store, refund.pos_txn_id)
    # Deduplication by event id does not catch a return republished under a new id; its own key does.
    counted = await insert_or_skip(uow.session, SALE_RETURN, [{
        "store_id": refund.store_id, "refund_id": refund.refund_id, "pos_txn_id": refund.pos_txn_id,
        "sale_store_id": refund.sale_store_id, "amount": refund.amount, "recorded_at": uow.now(),
    }], conflict_on=["store_id", "refund_id"], returning="refund_id")
    if not counted:
        return
    query = (
        select(CouponRow)
        .where(CouponRow.store_id == sale_store, CouponRow.pos_txn_id == refund.pos_txn_id,
               CouponRow.state == State.REDEEMED.value)
        .order_by(col(CouponRow.id)).with_for_update()
    )
    for row in (await uow.session.exec(query)).all():
        await _count_return(uow, row, sale_store, refund.pos_txn_id, refund.refund_id, refund.amount, refund.occurred_at)


async def _count_return(
    uow: UnitOfWork, row: CouponRow, store_id: str, pos_txn_id: str, refund_id: str, amount: Decimal, at: datetime,
) -> None:
    """One return of a redeemed coupon's sale: counted towards the sale's total, and the coupon
    reversed once the whole sale is back."""
    if row.sale_total is not None:
        row.sale_returned = (row.sale_returned or ZERO) + amount
        if row.sale_returned < row.sale_total:
            uow.session.add(row)
            return
    spec = spec_of(await get_template(uow.session, row.template_id))
    discount = row.discount or ZERO
    data = c.CouponReversedV1(
        coupon_id=row.id, template_id=row.template_id, campaign_id=row.campaign_id, store_id=store_id,
        pos_txn_id=pos_txn_id, refund_id=refund_id, discount=discount, returned=spec.returns_on_refund, reversed_at=at,
    )
    # A coupon given back may be redeemed and returned again: its reversal is one per sale, and a
    # sale is its store's transaction (another store's T-1 is another sale).
    event_id = derived_event_id(SERVICE, "coupon_reversed", row.id, store_id, pos_txn_id)
    uow.emit(COUPON_REVERSED, data, key=row.id, event_id=event_id)
    if spec.returns_on_refund:
        await give_back(uow.session, counted_takes(spec, row), discount)
    if spec.returns_on_refund and row.code is not None:
        await back_in_wallet(uow.session, row)
        row.redeemed_sale_event_id = row.redeemed_at = None
    else:
        row.state, row.refund_id, row.reversed_at = State.REVERSED.value, refund_id, at
    uow.session.add(row)
