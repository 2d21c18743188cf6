"""What feedback learns from members: tiers and account managers (to route complaints), home stores
and managers (the facts the access policy decides on), sales (to sample for surveys) and erasure
(to purge the free text it holds about the member, and to refuse their token from then on)."""

import logging
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import or_, update
from sqlmodel import col, select

from feedback.adapters.tables import (
    CommentEntryRow,
    ComplaintHistoryRow,
    ComplaintRow,
    MemberProfileRow,
    SurveyInvitationRow,
    SurveyResponseRow,
)
from feedback.config import Settings
from feedback.domain.assignment import assignee_for
from feedback.domain.surveys import sampled
from feedback.domain.workflow import OPEN
from feedback.service_layer.complaints import assign
from feedback.service_layer.invitations import invite
from shared.consumer import Delivery
from shared.events import contracts as c
from shared.member_directory import move_home_stores
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Payload = TypeVar("Payload", bound=BaseModel)
PROFILES = MemberProfileRow.__table__  # type: ignore[attr-defined]


def payload_of(delivery: Delivery, contract: type[Payload]) -> Payload:
    """The delivery's payload as the contract of the handler's event type. consumers.py maps each
    type to its handler, so another payload here is a wiring mistake: the event is dead-lettered
    with the reason instead of being half-applied."""
    if not isinstance(delivery.payload, contract):
        raise TypeError(f"{delivery.envelope.type} carries a {type(delivery.payload).__name__}, not a {contract.__name__}")
    return delivery.payload


async def _profile(uow: UnitOfWork, member_id: str, now: datetime) -> MemberProfileRow:
    row = await uow.session.get(MemberProfileRow, member_id)
    if row is None:
        row = MemberProfileRow(member_id=member_id, updated_at=now)
        uow.session.add(row)
    row.updated_at = now
    return row


async def _reroute_open_complaints(uow: UnitOfWork, profile: MemberProfileRow, now: datetime) -> None:
    """Open complaints still routed automatically follow the member's current VIP status and
    manager; one that staff assigned by hand stays where they put it."""
    rows = (await uow.session.exec(select(ComplaintRow).where(
        col(ComplaintRow.member_id) == profile.member_id, col(ComplaintRow.auto_assigned),
        col(ComplaintRow.status).in_([s.value for s in OPEN]),
    ).with_for_update())).all()
    for row in rows:
        target = assignee_for(row.store_id, profile.tier, profile.manager_id)
        if target != row.assignee:
            assign(uow, row, target, "system:members", now, auto=True)


# The event handlers; `consumers.py` maps event types to them. Time comes from the service's clock
# on the unit of work, the rules from the service's settings on it.


async def on_member_registered(uow: UnitOfWork, delivery: Delivery) -> None:
    await on_members_registered(uow, [delivery])


async def on_members_registered(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
    """The profiles of new members, in one upsert: a profile another event made first (a manager
    assigned before the registration arrived) keeps its other facts and takes the home store,
    unless it knows one of a later time (`_move`)."""
    stores: dict[str, tuple[str | None, datetime]] = {}
    for delivery in deliveries:
        event = payload_of(delivery, c.MemberRegisteredV1)
        known = stores.get(event.member_id)
        if known is None or event.registered_at >= known[1]:  # registered twice in the run: as one after the other
            stores[event.member_id] = (event.home_store_id, event.registered_at)
    if stores:
        await _move(uow, [(m, store, at) for m, (store, at) in stores.items()])


async def on_member_attributes(uow: UnitOfWork, delivery: Delivery) -> None:
    # The daily analytics carry the member's current home store as of when they read it. An
    # event without one says nothing about it, so it leaves the known store alone.
    event = payload_of(delivery, c.MemberAttributesV1)
    if event.home_store_id is not None:
        await _move(uow, [(event.member_id, event.home_store_id, event.as_of)])


async def on_member_profile_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    """Staff moved the member to another store (or took the store away): its staff may handle
    their complaints from now on, the old store's no longer."""
    event = payload_of(delivery, c.MemberProfileChangedV1)
    await _move(uow, [(event.member_id, event.home_store_id, event.changed_at)])


async def _move(uow: UnitOfWork, stores: list[tuple[str, str | None, datetime]]) -> None:
    """Each member's home store as of a time, unless one of a later time is known (attributes the
    analytics read before staff moved the member and published after it do not move them back)."""
    now = uow.now()
    rows = [MemberProfileRow(member_id=m, home_store_id=store, home_store_at=at, updated_at=now).model_dump()
            for m, store, at in stores]
    await move_home_stores(uow.session, rows, PROFILES, also=("updated_at",))


async def on_tier_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    event = payload_of(delivery, c.TierChangedV1)
    now = uow.now()
    profile = await _profile(uow, event.member_id, now)
    profile.tier = event.new_tier
    await _reroute_open_complaints(uow, profile, now)


async def on_manager_assigned(uow: UnitOfWork, delivery: Delivery) -> None:
    event = payload_of(delivery, c.AccountManagerAssignedV1)
    now = uow.now()
    profile = await _profile(uow, event.member_id, now)
    profile.manager_id = event.manager_id
    await _reroute_open_complaints(uow, profile, now)


async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    event = payload_of(delivery, c.MemberErasedV1)
    await erase_member(uow, event.member_id, uow.now())


async def on_purchase_attributed(uow: UnitOfWork, delivery: Delivery) -> None:
    sale = payload_of(delivery, c.PurchaseAttributedV1)
    settings = settings_of(uow)
    if sale.imported:
        return  # a sale of years ago, loaded by an import: not a visit to ask the customer about
    if not sampled(sale.sale_event_id, settings.survey_sample_rate):
        return
    await invite(
        uow, settings, source="sale", source_ref=f"sale:{sale.sale_event_id}", member_id=sale.member_id,
        store_id=sale.store_id, now=uow.now(),
    )


def settings_of(uow: UnitOfWork) -> Settings:
    if not isinstance(uow.settings, Settings):
        raise RuntimeError("this unit of work was opened without the feedback settings")
    return uow.settings


async def erase_member(uow: UnitOfWork, member_id: str, now: datetime | None = None) -> None:
    """Free text that came from or about the member goes (with the filing fingerprint hashed from
    a complaint's description); ids, categories and scores stay, so counts and survey results remain
    correct."""
    now = now or uow.now()
    session = uow.session
    await session.exec(update(ComplaintRow).where(col(ComplaintRow.member_id) == member_id).values(
        description=None, resolution_note=None, rating_comment=None, request_hash=None, erased_at=now))
    theirs = select(ComplaintRow.id).where(col(ComplaintRow.member_id) == member_id)
    # In the history: the reasons given for reopening, and the notes of every round's resolution.
    await session.exec(update(ComplaintHistoryRow).where(
        col(ComplaintHistoryRow.complaint_id).in_(theirs), col(ComplaintHistoryRow.action) == "reopen").values(detail=None))
    await session.exec(update(ComplaintHistoryRow).where(
        col(ComplaintHistoryRow.complaint_id).in_(theirs), col(ComplaintHistoryRow.note).is_not(None)).values(note=None))
    # Comment book entries about them: naming them, or linked to one of their complaints (how the
    # desk files a page of the book under a complaint, without naming the customer again).
    await session.exec(update(CommentEntryRow).where(
        or_(col(CommentEntryRow.member_id) == member_id, col(CommentEntryRow.complaint_id).in_(theirs))).values(text=None))
    answered = select(SurveyInvitationRow.id).where(col(SurveyInvitationRow.member_id) == member_id)
    await session.exec(update(SurveyResponseRow).where(col(SurveyResponseRow.invitation_id).in_(answered)).values(comment=None))
    profile = await _profile(uow, member_id, now)
    profile.erased_at = now
    profile.manager_id = None
    log.info("erased free text of member %s", member_id)
