"""Tiers and milestones as a member's spend changes, and the periodic tier review.

`projections.purchase_attributed` calls `spend_grew` in the transaction that counted the sale.
Promotion is state-based (a VIP is never promoted again, whatever is redelivered) and each
milestone is recorded under a unique (member, milestone) key and announced under an event id
derived from both, so even a replay of the whole history cannot announce it twice. Returns change
nothing here: the tier is kept until the next review (see `domain.tiers`).

A sale loaded by `crm import-sales` (`imported`) changes tiers and records milestones as a live one
does, and the events say `imported`: the customer hears of neither (no VIP welcome here, no bonus
or message downstream), since the old system already did.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select

from members.adapters.tables import MemberRow
from members.adapters.tables.staff import MilestoneRow, TierReviewRow
from members.config import Settings, settings_of
from members.domain.tiers import (
    MEMBER,
    VIP,
    TierRules,
    demoted_on_review,
    latest_review_date,
    new_milestones,
    promoted_tier,
)
from members.service_layer.staff import assign_new_vip
from shared.commands import Commands, derived_event_id
from shared.events import contracts as c
from shared.events.registry import SPEND_MILESTONE_REACHED, TIER_CHANGED
from shared.unit_of_work import UnitOfWork


async def spend_grew(uow: UnitOfWork, member: MemberRow, now: datetime, *, imported: bool = False) -> None:
    """`imported`: the sale that grew the spend was loaded by an import."""
    settings = settings_of(uow)
    rules = settings.tier_rules
    await _announce_milestones(uow, member, rules, now, imported)
    new_tier = promoted_tier(member.tier, member.lifetime_spend, rules)
    if new_tier is None:
        return
    _change_tier(uow, member, new_tier, "spend_threshold", now, imported=imported)
    # An erased member keeps their totals but can no longer be contacted or tracked.
    if member.erased_at is None:
        await assign_new_vip(uow, member, now)


async def _announce_milestones(uow: UnitOfWork, member: MemberRow, rules: TierRules, now: datetime, imported: bool) -> None:
    reached = (await uow.session.exec(select(col(MilestoneRow.milestone)).where(MilestoneRow.member_id == member.id))).all()
    for milestone in new_milestones(member.lifetime_spend, rules, reached):
        uow.session.add(MilestoneRow(member_id=member.id, milestone=milestone, lifetime_spend=member.lifetime_spend, reached_at=now))
        uow.emit(
            SPEND_MILESTONE_REACHED,
            c.SpendMilestoneReachedV1(
                member_id=member.id, milestone=milestone, lifetime_spend=member.lifetime_spend, reached_at=now, imported=imported,
            ),
            key=member.id,
            subject=member.id,
            event_id=derived_event_id("members", "milestone", member.id, milestone),
        )


def _change_tier(
    uow: UnitOfWork, member: MemberRow, new_tier: str, reason: str, now: datetime, event_id: str | None = None,
    *, imported: bool = False,
) -> None:
    old_tier = member.tier
    member.tier, member.tier_since, member.tier_imported = new_tier, now, imported
    uow.session.add(member)
    uow.emit(
        TIER_CHANGED,
        c.TierChangedV1(
            member_id=member.id, old_tier=old_tier, new_tier=new_tier,  # type: ignore[arg-type]
            lifetime_spend=max(member.lifetime_spend, Decimal("0.00")), reason=reason, changed_at=now,  # type: ignore[arg-type]
            imported=imported,
        ),
        key=member.id,
        subject=member.id,
        event_id=event_id,
    )


async def hold_review(uow: UnitOfWork, settings: Settings, now: datetime) -> dict[str, Any]:
    """Holds the latest due review unless it was held: VIPs whose spend is below the threshold
    go back to member. The account manager stays on the customer (who may well come back)."""
    rules = settings.tier_rules
    review_date = latest_review_date(now.astimezone(ZoneInfo(settings.business_timezone)).date(), rules.review_months)
    # Held already, or a later review was (a run by hand as of a day gone by): the tiers are the
    # later review's until the next, and judging today's spend as of an earlier date would demote
    # a VIP whose return came after the later review before the next one is due.
    latest_held = (await uow.session.exec(select(func.max(TierReviewRow.review_date)))).one()
    if latest_held is not None and latest_held >= review_date:
        return {"review_date": review_date.isoformat(), "held_now": False, "demoted": 0}
    below = (
        await uow.session.exec(
            select(MemberRow)
            .where(MemberRow.tier == VIP, col(MemberRow.lifetime_spend) < rules.vip_threshold)
            .order_by(col(MemberRow.id))
        )
    ).all()
    for member in below:
        if demoted_on_review(member.tier, member.lifetime_spend, rules) == MEMBER:
            event_id = derived_event_id("members", "review", review_date, member.id)
            _change_tier(uow, member, MEMBER, "review", now, event_id=event_id)
    uow.session.add(TierReviewRow(review_date=review_date, held_at=now, demoted=len(below)))
    return {"review_date": review_date.isoformat(), "held_now": True, "demoted": len(below)}


async def run_tier_review(commands: Commands, settings: Settings, now: datetime) -> dict[str, Any]:
    """The `tier-review` job: safe to run often and on every replica (one review per date; two
    replicas racing collide on the review's primary key and one of them rolls back)."""
    async with commands() as uow:
        return await hold_review(uow, settings, now)
