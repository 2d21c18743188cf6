"""Registering a customer: card, community and household, consents, and sales made before."""

import hashlib
import uuid
from datetime import UTC

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from members.adapters.tables import MemberRow, RegistrationRequestRow
from members.domain.cards import new_card_no
from members.domain.profile import MemberCreate
from members.service_layer.communities import resolve_community, resolve_household
from members.service_layer.consents import record_first_answer
from members.service_layer.identity_lock import serialise_identity_matching
from members.service_layer.sales import attribute_waiting_sales
from shared.auth import Principal
from shared.errors import Conflict
from shared.events import contracts as c
from shared.events.registry import MEMBER_REGISTERED
from shared.pseudonyms import phone_hmac
from shared.unit_of_work import UnitOfWork


class MemberConflict(Conflict):
    """The phone or card number already belongs to a member."""


class IdempotencyConflict(Conflict):
    """The Idempotency-Key was already used for a different registration."""


def request_digest(cmd: MemberCreate) -> str:
    """Fingerprint of a registration, to tell an honest retry from another request under one key."""
    return hashlib.sha256(cmd.model_dump_json().encode()).hexdigest()


async def register_once(
    uow: UnitOfWork, cmd: MemberCreate, pepper: str, principal: Principal, idempotency_key: str
) -> tuple[MemberRow, bool]:
    """Registers under an Idempotency-Key; returns the member and whether this was a retry."""
    digest = request_digest(cmd)
    earlier = await uow.session.get(RegistrationRequestRow, idempotency_key)
    if earlier is not None:
        if earlier.digest != digest:
            raise IdempotencyConflict(f"Idempotency-Key {idempotency_key!r} was already used for another registration")
        member = await uow.session.get(MemberRow, earlier.member_id)
        if member is not None:
            return member, True
    member = await register_member(uow, cmd, pepper, principal)
    uow.session.add(RegistrationRequestRow(
        idempotency_key=idempotency_key, digest=digest, member_id=member.id, created_at=member.created_at,
    ))
    return member, False


def consent_channel(principal: Principal) -> str:
    """Where a consent was given: members act in the app, staff at the service desk."""
    return "app" if principal.is_customer else "service_desk"


async def register_member(
    uow: UnitOfWork, cmd: MemberCreate, pepper: str, principal: Principal, *, consents_via: str | None = None,
) -> MemberRow:
    """`consents_via` names the consent channel when the caller is not the customer themself nor
    staff at a desk: the gateway registering a customer who signed up in the app."""
    session = uow.session
    # Before the member exists for the consumer: no sale of theirs can slip between (identity_lock).
    await serialise_identity_matching(session)
    clash = (
        await session.exec(
            select(MemberRow).where(or_(col(MemberRow.phone) == cmd.phone, col(MemberRow.card_no) == (cmd.card_no or "")))
        )
    ).first()
    if clash is not None:
        field = "phone" if clash.phone == cmd.phone else "card_no"
        raise MemberConflict(f"{field} is already registered to member {clash.id}")
    now = uow.now()
    # A paper form imported later keeps the day the customer signed it: reports by month of
    # registration (new customers, a manager's new customers) count it there.
    registered = cmd.registered_at.astimezone(UTC) if cmd.registered_at else now
    community = await resolve_community(session, cmd.community, now=now)
    household = await resolve_household(session, community.id, cmd.address, now=now)
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
        created_at=registered,
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
            home_store_id=member.home_store_id, registered_at=registered, community_id=community.id,
        ),
        key=member.id,
        subject=member.id,
    )
    # Answers given at registration go through the same path as later changes, so other
    # services (campaigns sending SMS) learn of them from `consent_changed`.
    # The member is new: no answer is in force yet, so none is read back first.
    for purpose, granted in cmd.consents.by_purpose().items():
        record_first_answer(uow, member, purpose, granted, consents_via or consent_channel(principal), principal.subject,
                            now=registered)
    await attribute_waiting_sales(uow, member)
    return member
