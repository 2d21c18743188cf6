"""Registering a customer: card, community and household, consents, and sales made before."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from members.adapters.tables import MemberRow
from members.api.schemas import MemberCreate
from members.domain.cards import new_card_no
from members.service_layer.communities import resolve_community, resolve_household
from members.service_layer.consents import change_consent
from members.service_layer.sales import attribute_waiting_sales
from shared.auth import Principal
from shared.events import contracts as c
from shared.events.registry import MEMBER_REGISTERED
from shared.pseudonyms import phone_hmac
from shared.unit_of_work import UnitOfWork


class MemberConflict(Exception):
    """The phone or card number already belongs to a member."""


def consent_channel(principal: Principal) -> str:
    """Where a consent was given: members act in the app, staff at the service desk."""
    return "app" if principal.is_customer else "service_desk"


async def register_member(uow: UnitOfWork, cmd: MemberCreate, pepper: str, principal: Principal) -> MemberRow:
    session = uow.session
    clash = (
        await session.exec(
            select(MemberRow).where(or_(MemberRow.phone == cmd.phone, MemberRow.card_no == (cmd.card_no or "")))
        )
    ).first()
    if clash is not None:
        field = "phone" if clash.phone == cmd.phone else "card_no"
        raise MemberConflict(f"{field} is already registered to member {clash.id}")
    now = datetime.now(UTC)
    community = await resolve_community(session, cmd.community)
    household = await resolve_household(session, community.id, cmd.address)
    member = MemberRow(
        id=str(uuid.uuid4()),
        card_no=cmd.card_no or new_card_no(),
        name=cmd.name,
        phone=cmd.phone,
        phone_hmac=phone_hmac(cmd.phone, pepper),
        email=cmd.email,
        gender=cmd.gender,
        community=cmd.community,
        community_id=community.id,
        household_id=household.id,
        address=cmd.address,
        channel=cmd.channel,
        birthday=cmd.birthday,
        # Staff registering at a desk make that store the customer's home store unless told otherwise.
        home_store_id=cmd.home_store_id or (None if principal.is_customer else principal.store_id),
        created_at=now,
    )
    session.add(member)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same phone or card
        raise MemberConflict("phone or card_no is already registered") from exc
    uow.emit(
        MEMBER_REGISTERED,
        c.MemberRegisteredV1(
            member_id=member.id, card_no=member.card_no, channel=member.channel,  # type: ignore[arg-type]
            home_store_id=member.home_store_id, registered_at=now, community_id=community.id,
        ),
        key=member.id,
        subject=member.id,
    )
    # Answers given at registration go through the same path as later changes, so other
    # services (campaigns sending SMS) learn of them from `consent_changed`.
    for purpose, granted in cmd.consents.by_purpose().items():
        await change_consent(uow, member, purpose, granted, consent_channel(principal), principal.subject, now=now)
    await attribute_waiting_sales(uow, member)
    return member
