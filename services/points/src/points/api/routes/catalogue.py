"""The gift catalogue: items (gifts, or coupons sold for points), their point price per channel,
active dates, stock per store (gifts only)."""

import logging
from typing import Annotated, cast

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import delete, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.tables import GiftChangeRow, GiftPriceRow, GiftRow, GiftStockRow, RedemptionRow
from points.api.schemas import GiftChangePublic, GiftIn, GiftPublic, StockIn, StockPublic
from points.domain.catalogue import GiftKind, RegisterStatus
from shared.authorize import Allowed
from shared.db import insert_into
from shared.deps import UowDep
from shared.errors import Conflict, NotFound
from shared.events.contracts import Channel
from shared.identifiers import StoreId
from shared.policy import Grant

GIFTS = GiftRow.__table__  # type: ignore[attr-defined]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/gifts", tags=["gift catalogue"])

GiftId = Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Stable slug, e.g. rice-cooker")


async def _gifts(uow, gift_id: str | None = None) -> list[GiftPublic]:
    query = select(GiftRow).order_by(GiftRow.gift_id)
    if gift_id is not None:
        query = query.where(GiftRow.gift_id == gift_id)
    gifts = (await uow.session.exec(query)).all()
    prices = (await uow.session.exec(select(GiftPriceRow))).all()
    by_gift: dict[str, dict[Channel, int]] = {}
    for p in prices:
        # Stored from a validated GiftIn, so the column holds only channels.
        by_gift.setdefault(p.gift_id, {})[cast(Channel, p.channel)] = p.points
    return [
        GiftPublic(gift_id=g.gift_id, name_zh=g.name_zh, name_en=g.name_en, prices=by_gift.get(g.gift_id, {}),
                   active_from=g.active_from, active_until=g.active_until, kind=GiftKind(g.kind),
                   coupon_template_id=g.coupon_template_id)
        for g in gifts
    ]


@router.get("", summary="The catalogue with point prices per channel")
async def list_gifts(uow: UowDep, _: Annotated[Grant, Allowed("points.gift.read")]) -> list[GiftPublic]:
    return await _gifts(uow)


@router.put("/{gift_id}", summary="Add or change a gift (admin)")
async def put_gift(
    body: GiftIn, uow: UowDep, request: Request, grant: Annotated[Grant, Allowed("points.gift.write")], gift_id: str = GiftId,
) -> GiftPublic:
    if body.coupon_template_id is not None:  # a coupon item: campaigns must have its template
        await request.app.state.coupon_templates.ensure_exists(body.coupon_template_id, grant.principal.token)
    # Read under the row's lock, so that two PUTs at once each record what they replaced.
    before = await _gift_state(uow, gift_id, lock=True)
    uow.session.expire_all()  # the upsert below is Core: the gift read above must not answer for it
    values = {
        "name_zh": body.name_zh, "name_en": body.name_en, "active_from": body.active_from,
        "active_until": body.active_until, "kind": body.kind.value, "coupon_template_id": body.coupon_template_id,
        "updated_at": uow.now(),
    }
    # One upsert, which also locks the gift's row: two PUTs of one gift at once (a new one too) are
    # applied one after the other, prices included, the later one standing.
    await uow.session.exec(insert_into(uow.session, GIFTS).values(gift_id=gift_id, **values).on_conflict_do_update(
        index_elements=["gift_id"], set_=values,
    ))
    await uow.session.exec(delete(GiftPriceRow).where(col(GiftPriceRow.gift_id) == gift_id))
    uow.session.add_all(GiftPriceRow(gift_id=gift_id, channel=ch, points=pts) for ch, pts in body.prices.items())
    await uow.session.flush()
    after = await _gift_state(uow, gift_id)
    if after != before:
        uow.session.add(GiftChangeRow(gift_id=gift_id, change="gift", staff_id=grant.principal.subject, at=uow.now(),
                                      before=before, after=after or {}))
        await uow.session.flush()
    return (await _gifts(uow, gift_id))[0]


async def _gift_state(uow, gift_id: str, *, lock: bool = False) -> dict[str, object] | None:
    """What a change of the gift records: its fields and prices as JSON, None while it does not exist."""
    if lock:
        await uow.session.exec(select(GiftRow.gift_id).where(GiftRow.gift_id == gift_id).with_for_update())
    found = await _gifts(uow, gift_id)
    return found[0].model_dump(mode="json", exclude={"gift_id"}) if found else None


@router.get("/{gift_id}/changes", summary="Who changed the gift or a store's stock of it, when, from what to what")
async def gift_changes(
    uow: UowDep, grant: Annotated[Grant, Allowed("points.stock.read")], gift_id: str = GiftId,
) -> list[GiftChangePublic]:
    """Oldest first: the gift's own changes, and the stock counts of the stores the caller acts for
    (a store-bound token's: its own store's). 404 for a gift the catalogue does not have."""
    if await uow.session.get(GiftRow, gift_id) is None:
        raise NotFound(f"gift {gift_id} is not in the catalogue")
    store = col(GiftChangeRow.store_id)
    query = select(GiftChangeRow).where(GiftChangeRow.gift_id == gift_id)
    if scoped := grant.store_rows(store):
        query = query.where(or_(store.is_(None), *scoped))
    rows = (await uow.session.exec(query.order_by(col(GiftChangeRow.id)))).all()
    return [GiftChangePublic.model_validate(r, from_attributes=True) for r in rows]


async def _reserved(session: AsyncSession, *, gift_id: str | None = None, store_id: str | None = None) -> dict[tuple[str, str], int]:
    """Open reservations (status reserved: neither handed over nor cancelled) per gift and store.
    They are on the shelf until handed over, but no longer free to reserve."""
    query = (
        select(RedemptionRow.gift_id, RedemptionRow.store_id, func.count())
        .where(RedemptionRow.status == RegisterStatus.RESERVED.value, RedemptionRow.kind == GiftKind.GIFT.value)
        .group_by(RedemptionRow.gift_id, RedemptionRow.store_id)
    )
    if gift_id is not None:
        query = query.where(RedemptionRow.gift_id == gift_id)
    if store_id is not None:
        query = query.where(RedemptionRow.store_id == store_id)
    return {(g, s): n for g, s, n in (await session.exec(query)).all()}


def _stock(row: GiftStockRow, reserved: dict[tuple[str, str], int]) -> StockPublic:
    held = reserved.get((row.gift_id, row.store_id), 0)
    return StockPublic(gift_id=row.gift_id, store_id=row.store_id, quantity=row.quantity, reserved=held,
                       on_hand=row.quantity + held, updated_at=row.updated_at)


@router.get("/stock", summary="Units left of every gift kept at a store")
async def store_stock(
    uow: UowDep, grant: Annotated[Grant, Allowed("points.stock.read")], store_id: Annotated[StoreId, Query()],
) -> list[StockPublic]:
    """What the desk of `store_id` can hand over: a gift without a row there has none."""
    grant.ensure_store(store_id)
    rows = (await uow.session.exec(select(GiftStockRow).where(GiftStockRow.store_id == store_id).order_by(GiftStockRow.gift_id))).all()
    reserved = await _reserved(uow.session, store_id=store_id)
    return [_stock(r, reserved) for r in rows]


@router.get("/{gift_id}/stock", summary="Units left per store")
async def get_stock(uow: UowDep, grant: Annotated[Grant, Allowed("points.stock.read")], gift_id: str = GiftId) -> list[StockPublic]:
    """Every store's count (a store-bound token's: its own store's only); 404 for a gift the
    catalogue does not have (a mistyped id is not "no stock anywhere")."""
    if await uow.session.get(GiftRow, gift_id) is None:
        raise NotFound(f"gift {gift_id} is not in the catalogue")
    query = select(GiftStockRow).where(GiftStockRow.gift_id == gift_id, *grant.store_rows(GiftStockRow.store_id))
    rows = (await uow.session.exec(query.order_by(GiftStockRow.store_id))).all()
    reserved = await _reserved(uow.session, gift_id=gift_id)
    return [_stock(r, reserved) for r in rows]


@router.put("/{gift_id}/stock/{store_id}", summary="Set the counted stock of a store (store manager, admin)")
async def put_stock(
    body: StockIn, uow: UowDep, grant: Annotated[Grant, Allowed("points.stock.write")], store_id: Annotated[StoreId, Path()],
    gift_id: str = GiftId,
) -> StockPublic:
    grant.ensure_store(store_id)
    gift = await uow.session.get(GiftRow, gift_id)
    if gift is None:
        raise NotFound(f"gift {gift_id} is not in the catalogue")
    if gift.kind != GiftKind.GIFT:
        raise Conflict(f"gift {gift_id} is a coupon: it is issued, not kept in stock")
    now = uow.now()
    row = (
        await uow.session.exec(
            select(GiftStockRow).where(GiftStockRow.gift_id == gift_id, GiftStockRow.store_id == store_id).with_for_update()
        )
    ).first()
    # The count is what is on the shelf, and reserved gifts stay there until they are handed over:
    # what can still be reserved is the count less the open reservations, counted under the stock
    # row's lock (a redemption takes the same row before it writes its reservation, a cancellation
    # before it ends one), so a recount never promises a unit twice.
    reserved = await _reserved(uow.session, gift_id=gift_id, store_id=store_id)
    held = reserved.get((gift_id, store_id), 0)
    if body.quantity < held:
        # Fewer on the shelf than are promised: none is free, and `on_hand` (free + reserved) stays
        # above the count until the reservations that cannot be handed over are cancelled; those
        # cancellations free no unit (`shortfall`).
        log.warning("gift %s at %s: %d counted but %d reserved and not handed over", gift_id, store_id, body.quantity, held)
    free, shortfall = max(0, body.quantity - held), max(0, held - body.quantity)
    before = None if row is None else {"quantity": row.quantity, "reserved": held}
    if row is None:
        row = GiftStockRow(gift_id=gift_id, store_id=store_id, quantity=free, updated_at=now)
    row.quantity, row.shortfall, row.updated_at = free, shortfall, now
    uow.session.add(row)
    # The count as entered, and what it left free beside the reservations.
    uow.session.add(GiftChangeRow(gift_id=gift_id, store_id=store_id, change="stock", staff_id=grant.principal.subject, at=now,
                                  before=before, after={"counted": body.quantity, "quantity": free, "reserved": held}))
    await uow.session.flush()
    return _stock(row, reserved)
