"""What a member does with gifts themself in the app: the catalogue at their own channel's prices
with the stock of their home store, reserving a gift for pick-up there, cancelling a reservation
of their own, and which of their points expire when.

Reserving goes through the desk's `redemptions.redeem`, so balance, stock and idempotency rules
have one home; only the store (the member's home store, never one they name) and the recorded
staff id (`APP_STAFF_ID`) differ.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import and_, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from points.adapters.tables import AccountRow, GiftPriceRow, GiftRow, GiftStockRow, RedemptionRow
from points.domain.catalogue import GiftKind, RegisterStatus
from points.domain.expiry import ExpiryPolicy, open_lots, overdue
from points.service_layer import redemptions
from points.service_layer.expiry import member_entries
from shared.errors import Conflict, Invalid, NotFound
from shared.identifiers import APP_STAFF_ID
from shared.member_directory import MemberDirectoryRow
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class MemberGift:
    gift_id: str
    name_zh: str
    name_en: str
    kind: GiftKind
    points: int
    # None for a coupon item (nothing kept in stock) or while the home store is unknown.
    stock_at_home_store: int | None
    active_from: datetime | None
    active_until: datetime | None


async def home_store(session: AsyncSession, member_id: str) -> str | None:
    row = await session.get(MemberDirectoryRow, member_id)
    return row.home_store_id if row else None


async def _account(session: AsyncSession, member_id: str) -> AccountRow:
    account = await session.get(AccountRow, member_id)
    if account is None:
        raise NotFound(f"no points account for member {member_id}")
    return account


@dataclass(frozen=True)
class Newcomer:
    """What members knows of a customer points has not heard of yet: their channel and home store.
    Points learns both from `member_registered`, a moment after the sign-up; until then the app
    shows the catalogue a new account would (`catalogue_for`) from what its caller read in members."""

    channel: str
    home_store_id: str | None


async def catalogue_for(session: AsyncSession, member_id: str, now: datetime,
                        newcomer: Newcomer | None = None) -> tuple[str, str | None, list[MemberGift]]:
    """The member's channel, their home store and the gifts on offer now with a price for the
    channel. A member without an account is NotFound, unless `newcomer` says who they are."""
    account = await session.get(AccountRow, member_id)
    if account is not None:
        channel, store = account.channel, await home_store(session, member_id)
    elif newcomer is not None:
        channel, store = newcomer.channel, newcomer.home_store_id
    else:
        raise NotFound(f"no points account for member {member_id}")
    prices = {p.gift_id: p.points for p in (await session.exec(
        select(GiftPriceRow).where(GiftPriceRow.channel == channel))).all()}
    stock: dict[str, int] = {}
    if store is not None:
        stock = {s.gift_id: s.quantity for s in (await session.exec(
            select(GiftStockRow).where(GiftStockRow.store_id == store))).all()}
    gifts = (await session.exec(select(GiftRow).order_by(GiftRow.gift_id))).all()
    out = []
    for g in gifts:
        offered = (g.active_from is None or g.active_from <= now) and (g.active_until is None or now < g.active_until)
        if g.gift_id not in prices or not offered:
            continue
        kind = GiftKind(g.kind)
        units = None if kind is not GiftKind.GIFT or store is None else stock.get(g.gift_id, 0)
        out.append(MemberGift(g.gift_id, g.name_zh, g.name_en, kind, prices[g.gift_id], units, g.active_from, g.active_until))
    return channel, store, out


async def reserve(uow: UnitOfWork, member_id: str, gift_id: str, idempotency_key: str, now: datetime) -> tuple[RedemptionRow, bool]:
    known = await uow.session.get(MemberDirectoryRow, member_id)
    store = known.home_store_id if known else None
    request = redemptions.RedeemRequest(member_id, gift_id, store or "", APP_STAFF_ID, idempotency_key, store_named=False)
    # A retry is answered with its reservation before the home store is looked at: moved or
    # cleared since, it is still the reservation the member made.
    if (made := await redemptions.earlier(uow.session, request)) is not None:
        return made, True
    if known is None:
        # Signed up a moment ago: members' registration has not reached points yet. Not "no home
        # store", which would send the customer to a desk for one they chose.
        raise Conflict("the membership is still being set up: try again in a moment")
    if store is None:
        raise Conflict("no home store is known for this member yet: gifts are picked up at the home store")
    return await redemptions.redeem(uow, request, now)


async def cancel_own(uow: UnitOfWork, member_id: str, redemption_id: str, now: datetime) -> RedemptionRow:
    row = await uow.session.get(RedemptionRow, redemption_id)
    # Another member's entry is answered as missing: its existence is not theirs to learn.
    if row is None or row.member_id != member_id:
        raise NotFound(f"no gift reservation {redemption_id}")
    return await redemptions.cancel(uow, redemption_id, APP_STAFF_ID, "cancelled by the member in the app", now)


async def reservations(
    session: AsyncSession, member_id: str, limit: int, offset: int, status: RegisterStatus | None = None,
    before_id: str | None = None,
) -> list[RedemptionRow]:
    """The member's register entries, newest first (ties on the instant by id), from `offset`;
    with `before_id`, only those after that entry of theirs in this order (keyset paging), and
    `offset` counts from there.

    The app pages by `before_id`: a reservation made while the member scrolls goes to the top of
    the list and shifts every offset by one, so an offset page would repeat an entry; the entries
    after a given one stay the same. The named entry only gives the position and need not match
    `status`: listing the reserved ones, the last of a page may be handed over or cancelled
    before the next page is asked for, and the list goes on after it all the same."""
    query = select(RedemptionRow).where(RedemptionRow.member_id == member_id)
    if status is not None:
        query = query.where(RedemptionRow.status == status)
    if before_id is not None:
        after = await session.get(RedemptionRow, before_id)
        # Another member's entry is refused as unknown: its existence, let alone its time, is
        # not this member's to learn by paging from it.
        if after is None or after.member_id != member_id:
            raise Invalid("before_id", f"no gift reservation {before_id} of this member to list after")
        at = col(RedemptionRow.redeemed_at)
        query = query.where(or_(at < after.redeemed_at,
                                and_(at == after.redeemed_at, col(RedemptionRow.redemption_id) > after.redemption_id)))
    query = query.order_by(col(RedemptionRow.redeemed_at).desc(), col(RedemptionRow.redemption_id)).offset(offset).limit(limit)
    return list((await session.exec(query)).all())


@dataclass(frozen=True, slots=True)
class Expiring:
    account: AccountRow
    lots: list[tuple[date, int]]  # by the last day they are valid, today or later, soonest first
    past_date: int  # past their last day, in the balance until the expiry job takes them (`overdue`)


async def expiring(session: AsyncSession, member_id: str, policy: ExpiryPolicy, zone: ZoneInfo, now: datetime) -> Expiring:
    """The account and its open lots by the last day they are valid. Lots whose day has passed
    (between midnight and the next expiry run) are counted apart: shown among the dates to come,
    last year's 31 December read as the member's next expiry."""
    account = await _account(session, member_id)
    today = now.astimezone(zone).date()
    lots = open_lots(await member_entries(session, member_id), policy, zone)
    by_date: dict[date, int] = {}
    for lot in lots:
        if lot.expires_on >= today:
            by_date[lot.expires_on] = by_date.get(lot.expires_on, 0) + lot.remaining
    return Expiring(account, sorted(by_date.items()), overdue(lots, today))
