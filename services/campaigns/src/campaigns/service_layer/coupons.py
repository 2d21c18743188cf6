"""Coupons: templates, issuing, the till's validate / reserve / release, and redemption and
reversal from the sales on the POS topic.

Budgets and caps are counters (`coupon_counter`), taken with one conditional UPDATE
(`used + n <= cap`) in the same transaction as the coupon's change of state, so concurrent tills
can never push a counter past its cap. What a coupon's use is counted in:
- `<template>|<campaign>|redemptions`: every use (count and money): caps `redemptions`, `amount`;
- `...|member|<member>`: per member (`per_member`);
- `...|member|<member>|period|<n>`: per member and period (`per_member_per_period`, `period_days`,
  periods of `period_days` days counted from 1970-01-01 UTC);
- `...|store|<store>`: per store (`per_store`);
- `...|issued`: coupons issued (`issued`).
A use is counted when the coupon is reserved (or redeemed by a sale that did not reserve it), and
given back when the reservation is released or a refund returns the coupon.

Coupon rows are locked (SELECT ... FOR UPDATE, in code order) before their state is judged, so two
tills racing for one coupon see each other's reservation; every transition is guarded by the state
it leaves, and the sale and refund handlers are deduplicated by event id, so each happens once.
"""

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, bindparam, delete, literal, update
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import (
    CouponCounterRow,
    CouponRejectionRow,
    CouponRow,
    CouponSaleReturnRow,
    CouponTemplateRow,
    CustomerRow,
    MemberCardRow,
    OfferRow,
)
from campaigns.domain.codes import Draw, could_exist, is_member_code_shape, new_member_codes
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
from shared.columns import MoneyColumn
from shared.commands import derived_event_id
from shared.consumer import Delivery
from shared.db import insert_into, insert_many, insert_or_skip, one_of
from shared.errors import Conflict, Invalid, NotFound
from shared.events import contracts as c
from shared.events.registry import COUPON_ISSUED, COUPON_REDEEMED, COUPON_RELEASED, COUPON_REVERSED
from shared.unit_of_work import UnitOfWork

SERVICE = "campaigns"
COUNTER = CouponCounterRow.__table__  # type: ignore[attr-defined]
COUPON = CouponRow.__table__  # type: ignore[attr-defined]
TEMPLATE = CouponTemplateRow.__table__  # type: ignore[attr-defined]
SALE_RETURN = CouponSaleReturnRow.__table__  # type: ignore[attr-defined]
MEMBER_CARDS = MemberCardRow.__table__  # type: ignore[attr-defined]
CUSTOMER = CustomerRow.__table__  # type: ignore[attr-defined]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LOOKUP_CHUNK = 1000


# --- templates


async def create_template(uow: UnitOfWork, spec: TemplateSpec, created_by: str, now: datetime) -> CouponTemplateRow:
    if spec.validity.over(now):
        raise Invalid("validity.valid_until", f"{spec.validity.valid_until:%Y-%m-%dT%H:%M%z} has passed: "
                      "a coupon of this template could never be used")
    if spec.generic_code is not None:
        taken = await uow.session.exec(select(CouponTemplateRow.id).where(CouponTemplateRow.generic_code == spec.generic_code))
        if taken.first() is not None:
            raise Conflict(f"generic_code: {spec.generic_code} is already the code of another template")
    row = CouponTemplateRow(
        id=str(uuid.uuid4()), name=spec.name, kind=spec.kind.value, spec=spec.model_dump_json(),
        generic_code=spec.generic_code, created_by=created_by, created_at=now,
    )
    uow.session.add(row)
    return row


def ensure_usable(template: CouponTemplateRow, now: datetime, field: str) -> None:
    """Coupons are about to be given from `template` (a campaign created or launched with it, an
    issue by hand): not if its fixed dates have passed, or customers would be told of coupons that
    no till takes. A triggered campaign keeps issuing what it has (its events cannot be refused)."""
    validity = spec_of(template).validity
    if validity.over(now):
        raise Invalid(field, f"template {template.id} was valid until {validity.valid_until:%Y-%m-%dT%H:%M%z}: "
                      "its coupons could never be used")


async def ensure_template(uow: UnitOfWork, template_id: str, spec: TemplateSpec, created_by: str,
                          now: datetime) -> CouponTemplateRow:
    """A template the service makes for itself under an id derived from what it gives (a
    complaint's compensation coupon of one value): written once, by whichever transaction comes
    first (ON CONFLICT: a concurrent one wrote the same), then read like any other."""
    assert spec.generic_code is None  # a generic code is unique: never one a service makes itself
    if (row := await uow.session.get(CouponTemplateRow, template_id)) is not None:
        return row
    await insert_or_skip(uow.session, TEMPLATE, [{
        "id": template_id, "name": spec.name, "kind": spec.kind.value, "spec": spec.model_dump_json(),
        "generic_code": None, "created_by": created_by, "created_at": now,
    }])
    return await get_template(uow.session, template_id)


def spec_of(row: CouponTemplateRow) -> TemplateSpec:
    return parsed_spec(row.spec)


@functools.lru_cache(maxsize=1024)
def parsed_spec(text: str) -> TemplateSpec:
    """Templates are never changed once written, so a till's every validate need not parse the same
    JSON again: cached by the text itself (a changed text would simply be parsed anew)."""
    return TemplateSpec.model_validate_json(text)


async def get_template(session: AsyncSession, template_id: str) -> CouponTemplateRow:
    row = await session.get(CouponTemplateRow, template_id)
    if row is None:
        raise NotFound(f"no coupon template {template_id}")
    return row


async def list_templates(session: AsyncSession, limit: int, offset: int) -> Sequence[CouponTemplateRow]:
    query = select(CouponTemplateRow).order_by(col(CouponTemplateRow.created_at).desc(), col(CouponTemplateRow.id))
    return (await session.exec(query.offset(offset).limit(limit))).all()


# --- counters


def campaign_key(template_id: str, campaign_id: str | None) -> str:
    return f"{template_id}|{campaign_id or '-'}"


def period_of(at: datetime, days: int) -> int:
    return (at - EPOCH).days // days


@dataclass(frozen=True)
class Take:
    key: str
    count_cap: int | None = None
    amount_cap: Decimal | None = None


def counters(spec: TemplateSpec, key: str, member_id: str | None, store_id: str, period: int | None) -> list[Take]:
    """The counters one use of a coupon goes into, in key order (one lock order for every till)."""
    caps = spec.caps
    takes = [Take(f"{key}|redemptions", caps.redemptions, caps.amount)]
    if member_id is not None and caps.per_member is not None:
        takes.append(Take(f"{key}|member|{member_id}", caps.per_member))
    if member_id is not None and caps.per_member_per_period is not None and period is not None:
        takes.append(Take(f"{key}|member|{member_id}|period|{period}", caps.per_member_per_period))
    if caps.per_store is not None:
        takes.append(Take(f"{key}|store|{store_id}", caps.per_store))
    return sorted(takes, key=lambda t: t.key)


async def _ensure_counter(session: AsyncSession, key: str) -> None:
    await session.exec(insert_into(session, COUNTER).values(key=key, used_count=0, used_amount=ZERO).on_conflict_do_nothing(index_elements=["key"]))


async def _take(session: AsyncSession, take: Take, count: int, amount: Decimal) -> bool:
    """Adds to the counter unless that would pass its cap: one conditional UPDATE, atomic on
    PostgreSQL (a concurrent update is waited for and the condition checked again) and SQLite."""
    await _ensure_counter(session, take.key)
    statement = update(COUNTER).where(COUNTER.c.key == take.key)
    if take.count_cap is not None:
        statement = statement.where(COUNTER.c.used_count + count <= take.count_cap)
    if take.amount_cap is not None:
        # The cap bound as money too (fen), like the column: a bare Decimal would be bound as yuan.
        statement = statement.where(COUNTER.c.used_amount + amount <= literal(take.amount_cap, MoneyColumn()))
    result = await session.exec(
        statement.values(used_count=COUNTER.c.used_count + count, used_amount=COUNTER.c.used_amount + amount)
    )
    return result.rowcount == 1


async def _give_back(session: AsyncSession, takes: Iterable[Take], amount: Decimal) -> None:
    for take in takes:
        await session.exec(
            update(COUNTER).where(COUNTER.c.key == take.key)
            .values(used_count=COUNTER.c.used_count - 1, used_amount=COUNTER.c.used_amount - amount)
        )


async def _take_all(session: AsyncSession, takes: list[Take], amount: Decimal) -> bool:
    """All of a use's counters or none: a savepoint is rolled back when one cap refuses."""
    savepoint = await session.begin_nested()
    for take in takes:
        if not await _take(session, take, 1, amount):
            await savepoint.rollback()
            return False
    await savepoint.commit()
    return True


async def counter(session: AsyncSession, key: str) -> CouponCounterRow | None:
    return await session.get(CouponCounterRow, key)


def _counted_takes(spec: TemplateSpec, row: CouponRow) -> list[Take]:
    assert row.counted_store_id is not None
    return counters(spec, row.campaign_key, row.counted_member_id, row.counted_store_id, row.counted_period)


# --- issuing


@dataclass
class Issued:
    requested: int = 0
    issued: int = 0
    already_held: int = 0
    over_budget: int = 0
    coupon_ids: list[str] = field(default_factory=list)
    coupon_of: dict[str, str] = field(default_factory=dict)  # member id -> the coupon issued to them now


async def _holders(session: AsyncSession, template_id: str, key: str, member_ids: list[str]) -> set[str]:
    held: set[str] = set()
    for start in range(0, len(member_ids), LOOKUP_CHUNK):
        chunk = member_ids[start:start + LOOKUP_CHUNK]
        query = select(CouponRow.member_id).where(
            CouponRow.template_id == template_id, CouponRow.campaign_key == key, one_of(session, COUPON.c.member_id, chunk),
            col(CouponRow.code).is_not(None),
        )
        held.update(m for m in (await session.exec(query)).all() if m is not None)
    return held


async def customers_of(session: AsyncSession, member_ids: Sequence[str]) -> set[str]:
    """The ids among `member_ids` that are customers as members' events told campaigns, and not
    erased: the members a coupon may be issued to by hand. Any other id (a typo, a member erased)
    would get a coupon nobody holds and take a place under the template's cap."""
    known: set[str] = set()
    for start in range(0, len(member_ids), LOOKUP_CHUNK):
        chunk = member_ids[start:start + LOOKUP_CHUNK]
        query = select(CustomerRow.member_id).where(one_of(session, CUSTOMER.c.member_id, chunk), col(CustomerRow.erased_at).is_(None))
        known.update((await session.exec(query)).all())
    return known


async def _room(session: AsyncSession, take: Take, wanted: int) -> int:
    """Takes up to `wanted` from a count cap under a row lock; answers how many it took."""
    if take.count_cap is None or wanted == 0:
        return wanted
    await _ensure_counter(session, take.key)
    row = (await session.exec(select(CouponCounterRow).where(CouponCounterRow.key == take.key).with_for_update())).one()
    granted = max(0, min(wanted, take.count_cap - row.used_count))
    row.used_count += granted
    session.add(row)
    return granted


async def issue(uow: UnitOfWork, template_id: str, member_ids: list[str], campaign_id: str | None,
                draw: Draw | None = None, *, once_per_member: bool = True) -> Issued:
    """One coupon of the template per member (per campaign): members who hold one already are
    counted, not issued again; beyond the `issued` cap the rest are counted as over budget.
    A triggered campaign, which reaches a member once per occasion (and keeps that record itself),
    issues with `once_per_member=False`: a second complaint earns a second coupon."""
    template = await get_template(uow.session, template_id)
    spec = spec_of(template)
    if spec.generic_code is not None:
        raise Conflict(f"template {template_id} has the generic code {spec.generic_code}: nobody needs to be issued one")
    now = uow.now()
    key = campaign_key(template_id, campaign_id)
    wanted = list(dict.fromkeys(member_ids))
    held = await _holders(uow.session, template_id, key, wanted) if once_per_member else set()
    new = [m for m in wanted if m not in held]
    granted = await _room(uow.session, Take(f"{key}|issued", spec.caps.issued), len(new))
    result = Issued(requested=len(wanted), already_held=len(held), over_budget=len(new) - granted)
    valid_from, valid_until = spec.validity.window(now)
    rows: dict[str, dict[str, Any]] = {m: {"id": str(uuid.uuid4()), "template_id": template_id, "campaign_id": campaign_id, "campaign_key": key,
                "member_id": m, "state": State.ISSUED.value, "issued_at": now, "valid_from": valid_from,
                "valid_until": valid_until} for m in new[:granted]}
    await _insert_with_codes(uow.session, list(rows.values()), draw)
    if rows:
        # The events differ only in the coupon's and the member's ids: the first is validated, the
        # rest are copies of it with their own ids (validating each cost a tenth of a launch).
        first = next(iter(rows.values()))
        model = c.CouponIssuedV1(coupon_id=first["id"], template_id=template_id, campaign_id=campaign_id,
                                 member_id=first["member_id"], valid_from=valid_from, valid_until=valid_until, issued_at=now)
        await uow.emit_many(COUPON_ISSUED, (
            (model.model_copy(update={"coupon_id": row["id"], "member_id": row["member_id"]}), row["id"],
             derived_event_id(SERVICE, "coupon_issued", row["id"]))
            for row in rows.values()
        ))
    result.issued = len(rows)
    result.coupon_ids = [r["id"] for r in rows.values()]
    result.coupon_of = {m: r["id"] for m, r in rows.items()}
    return result


async def _insert_with_codes(session: AsyncSession, rows: list[dict[str, Any]], draw: Draw | None) -> None:
    """Gives each row a fresh code and inserts them a chunk at a time; the unique index on `code`
    refuses the rare code already issued (ON CONFLICT DO NOTHING), and those rows get a new code."""
    pending = rows
    while pending:
        for row, code in zip(pending, new_member_codes(len(pending), draw), strict=True):
            row["code"] = code
        inserted = set(await insert_or_skip(session, COUPON, pending, conflict_on=["code"], returning="id"))
        pending = [row for row in pending if row["id"] not in inserted]


# --- the member's card


async def member_of_card(session: AsyncSession, card_no: str | None) -> str | None:
    if card_no is None:
        return None
    row = await session.get(MemberCardRow, card_no)
    return row.member_id if row is not None else None


async def on_member_registered(uow: UnitOfWork, delivery: Delivery) -> None:
    await on_members_registered(uow, [delivery])


async def on_members_registered(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
    """The cards of new members, in one upsert: a card given to another member since is theirs."""
    cards: dict[str, str] = {}
    for delivery in deliveries:
        member = cast(c.MemberRegisteredV1, delivery.payload)
        cards[member.card_no] = member.member_id  # a card twice in the run: the later wins
    if not cards:
        return
    statement, params = insert_many(uow.session, MEMBER_CARDS, [{"card_no": k, "member_id": m} for k, m in cards.items()])
    await uow.session.exec(statement.on_conflict_do_update(
        index_elements=[MEMBER_CARDS.c.card_no], set_={"member_id": statement.excluded.member_id}), params=params)


async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    erased = cast(c.MemberErasedV1, delivery.payload)
    await uow.session.exec(delete(MemberCardRow).where(col(MemberCardRow.member_id) == erased.member_id))


# --- the till


@dataclass(frozen=True)
class TillRequest:
    store_id: str
    pos_txn_id: str
    at: datetime  # the basket's time, by which validity is judged
    now: datetime  # the service's time, from which a reservation runs
    card_no: str | None
    channel: str
    lines: tuple[BasketLine, ...]
    codes: list[str]
    zone: tzinfo  # the chain's local time, for the cashier's messages

    @property
    def basket(self) -> Basket:
        return Basket(self.store_id, self.channel, self.at, self.lines, (self.store_id, self.pos_txn_id), self.zone)


def basket_lines(lines: Iterable[c.SaleLine]) -> tuple[BasketLine, ...]:
    return tuple(BasketLine(ln.sku, ln.category, ln.amount, ln.unit_price) for ln in lines)


@dataclass
class Loaded:
    """The coupons behind a sale's codes: rows (member coupons and generic uses), their templates."""

    member_id: str | None
    states: dict[str, CouponState] = field(default_factory=dict)
    rows: dict[str, CouponRow] = field(default_factory=dict)
    templates: dict[str, CouponTemplateRow] = field(default_factory=dict)
    specs: dict[str, TemplateSpec] = field(default_factory=dict)


def _use_key(template_id: str, store_id: str, pos_txn_id: str) -> str:
    return f"{template_id}|{store_id}|{pos_txn_id}"


async def _load(session: AsyncSession, codes: list[str], store_id: str, pos_txn_id: str, member_id: str | None,
                at: datetime, *, lock: bool) -> Loaded:
    loaded = Loaded(member_id)
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
            valid_from, valid_until = spec.validity.window(at)  # fixed dates: generic codes have no day of issue
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


def _evaluate(basket: Basket, codes: list[str], loaded: Loaded, capped: frozenset[str] = frozenset()) -> Evaluation:
    return evaluate(basket, codes, loaded.states, capped=capped, member_missing=_needs_member(loaded),
                    other_members=_other_members(loaded))


def _member_for_caps(row: CouponRow, loaded: Loaded) -> str | None:
    return row.member_id if row.code is not None else loaded.member_id


async def _would_break_caps(session: AsyncSession, loaded: Loaded, verdicts: list[Verdict], request: TillRequest) -> frozenset[str]:
    """Codes whose use would pass a cap as the counters stand (validate's answer; reserve takes them)."""
    capped = set()
    for verdict in verdicts:
        if not verdict.ok:
            continue
        row, spec = loaded.rows[verdict.code], loaded.specs[verdict.code]
        if _held_by(row, request.store_id, request.pos_txn_id):
            continue  # already counted for this sale
        member = _member_for_caps(row, loaded)
        period = period_of(request.at, spec.caps.period_days) if spec.caps.period_days else None
        for take in counters(spec, row.campaign_key, member, request.store_id, period):
            if take.count_cap is None and take.amount_cap is None:
                continue  # counted for the results, capping nothing
            current = await counter(session, take.key)
            used, amount = (current.used_count, current.used_amount) if current else (0, ZERO)
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
    member = await member_of_card(uow.session, request.card_no)
    added = await _personal_offers(uow.session, member, request)
    request = replace(request, codes=[*request.codes, *added])
    return _shown(await _validate(uow, request, member), added)


async def _validate(uow: UnitOfWork, request: TillRequest, member: str | None) -> list[Verdict]:
    loaded = await _load(uow.session, request.codes, request.store_id, request.pos_txn_id, member, request.at, lock=False)
    first = _evaluate(request.basket, request.codes, loaded)
    capped = await _would_break_caps(uow.session, loaded, first.verdicts, request)
    if not capped:
        return first.verdicts
    return _evaluate(request.basket, request.codes, loaded, capped).verdicts


def _held_by(row: CouponRow, store_id: str, pos_txn_id: str) -> bool:
    return row.state == State.RESERVED and row.store_id == store_id and row.pos_txn_id == pos_txn_id


async def reserve(uow: UnitOfWork, request: TillRequest, ttl: timedelta) -> list[Verdict]:
    """Holds the codes that apply for this sale until `ttl` from now. Reserving the same sale again
    is idempotent: codes it holds stay held (counted once, with the new discount), codes no longer
    asked for are released. The member's personal offers are held with them, as `validate` finds them."""
    session = uow.session
    member = await member_of_card(session, request.card_no)
    added = await _personal_offers(session, member, request)
    return _shown(await _reserve(uow, replace(request, codes=[*request.codes, *added]), member, ttl), added)


async def _reserve(uow: UnitOfWork, request: TillRequest, member: str | None, ttl: timedelta) -> list[Verdict]:
    session, now = uow.session, request.now
    await _release_txn(uow, request.store_id, request.pos_txn_id, keep=set(request.codes), reason="voided")
    loaded = await _load(session, request.codes, request.store_id, request.pos_txn_id, member, request.at, lock=True)
    evaluation = _evaluate(request.basket, request.codes, loaded)
    capped: set[str] = set()
    for verdict in sorted((v for v in evaluation.verdicts if v.ok), key=lambda v: v.code):
        row, spec = loaded.rows[verdict.code], loaded.specs[verdict.code]
        if row.state == State.RESERVED and not _held_by(row, request.store_id, request.pos_txn_id):
            await _release_row(uow, row, spec, "expired")  # the other sale's hold lapsed
        if _held_by(row, request.store_id, request.pos_txn_id):
            await _give_back(session, _counted_takes(spec, row), row.discount or ZERO)
        period = period_of(request.at, spec.caps.period_days) if spec.caps.period_days else None
        member_id = _member_for_caps(row, loaded)
        if not await _take_all(session, counters(spec, row.campaign_key, member_id, request.store_id, period), verdict.discount):
            capped.add(verdict.code)
            if _held_by(row, request.store_id, request.pos_txn_id):
                _to_issued(row)  # its old hold was given back above
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


def _to_issued(row: CouponRow) -> None:
    row.state = State.ISSUED.value
    row.store_id = row.pos_txn_id = row.reserved_until = None
    row.discount = row.sale_total = row.sale_returned = None
    row.counted_store_id = row.counted_period = row.counted_member_id = None


async def _release_row(uow: UnitOfWork, row: CouponRow, spec: TemplateSpec, reason: str) -> None:
    """Ends a reservation: counters given back, a member coupon usable again, a generic use over."""
    assert row.state == State.RESERVED and row.store_id is not None and row.pos_txn_id is not None
    await _give_back(uow.session, _counted_takes(spec, row), row.discount or ZERO)
    data = c.CouponReleasedV1(
        coupon_id=row.id, template_id=row.template_id, campaign_id=row.campaign_id, store_id=row.store_id,
        pos_txn_id=row.pos_txn_id, reason=reason, released_at=uow.now(),  # type: ignore[arg-type]
    )
    uow.emit(COUPON_RELEASED, data, key=row.id)
    if row.code is None:
        row.state, row.reserved_until = State.RELEASED.value, None
    else:
        _to_issued(row)
    uow.session.add(row)


async def _release_txn(uow: UnitOfWork, store_id: str, pos_txn_id: str, *, keep: set[str] = frozenset(),  # type: ignore[assignment]
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
    return await _release_txn(uow, store_id, pos_txn_id, reason="voided")


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


# --- sales and returns


async def on_purchase_made(uow: UnitOfWork, delivery: Delivery) -> None:
    """Redeems the sale's codes: those the till reserved for it, and those it did not (a till
    publishing straight to Kafka) if they are valid and within their caps. A code that cannot be
    redeemed is recorded in `coupon_rejection`. Reservations of the sale it did not use are released."""
    sale = cast(c.PurchaseMadeV1, delivery.payload)
    session, sale_event_id = uow.session, delivery.envelope.id
    codes = list(sale.coupons)
    if not codes:
        await _release_txn(uow, sale.store_id, sale.pos_txn_id, reason="voided")
        return
    claimed = {code: sum((d.amount for d in sale.discounts if d.code == code), ZERO) for code in codes}
    member = await member_of_card(session, sale.customer.card_no if sale.customer else None)
    await _release_txn(uow, sale.store_id, sale.pos_txn_id, keep=set(codes), reason="voided")
    loaded = await _load(session, codes, sale.store_id, sale.pos_txn_id, member, sale.occurred_at, lock=True)
    basket = Basket(sale.store_id, "retail", sale.occurred_at, basket_lines(sale.lines), (sale.store_id, sale.pos_txn_id),
                    uow.settings.zone)
    evaluation = _evaluate(basket, codes, loaded)
    for verdict in sorted(evaluation.verdicts, key=lambda v: v.code):
        code = verdict.code
        row = loaded.rows.get(code)
        if row is not None and row.state == State.REDEEMED and row.redeemed_sale_event_id == sale_event_id:
            continue  # this sale redeemed it already
        if row is not None and _held_by(row, sale.store_id, sale.pos_txn_id):
            # Reserved for this very sale: the till was promised it, whatever has changed since.
            # What the till was promised is also the most it counts: a sale claiming more for the
            # code (a till's mistake, or a cashier's) must not charge the budget beyond its worth.
            spec = loaded.specs[code]
            promised = row.discount or ZERO
            discount = min(claimed[code], promised) if claimed[code] else promised
            delta = discount - (row.discount or ZERO)
            if delta:  # the money actually given is what the budget counts
                for take in _counted_takes(spec, row):
                    await _take(session, Take(take.key), 0, delta)
            _redeem(uow, row, sale, sale_event_id, discount, reserved=True)
            continue
        if not verdict.ok or row is None:
            _reject(uow, sale, sale_event_id, code, verdict.reason or Reason.UNKNOWN_CODE, claimed[code])
            continue
        spec = loaded.specs[code]
        discount = min(claimed[code], verdict.discount) if claimed[code] else verdict.discount
        period = period_of(sale.occurred_at, spec.caps.period_days) if spec.caps.period_days else None
        member_id = _member_for_caps(row, loaded)
        if not await _take_all(session, counters(spec, row.campaign_key, member_id, sale.store_id, period), discount):
            _reject(uow, sale, sale_event_id, code, Reason.CAP_REACHED, claimed[code])
            continue
        row.counted_store_id, row.counted_period, row.counted_member_id = sale.store_id, period, member_id
        row.store_id, row.pos_txn_id = sale.store_id, sale.pos_txn_id
        if row.code is None:
            row.member_id = loaded.member_id
        _redeem(uow, row, sale, sale_event_id, discount, reserved=False)


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
    # Deduplication by event id does not catch a return republished under a new id; its own key does.
    counted = await insert_or_skip(uow.session, SALE_RETURN, [{
        "store_id": refund.store_id, "refund_id": refund.refund_id, "pos_txn_id": refund.pos_txn_id,
        "amount": refund.amount, "recorded_at": uow.now(),
    }], conflict_on=["store_id", "refund_id"], returning="refund_id")
    if not counted:
        return
    query = (
        select(CouponRow)
        .where(CouponRow.store_id == refund.store_id, CouponRow.pos_txn_id == refund.pos_txn_id,
               CouponRow.state == State.REDEEMED.value)
        .order_by(col(CouponRow.id)).with_for_update()
    )
    for row in (await uow.session.exec(query)).all():
        if row.sale_total is not None:
            row.sale_returned = (row.sale_returned or ZERO) + refund.amount
            if row.sale_returned < row.sale_total:
                uow.session.add(row)
                continue
        spec = spec_of(await get_template(uow.session, row.template_id))
        discount = row.discount or ZERO
        data = c.CouponReversedV1(
            coupon_id=row.id, template_id=row.template_id, campaign_id=row.campaign_id, store_id=refund.store_id,
            pos_txn_id=refund.pos_txn_id, refund_id=refund.refund_id, discount=discount,
            returned=spec.returns_on_refund, reversed_at=refund.occurred_at,
        )
        uow.emit(COUPON_REVERSED, data, key=row.id, event_id=derived_event_id(SERVICE, "coupon_reversed", row.id, refund.pos_txn_id))
        if spec.returns_on_refund:
            await _give_back(uow.session, _counted_takes(spec, row), discount)
        if spec.returns_on_refund and row.code is not None:
            _to_issued(row)
            row.redeemed_sale_event_id = row.redeemed_at = None
        else:
            row.state, row.refund_id, row.reversed_at = State.REVERSED.value, refund.refund_id, refund.occurred_at
        uow.session.add(row)


# --- the wallet


_C, _T = CouponRow.__table__.c, CouponTemplateRow.__table__.c  # type: ignore[attr-defined]
# Built once, read as plain rows: the customer-360 view and the app read a wallet on every view.
_WALLET = (
    core_select(
        _C.id, _C.code, _C.template_id, _C.campaign_id, _C.state, _C.valid_from, _C.valid_until, _C.issued_at,
        _C.redeemed_at, _C.discount, _T.name, _T.kind, _T.spec,
    )
    .join(CouponTemplateRow.__table__, _T.id == _C.template_id)  # type: ignore[attr-defined]
    .where(_C.member_id == bindparam("member_id"), _C.code.is_not(None))
    .order_by(_C.issued_at.desc(), _C.id)
)


async def wallet(session: AsyncSession, member_id: str) -> Sequence[Row[Any]]:
    """The member's coupons, newest first: what a wallet shows of each, with its template's `name`,
    `kind` and `spec` (`parsed_spec`)."""
    return (await session.exec(_WALLET, params={"member_id": member_id})).all()  # type: ignore[call-overload]

