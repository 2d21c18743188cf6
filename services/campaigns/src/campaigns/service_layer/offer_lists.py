"""The personal offer lists: every period (the `offer-lists` job) or when marketing asks, each
member with marketing SMS consent gets a list of up to `offer_list_size` offers, and a message
(SMS and inbox) with a link to it.

A round is one campaign: the members a list is made for are recorded in `campaign_member`, the
control group among them held out (no list, no message; a member with nothing predicted is in
neither group), each offer is a coupon of a template made for its promotion and the
round (limited to the SKU or category), so the campaign's results page measures redemption and
uplift like any other campaign's. A personalised member's list is their predicted items
(domain/offers.py) that are on the promotion list, best first, with their own price; a member who
switched off personalised offers gets the promotion list as it is, with nothing read from their
purchases.

Building runs a chunk of members per transaction. The round is keyed by its period (`period:<n>`,
of the chain's local days: domain/rounds.py) and ends with it, whoever asks for it: the job, or
marketing building it now, so a period has one round and a second request (a retry, a second
click, the job after marketing) answers that round. Its campaign members are keyed by (campaign,
member, occasion) and only the members a chunk records itself get coupons and messages, so a build
interrupted half-way, rerun, or run twice at once (two requests, two replicas) reaches nobody twice.
"""

import asyncio
import math
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import func, or_, update
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import (
    CampaignMemberRow,
    CampaignRow,
    CouponRow,
    CustomerRow,
    OfferRoundRow,
    OfferRow,
    PromotionRow,
)
from campaigns.config import Settings
from campaigns.domain import offers
from campaigns.domain.campaigns import State
from campaigns.domain.control import in_control
from campaigns.domain.coupons import State as CouponState
from campaigns.domain.coupons import shown_state
from campaigns.domain.messages import occasion_on
from campaigns.domain.promotions import Promotion, coupon_spec, own_price
from campaigns.domain.rounds import period_key, round_ends
from campaigns.service_layer import item_history, messages, promotions
from campaigns.service_layer.coupons.issuing import issue
from campaigns.service_layer.coupons.templates import create_template
from shared.commands import Commands, derived_event_id
from shared.db import insert_or_skip, one_of
from shared.errors import Conflict
from shared.events import contracts as c
from shared.events.registry import CAMPAIGN_LAUNCHED
from shared.unit_of_work import UnitOfWork

SERVICE = "campaigns"
OCCASION = "once"  # a round reaches each member once
CUSTOMERS = CustomerRow.__table__  # type: ignore[attr-defined]
MEMBERS = CampaignMemberRow.__table__  # type: ignore[attr-defined]
ROUNDS = OfferRoundRow.__table__  # type: ignore[attr-defined]
OFFERS = OfferRow.__table__  # type: ignore[attr-defined]


# --- the members' histories as the prediction reads them


Shopper = item_history.Shopper


async def _shoppers(session: AsyncSession, settings: Settings, since: datetime, until: datetime,
                    member_ids: Sequence[str]) -> dict[str, Shopper]:
    return await item_history.histories(session, since, until, member_ids, settings.zone)


async def learn(session: AsyncSession, settings: Settings, now: datetime) -> offers.Model:
    """What items do across members, from an even sample of those with a history."""
    since = now - timedelta(days=settings.offer_history_days)
    everyone = await item_history.members_with_history(session, since, now)
    step = max(1, math.ceil(len(everyone) / settings.offer_sample_members))
    sample = everyone[::step]
    population = offers.Population(as_of=_day(now, settings))
    for start in range(0, len(sample), settings.offer_build_chunk):
        for shopper in (await _shoppers(session, settings, since, now, sample[start:start + settings.offer_build_chunk])).values():
            population.learn(shopper.history)
    return population.finish()


def _day(at: datetime, settings: Settings) -> int:
    return at.astimezone(settings.zone).date().toordinal()


# --- one member's list (pure)


@dataclass(frozen=True)
class Offer:
    promotion: PromotionRow
    spec: Promotion
    personal: bool
    score: float | None
    own_price: Decimal | None


def personal_list(shopper: Shopper | None, model: offers.Model, on_offer: list[tuple[PromotionRow, Promotion]],
                  settings: Settings) -> list[Offer]:
    """The member's predicted items that are on promotion, most likely first, with their price."""
    if shopper is None:
        shopper = Shopper()
    scores = {s.item: s.score for s in offers.predict(shopper.history, shopper.visits, model, len(on_offer),
                                                      only={spec.item for _, spec in on_offer})}
    ranked = sorted(((scores.get(spec.item, 0.0), row.id, row, spec) for row, spec in on_offer), key=lambda t: (-t[0], t[1]))
    return [Offer(row, spec, True, round(score, 6), own_price(spec, shopper.paid_last.get(spec.sku or "")))
            for score, _, row, spec in ranked[:settings.offer_list_size] if score >= settings.offer_min_score]


def general_list(on_offer: list[tuple[PromotionRow, Promotion]], settings: Settings) -> list[Offer]:
    """For a member who switched personalised offers off: the promotion list as marketing made it,
    priced from the promotion alone (nothing of their purchases is read)."""
    return [Offer(row, spec, False, None, own_price(spec, None)) for row, spec in on_offer[:settings.offer_list_size]]


# --- building a round


async def build_period(commands: Commands, settings: Settings, now: datetime) -> tuple[OfferRoundRow, bool]:
    """Builds (or finishes building) the round of the period of `now`; answers it once built, and
    whether this call opened it (False: it was there already, built or being built)."""
    return await _build(commands, settings, now, period_key(now, settings.offer_list_period_days, settings.zone))


async def build(commands: Commands, settings: Settings, now: datetime, key: str) -> OfferRoundRow:
    """Builds (or finishes building) the round `key`; answers it once built."""
    return (await _build(commands, settings, now, key))[0]


async def _build(commands: Commands, settings: Settings, now: datetime, key: str) -> tuple[OfferRoundRow, bool]:
    # Two requests opening the same round at once: the loser meets the key and finds the winner's.
    row, opened = await commands.run(lambda uow: _open(uow, settings, key, now), retry_on_conflict=True)
    if row.status == "built":
        return row, opened
    async with commands() as uow:
        on_offer = await _on_offer(uow, row)
        audience = await _audience(uow)
        model = await learn(uow.session, settings, now)
        share = (await uow.session.get(CampaignRow, row.campaign_id)).control_share  # type: ignore[union-attr]
    chunks = [audience[start:start + settings.offer_build_chunk] for start in range(0, len(audience), settings.offer_build_chunk)]
    # The next chunk is worked out (its histories read on a connection of their own, its lists
    # predicted) while this one is written: Python predicts while the database inserts.
    planning: asyncio.Task[Plan] | None = None
    try:
        for n, chunk in enumerate(chunks):
            plan = await planning if planning is not None else await _plan(commands, settings, row, model, on_offer, share, chunk)
            planning = (asyncio.create_task(_plan(commands, settings, row, model, on_offer, share, chunks[n + 1]))
                        if n + 1 < len(chunks) else None)
            async with commands() as uow:
                await _reach(uow, row, plan, settings)
    finally:
        if planning is not None:
            planning.cancel()
    async with commands() as uow:
        return await _finish(uow, row.id), opened


@dataclass
class Plan:
    """A chunk of the audience worked out: each member's list (none: nothing predicted, so the
    member is not in the round) and who of those with one is held out. Members reached by an
    earlier run are dropped when written."""

    members: list[str]
    lists: dict[str, list[Offer]]
    held: set[str]


async def _plan(commands: Commands, settings: Settings, row: OfferRoundRow, model: offers.Model,
                on_offer: list[tuple[PromotionRow, Promotion]], share: Decimal, chunk: list[tuple[str, bool]]) -> Plan:
    # Lists are predicted for everyone, the control group too, and the control is drawn among
    # those with one: the two groups come from the same population. Held out before predicting,
    # the control would keep the members nothing is predicted for (lapsed shoppers, mostly) while
    # the treatment lost them, and the uplift would be measured against a sleepier group.
    wanted = [m for m, personalised in chunk if personalised]
    found: dict[str, Shopper] = {}
    if wanted:
        async with commands() as uow:
            since = row.as_of - timedelta(days=settings.offer_history_days)
            found = await _shoppers(uow.session, settings, since, row.as_of, wanted)
    lists: dict[str, list[Offer]] = {}
    for n, (m, personalised) in enumerate(chunk):
        offered = personal_list(found.get(m), model, on_offer, settings) if personalised else general_list(on_offer, settings)
        if offered:
            lists[m] = offered
        if n % 200 == 199:
            await asyncio.sleep(0)  # lets the chunk being written send its next statement
    held = {m for m in lists if in_control(row.campaign_id, m, share)}
    return Plan([m for m, _ in chunk], lists, held)


async def _open(uow: UnitOfWork, settings: Settings, key: str, now: datetime) -> tuple[OfferRoundRow, bool]:
    """The round of `key`, or a new one with its campaign and a coupon template per promotion; and
    whether it is new."""
    found = (await uow.session.exec(select(OfferRoundRow).where(OfferRoundRow.key == key))).first()
    if found is not None:
        return found, False
    on_offer = await promotions.in_force(uow, now)
    if not on_offer:
        raise Conflict("promotions: nothing is on the promotion list now, so there is nothing to offer")
    # With the period (to the end of its last local day), not a period's days from the build: the
    # next period's round starts there, and a member never holds two rounds' lists and coupons.
    ends = round_ends(now, settings.offer_list_period_days, settings.zone)
    campaign = CampaignRow(
        id=str(uuid.uuid4()), name=f"个人优惠清单 {now.astimezone(settings.zone):%Y-%m-%d}",
        description=f"personal offer lists, round {key}", kind="one_off", message={"template": "offer_list"},
        control_share=settings.offer_control_share, marketing=True, channel="sms",
        # Members who opted out are on it too, with the general list.
        personalised=False, starts_at=now, ends_at=ends, state=State.RUNNING.value, created_by="offer-lists",
        created_at=now, launched_at=now, started_at=now,
    )
    uow.session.add(campaign)
    templates = {}
    for promotion, spec in on_offer:
        template = await create_template(uow, coupon_spec(spec, now, ends), "offer-lists", now)
        templates[promotion.id] = template.id
    row = OfferRoundRow(id=str(uuid.uuid4()), key=key, campaign_id=campaign.id, as_of=now, ends_at=ends, templates=templates)
    uow.session.add(row)
    await uow.session.flush()
    return row, True


async def _on_offer(uow: UnitOfWork, row: OfferRoundRow) -> list[tuple[PromotionRow, Promotion]]:
    """The promotions the round opened with (those withdrawn since stay on it: their coupons exist)."""
    found = (await uow.session.exec(select(PromotionRow).where(col(PromotionRow.id).in_(list(row.templates))))).all()
    return promotions.ordered(found)


async def _audience(uow: UnitOfWork) -> list[tuple[str, bool]]:
    """(member, personalised) of everyone with marketing SMS consent, by id."""
    rows = await uow.session.exec(core_select(  # type: ignore[call-overload]
        CUSTOMERS.c.member_id, or_(CUSTOMERS.c.personalised.is_(None), CUSTOMERS.c.personalised.is_(True)),
    ).where(CUSTOMERS.c.erased_at.is_(None), CUSTOMERS.c.consent_sms.is_(True)).order_by(CUSTOMERS.c.member_id))
    return [(m, bool(p)) for m, p in rows.all()]


async def _reach(uow: UnitOfWork, row: OfferRoundRow, plan: Plan, settings: Settings) -> None:
    session, now = uow.session, uow.now()
    before = set((await session.exec(core_select(MEMBERS.c.member_id).where(  # type: ignore[call-overload]
        MEMBERS.c.campaign_id == row.campaign_id, MEMBERS.c.occasion == OCCASION,
        one_of(session, MEMBERS.c.member_id, plan.members)))).scalars().all())
    fresh = [m for m in plan.members if m not in before]
    if not fresh:
        return
    # Recorded: everyone with a list, treated or held out (nothing predicted is no list, and no
    # place in either group). Only the rows this chunk inserts itself count: a build of the same
    # round running beside this one (read `before` at the same moment) may have recorded some of
    # them first, and theirs stand.
    recorded = set(await insert_or_skip(session, MEMBERS, [
        {"campaign_id": row.campaign_id, "member_id": m, "occasion": OCCASION, "control": m in plan.held, "reached_at": now}
        for m in fresh if m in plan.lists], returning="member_id"))
    held = plan.held & recorded
    lists = {m: offered for m, offered in plan.lists.items() if m in recorded and m not in plan.held}
    coupon_of = await _issue(uow, row, lists)
    offer_rows = [{"round_id": row.id, "member_id": m, "rank": rank, "promotion_id": o.promotion.id, "personal": o.personal,
                   "score": o.score, "own_price": o.own_price, "coupon_id": coupon_of.get((o.promotion.id, m))}
                  for m, offered in lists.items() for rank, o in enumerate(offered, start=1)]
    await insert_or_skip(session, OFFERS, offer_rows)
    await messages.request(uow, [r for m, offered in lists.items() for r in _requests(row, m, offered, settings)])
    personal = sum(1 for offered in lists.values() if offered[0].personal)
    await session.exec(update(ROUNDS).where(ROUNDS.c.id == row.id).values(
        members=ROUNDS.c.members + len(lists), personal=ROUNDS.c.personal + personal,
        general=ROUNDS.c.general + len(lists) - personal, held_out=ROUNDS.c.held_out + len(held)))


async def _issue(uow: UnitOfWork, row: OfferRoundRow, lists: dict[str, list[Offer]]) -> dict[tuple[str, str], str]:
    """One coupon per offer: a batch per promotion, under the round's campaign."""
    holders: dict[str, list[str]] = defaultdict(list)
    for member_id, offered in lists.items():
        for o in offered:
            holders[o.promotion.id].append(member_id)
    coupon_of: dict[tuple[str, str], str] = {}
    for promotion_id, member_ids in holders.items():
        issued = await issue(uow, row.templates[promotion_id], member_ids, row.campaign_id)
        coupon_of.update({(promotion_id, m): coupon for m, coupon in issued.coupon_of.items()})
    return coupon_of


def _requests(row: OfferRoundRow, member_id: str, offered: list[Offer], settings: Settings) -> list[messages.Request]:
    """An SMS (marketing: consent, quiet hours and the weekly cap apply) and the same in the inbox,
    which is the member's own app and so is not counted against the cap. Both are copies of one
    message (`occasion_on`), so the member's inbox lists it once."""
    params = {"count": str(len(offered)), "first": offered[0].spec.title, "personal": "yes" if offered[0].personal else "no",
              # The app's own page of the list: the member is the one signed in, so no id is in the SMS.
              "link": f"{settings.public_base}/app/v1/offers"}
    return [messages.Request(
        member_id=member_id, source=row.campaign_id, occasion=occasion_on("offer_list", channel), campaign_id=row.campaign_id,
        notification_id=derived_event_id(SERVICE, "offer_list", row.id, member_id, channel), channel=channel,
        template="offer_list", params=params, marketing=channel == "sms", requires_consent="marketing_sms",
    ) for channel in ("sms", "inbox")]


async def _finish(uow: UnitOfWork, round_id: str) -> OfferRoundRow:
    row = cast(OfferRoundRow, await uow.session.get(OfferRoundRow, round_id, with_for_update=True))
    if row.status == "built":
        return row
    now = uow.now()
    counts = dict((await uow.session.exec(core_select(MEMBERS.c.control, func.count()).where(  # type: ignore[call-overload]
        MEMBERS.c.campaign_id == row.campaign_id).group_by(MEMBERS.c.control))).all())
    campaign = cast(CampaignRow, await uow.session.get(CampaignRow, row.campaign_id))
    campaign.treatment_size, campaign.control_size = int(counts.get(False, 0)), int(counts.get(True, 0))
    row.status, row.built_at = "built", now
    uow.session.add_all([row, campaign])
    uow.emit(CAMPAIGN_LAUNCHED, c.CampaignLaunchedV1(
        campaign_id=campaign.id, kind="one_off", trigger=None, treatment=campaign.treatment_size,
        control=campaign.control_size, launched_at=now,
    ), key=campaign.id, event_id=derived_event_id(SERVICE, "campaign_launched", campaign.id))
    return row


# --- reading


async def rounds(uow: UnitOfWork, limit: int, offset: int) -> Sequence[OfferRoundRow]:
    query = select(OfferRoundRow).order_by(col(OfferRoundRow.as_of).desc(), col(OfferRoundRow.id))
    return (await uow.session.exec(query.offset(offset).limit(limit))).all()


@dataclass(frozen=True)
class ListedOffer:
    rank: int
    promotion_id: str
    spec: Promotion
    personal: bool
    own_price: Decimal | None
    coupon_code: str | None
    valid_until: datetime | None
    # The offer's coupon as the member's wallet shows it (`issued`, `redeemed`, `expired`, ...): the
    # list stays as it was made, so a used offer stays on it, said to be used. None without a coupon.
    coupon_state: str | None


async def member_list(uow: UnitOfWork, member_id: str, settings: Settings) -> tuple[OfferRoundRow | None, list[ListedOffer]]:
    """The member's list of the latest round that gave them one (none: an empty list). A member who
    switched personalised offers off since is answered that round's general list at once, not the
    list their purchases made until the next round (their coupons stay in their wallet)."""
    latest = (await uow.session.exec(
        select(OfferRoundRow).join(OfferRow, col(OfferRow.round_id) == col(OfferRoundRow.id))
        .where(OfferRow.member_id == member_id).order_by(col(OfferRoundRow.as_of).desc()).limit(1))).first()
    if latest is None:
        return None, []
    rows = (await uow.session.exec(
        select(OfferRow, PromotionRow, CouponRow)
        .join(PromotionRow, col(PromotionRow.id) == col(OfferRow.promotion_id))
        .outerjoin(CouponRow, col(CouponRow.id) == col(OfferRow.coupon_id))
        .where(OfferRow.round_id == latest.id, OfferRow.member_id == member_id).order_by(col(OfferRow.rank)))).all()
    if any(o.personal for o, _, _ in rows) and await _opted_out(uow, member_id):
        return latest, [ListedOffer(rank, o.promotion.id, o.spec, False, o.own_price, None, None, None)
                        for rank, o in enumerate(general_list(await _on_offer(uow, latest), settings), start=1)]
    now = uow.now()
    return latest, [ListedOffer(o.rank, p.id, Promotion.model_validate(p.spec), o.personal, o.own_price,
                                coupon.code if coupon else None, coupon.valid_until if coupon else None,
                                shown_state(CouponState(coupon.state), coupon.valid_until, now) if coupon else None)
                    for o, p, coupon in rows]


async def _opted_out(uow: UnitOfWork, member_id: str) -> bool:
    found = await uow.session.exec(core_select(CUSTOMERS.c.personalised).where(CUSTOMERS.c.member_id == member_id))  # type: ignore[call-overload]
    return found.scalar_one_or_none() is False


def summary(row: OfferRoundRow) -> dict[str, Any]:
    return {"round_id": row.id, "key": row.key, "campaign_id": row.campaign_id, "status": row.status,
            "members": row.members, "personal": row.personal, "general": row.general, "held_out": row.held_out}
