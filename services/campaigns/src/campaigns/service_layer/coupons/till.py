"""The till: validate, reserve and release a sale's codes, and the reservations that lapse."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import CouponRow, CouponTemplateRow, OfferRow
from campaigns.domain.codes import could_exist, is_member_code_shape
from campaigns.domain.coupons import (
    ZERO,
    Basket,
    BasketLine,
    CouponState,
    Evaluation,
    Reason,
    State,
    TemplateSpec,
    Verdict,
    evaluate,
    messages,
)
from campaigns.service_layer.coupons.cards import Card, Holder, channel_of, holder_of
from campaigns.service_layer.coupons.counters import (
    campaign_key,
    counted_takes,
    counter,
    counters,
    give_back,
    period_of,
    take_all,
)
from campaigns.service_layer.coupons.templates import get_template, spec_of
from shared.events import contracts as c
from shared.events.registry import COUPON_RELEASED
from shared.member_directory import member_facts
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class TillRequest:
    store_id: str
    pos_txn_id: str
    at: datetime  # the basket's time, by which validity is judged
    now: datetime  # the service's time, from which a reservation runs
    card_no: str | None
    member_id: str | None  # for a customer without their card, found by the gateway by phone (never with card_no)
    channel: str
    lines: tuple[BasketLine, ...]
    codes: list[str]
    zone: tzinfo  # the chain's local time, for the cashier's messages

    @property
    def basket(self) -> Basket:
        return Basket(self.store_id, self.channel, self.at, self.lines, (self.store_id, self.pos_txn_id), self.zone, self.now)


def basket_lines(lines: Iterable[c.SaleLine]) -> tuple[BasketLine, ...]:
    return tuple(BasketLine(ln.sku, ln.category, ln.amount, ln.unit_price) for ln in lines)


@dataclass
class Loaded:
    """The coupons behind a sale's codes: rows (member coupons and generic uses), their templates."""

    member_id: str | None
    card: Card = Card.NONE  # what the sale's card is: why a code needing the member has none
    states: dict[str, CouponState] = field(default_factory=dict)
    rows: dict[str, CouponRow] = field(default_factory=dict)
    templates: dict[str, CouponTemplateRow] = field(default_factory=dict)
    specs: dict[str, TemplateSpec] = field(default_factory=dict)


def _use_key(template_id: str, store_id: str, pos_txn_id: str) -> str:
    return f"{template_id}|{store_id}|{pos_txn_id}"


async def load(session: AsyncSession, codes: list[str], store_id: str, pos_txn_id: str, holder: Holder,
                at: datetime, *, lock: bool) -> Loaded:
    member_id = holder.member_id
    loaded = Loaded(member_id, holder.card)
    # Member codes first, in code order: every till locks rows in the same order.
    for code in sorted(codes):
        if not could_exist(code):
            continue  # a mistyped member code: unknown without a look-up
        if is_member_code_shape(code):
            query = select(CouponRow).where(CouponRow.code == code)
            row = (await session.exec(query.with_for_update() if lock else query)).first()
            if row is None:
                continue
            template = await get_template(session, row.template_id)
        else:
            found = (await session.exec(select(CouponTemplateRow).where(CouponTemplateRow.generic_code == code))).first()
            if found is None:
                continue
            template = found
            query = select(CouponRow).where(CouponRow.use_key == _use_key(template.id, store_id, pos_txn_id))
            use = (await session.exec(query.with_for_update() if lock else query)).first()
            spec = spec_of(template)
            valid_from, valid_until = spec.validity.dates()
            row = use or CouponRow(
                id=str(uuid.uuid4()), code=None, use_key=_use_key(template.id, store_id, pos_txn_id), template_id=template.id,
                campaign_key=campaign_key(template.id, None), member_id=member_id, state=State.ISSUED.value,
                issued_at=valid_from, valid_from=valid_from, valid_until=valid_until,
            )
        spec = spec_of(template)
        loaded.rows[code], loaded.templates[code], loaded.specs[code] = row, template, spec
        reserved_for = (row.store_id, row.pos_txn_id) if row.store_id and row.pos_txn_id else None
        loaded.states[code] = CouponState(
            code, spec, State(row.state), row.valid_from, row.valid_until, reserved_for, row.reserved_until,
        )
    return loaded


def _needs_member(loaded: Loaded) -> frozenset[str]:
    """Codes that need the card of a known member, at a sale without one: a member's own coupon,
    and a generic code whose caps count per member."""
    if loaded.member_id is not None:
        return frozenset()
    return frozenset(
        code for code, row in loaded.rows.items()
        if (row.code is not None and row.member_id is not None) or (row.code is None and loaded.specs[code].caps.needs_member)
    )


def _other_members(loaded: Loaded) -> frozenset[str]:
    """Member coupons of someone other than the card holder of the sale. A coupon is issued to a
    member (a campaign's audience, points they spent, a complaint's compensation): whoever else
    holds its code may not use it."""
    if loaded.member_id is None:
        return frozenset()
    return frozenset(
        code for code, row in loaded.rows.items()
        if row.code is not None and row.member_id is not None and row.member_id != loaded.member_id
    )


# Why a code that needs the member has none, by what the sale's card is. A card that was shown
# and leads to nobody is said to be so: "present the member card" sent the cashier round in circles.
_MISSING_BECAUSE = {
    Card.NONE: Reason.MEMBER_REQUIRED, Card.KNOWN: Reason.MEMBER_REQUIRED,
    Card.UNKNOWN: Reason.CARD_UNKNOWN, Card.RETIRED: Reason.CARD_REPLACED,
}


def evaluate_loaded(basket: Basket, codes: list[str], loaded: Loaded, capped: frozenset[str] = frozenset()) -> Evaluation:
    return evaluate(basket, codes, loaded.states, capped=capped, member_missing=_needs_member(loaded),
                    other_members=_other_members(loaded), missing_because=_MISSING_BECAUSE[loaded.card])


def member_for_caps(row: CouponRow, loaded: Loaded) -> str | None:
    return row.member_id if row.code is not None else loaded.member_id


async def _would_break_caps(session: AsyncSession, loaded: Loaded, verdicts: list[Verdict], request: TillRequest) -> frozenset[str]:
    """Codes whose use would pass a cap as the counters stand (validate's answer; reserve takes them)."""
    capped = set()
    for verdict in verdicts:
        if not verdict.ok:
            continue
        row, spec = loaded.rows[verdict.code], loaded.specs[verdict.code]
        if held_by(row, request.store_id, request.pos_txn_id):
            continue  # already counted for this sale
        # Another sale's hold that lapsed (a live one is refused before this): reserving ends it
        # and gives its counts back first (`end_lapsed_hold`), so they are not counted against it.
        lapsed = {t.key for t in counted_takes(spec, row)} if row.state == State.RESERVED else set()
        member = member_for_caps(row, loaded)
        period = period_of(request.at, spec.caps.period_days, request.zone) if spec.caps.period_days else None
        for take in counters(spec, row.campaign_key, member, request.store_id, period):
            if take.count_cap is None and take.amount_cap is None:
                continue  # counted for the results, capping nothing
            current = await counter(session, take.key)
            used, amount = (current.used_count, current.used_amount) if current else (0, ZERO)
            if take.key in lapsed:
                used, amount = used - 1, amount - (row.discount or ZERO)
            if (take.count_cap is not None and used + 1 > take.count_cap) or (
                take.amount_cap is not None and amount + verdict.discount > take.amount_cap
            ):
                capped.add(verdict.code)
    return frozenset(capped)


async def _personal_offers(session: AsyncSession, member_id: str | None, request: TillRequest) -> list[str]:
    """The codes of the member's personal offer lists not handed over, in the lists' order: a list
    is redeemed at checkout on the member's card alone. Those held by another sale or no longer
    valid are left to `evaluate`, which refuses them."""
    if member_id is None:
        return []
    query = (
        select(CouponRow.code)
        .join(OfferRow, col(OfferRow.coupon_id) == col(CouponRow.id))
        .where(OfferRow.member_id == member_id, CouponRow.member_id == member_id,
               col(CouponRow.state).in_([State.ISSUED.value, State.RESERVED.value]),
               col(CouponRow.valid_until) > request.at)
        .order_by(col(OfferRow.round_id), col(OfferRow.rank))
    )
    given = set(request.codes)
    return [code for code in dict.fromkeys((await session.exec(query)).all()) if code is not None and code not in given]


def _shown(verdicts: list[Verdict], added: list[str]) -> list[Verdict]:
    """The answer: every code the till gave, and the personal offers that apply (one that does not
    is no news to a customer who never handed it over)."""
    extra = set(added)
    return [v for v in verdicts if v.ok or v.code not in extra]


async def validate(uow: UnitOfWork, request: TillRequest) -> list[Verdict]:
    """What each code would take off the basket now, with the member's personal offers; changes nothing."""
    holder = await holder_of(uow.session, request.card_no, request.member_id)
    added = await _personal_offers(uow.session, holder.member_id, request)
    request = replace(request, codes=[*request.codes, *added], channel=await channel_of(uow.session, holder.member_id, request.channel))
    return _shown(await _validate(uow, request, holder), added)


async def _validate(uow: UnitOfWork, request: TillRequest, holder: Holder) -> list[Verdict]:
    loaded = await load(uow.session, request.codes, request.store_id, request.pos_txn_id, holder, request.at, lock=False)
    first = evaluate_loaded(request.basket, request.codes, loaded)
    capped = await _would_break_caps(uow.session, loaded, first.verdicts, request)
    if not capped:
        return first.verdicts
    return evaluate_loaded(request.basket, request.codes, loaded, capped).verdicts


def held_by(row: CouponRow, store_id: str, pos_txn_id: str) -> bool:
    return row.state == State.RESERVED and row.store_id == store_id and row.pos_txn_id == pos_txn_id


async def reserve(uow: UnitOfWork, request: TillRequest, ttl: timedelta) -> list[Verdict]:
    """Holds the codes that apply for this sale until `ttl` from now. Reserving the same sale again
    is idempotent: codes it holds stay held (counted once, with the new discount), codes no longer
    asked for, or that no longer apply (another card, a smaller basket), are released: the hold is
    what the till was last answered. The member's personal offers are held with them, as `validate`
    finds them."""
    session = uow.session
    holder = await holder_of(session, request.card_no, request.member_id)
    added = await _personal_offers(session, holder.member_id, request)
    request = replace(request, codes=[*request.codes, *added], channel=await channel_of(session, holder.member_id, request.channel))
    return _shown(await _reserve(uow, request, holder, ttl), added)


async def _reserve(uow: UnitOfWork, request: TillRequest, holder: Holder, ttl: timedelta) -> list[Verdict]:
    session, now = uow.session, request.now
    await release_txn(uow, request.store_id, request.pos_txn_id, keep=set(request.codes), reason="voided")
    loaded = await load(session, request.codes, request.store_id, request.pos_txn_id, holder, request.at, lock=True)
    evaluation = evaluate_loaded(request.basket, request.codes, loaded)
    # A sale redeems the codes held for it without judging them again (the till gave what it was
    # answered), so a code this sale held that is refused now must not stay held.
    if refused := {v.code for v in evaluation.verdicts if not v.ok}:
        await release_txn(uow, request.store_id, request.pos_txn_id, keep=set(request.codes) - refused, reason="voided")
    capped: set[str] = set()
    for verdict in sorted((v for v in evaluation.verdicts if v.ok), key=lambda v: v.code):
        row, spec = loaded.rows[verdict.code], loaded.specs[verdict.code]
        await end_lapsed_hold(uow, row, spec, request.store_id, request.pos_txn_id)
        if held_by(row, request.store_id, request.pos_txn_id):
            await give_back(session, counted_takes(spec, row), row.discount or ZERO)
        period = period_of(request.at, spec.caps.period_days, request.zone) if spec.caps.period_days else None
        member_id = member_for_caps(row, loaded)
        if not await take_all(session, counters(spec, row.campaign_key, member_id, request.store_id, period), verdict.discount):
            capped.add(verdict.code)
            if held_by(row, request.store_id, request.pos_txn_id):
                to_issued(row)  # its old hold was given back above
                session.add(row)
            continue
        row.state = State.RESERVED.value
        row.store_id, row.pos_txn_id, row.reserved_until = request.store_id, request.pos_txn_id, now + ttl
        row.discount = verdict.discount
        row.counted_store_id, row.counted_period, row.counted_member_id = request.store_id, period, member_id
        if row.code is None:
            row.member_id = loaded.member_id
        session.add(row)
    if not capped:
        return evaluation.verdicts
    return [
        _capped(v) if v.code in capped else v
        for v in evaluation.verdicts
    ]


def _capped(verdict: Verdict) -> Verdict:
    zh, en = messages(Reason.CAP_REACHED)
    return Verdict(verdict.code, ZERO, Reason.CAP_REACHED, zh, en)


def to_issued(row: CouponRow) -> None:
    row.state = State.ISSUED.value
    row.store_id = row.pos_txn_id = row.reserved_until = None
    row.discount = row.sale_total = row.sale_returned = None
    row.counted_store_id = row.counted_period = row.counted_member_id = None


async def back_in_wallet(session: AsyncSession, row: CouponRow) -> None:
    """A member coupon its sale did not use after all (the hold released, or the sale returned):
    usable again by its holder, or `withdrawn` when the holder was erased meanwhile, like their
    other unused coupons (`issuing.on_member_erased`): nobody holds it any more."""
    to_issued(row)
    if row.member_id is not None:
        facts = await member_facts(session, row.member_id)
        if facts is not None and facts.erased_at is not None:
            row.state = State.WITHDRAWN.value


async def _release_row(uow: UnitOfWork, row: CouponRow, spec: TemplateSpec, reason: str) -> None:
    """Ends a reservation: counters given back, a member coupon usable again, a generic use over."""
    assert row.state == State.RESERVED and row.store_id is not None and row.pos_txn_id is not None
    await give_back(uow.session, counted_takes(spec, row), row.discount or ZERO)
    data = c.CouponReleasedV1(
        coupon_id=row.id, template_id=row.template_id, campaign_id=row.campaign_id, store_id=row.store_id,
        pos_txn_id=row.pos_txn_id, reason=reason, released_at=uow.now(),  # type: ignore[arg-type]
    )
    uow.emit(COUPON_RELEASED, data, key=row.id)
    if row.code is None:
        row.state, row.reserved_until = State.RELEASED.value, None
    else:
        await back_in_wallet(uow.session, row)
    uow.session.add(row)


async def end_lapsed_hold(uow: UnitOfWork, row: CouponRow, spec: TemplateSpec, store_id: str, pos_txn_id: str) -> None:
    """A coupon another sale held past its reservation, now taken by this sale: that hold ends
    first (its counters given back, its release announced), as the release job would have ended
    it, so the coupon is never counted for two sales."""
    if row.state == State.RESERVED and not held_by(row, store_id, pos_txn_id):
        await _release_row(uow, row, spec, "expired")


async def release_txn(uow: UnitOfWork, store_id: str, pos_txn_id: str, *, keep: set[str] = frozenset(),  # type: ignore[assignment]
                       reason: str) -> int:
    query = (
        select(CouponRow)
        .where(CouponRow.store_id == store_id, CouponRow.pos_txn_id == pos_txn_id, CouponRow.state == State.RESERVED.value)
        .order_by(col(CouponRow.id)).with_for_update()
    )
    released = 0
    for row in (await uow.session.exec(query)).all():
        template = await get_template(uow.session, row.template_id)
        code = row.code or template.generic_code
        if code in keep:
            continue
        await _release_row(uow, row, spec_of(template), reason)
        released += 1
    return released


async def release(uow: UnitOfWork, store_id: str, pos_txn_id: str) -> int:
    """The till voided the sale: every coupon it held goes back."""
    return await release_txn(uow, store_id, pos_txn_id, reason="voided")


async def release_expired(uow: UnitOfWork, now: datetime, limit: int) -> int:
    query = (
        select(CouponRow)
        .where(CouponRow.state == State.RESERVED.value, col(CouponRow.reserved_until) <= now)
        .order_by(col(CouponRow.id)).limit(limit).with_for_update()
    )
    rows = (await uow.session.exec(query)).all()
    for row in rows:
        await _release_row(uow, row, spec_of(await get_template(uow.session, row.template_id)), "expired")
    return len(rows)
