"""Registering a customer: card, community and household, consents, and sales made before.

A registration is most of what a service desk or the app sends members, so it is written in few
statements: one look-up answers everything it must know (an earlier request under the key, a
member holding the phone or card, the community and household of the address, whether sales wait
for the card or phone), then the member, its consents and its request record are Core INSERTs.
Only what is new to the database (a community, a household, waiting sales) costs more.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import Select, Table, bindparam, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables import (
    CommunityAliasRow,
    ConsentRow,
    HouseholdRow,
    MemberRow,
    PurchaseRow,
    RegistrationRequestRow,
)
from members.adapters.tables.core import RetiredCardRow
from members.domain.cards import new_card_no
from members.domain.communities import address_key, community_key
from members.domain.profile import MemberCreate
from members.service_layer.cards import RETIRED_CARD
from members.service_layer.communities import add_household, resolve_community
from members.service_layer.consents import announced_answer
from members.service_layer.identity_lock import lock_for_new_identity
from members.service_layer.sales import attribute_waiting_sales
from shared.auth import Principal
from shared.errors import Conflict
from shared.events import contracts as c
from shared.events.registry import MEMBER_REGISTERED
from shared.pseudonyms import phone_hmac
from shared.unit_of_work import UnitOfWork

MEMBERS: Table = MemberRow.__table__  # type: ignore[attr-defined]
CONSENTS: Table = ConsentRow.__table__  # type: ignore[attr-defined]
REQUESTS: Table = RegistrationRequestRow.__table__  # type: ignore[attr-defined]
ALIASES: Table = CommunityAliasRow.__table__  # type: ignore[attr-defined]
HOUSEHOLDS: Table = HouseholdRow.__table__  # type: ignore[attr-defined]
PURCHASES: Table = PurchaseRow.__table__  # type: ignore[attr-defined]
RETIRED: Table = RetiredCardRow.__table__  # type: ignore[attr-defined]


class MemberConflict(Conflict):
    """The phone or card number already belongs to a member."""


class IdempotencyConflict(Conflict):
    """The Idempotency-Key was already used for another request: a registration, a tracking line."""


def request_digest(cmd: MemberCreate) -> str:
    """Fingerprint of a registration, to tell an honest retry from another request under one key."""
    return hashlib.sha256(cmd.model_dump_json().encode()).hexdigest()


@dataclass(frozen=True)
class Registered:
    """A member registered now, with the answers recorded at registration (the consents in force:
    the member is new, so there is nothing to read back), or the member an earlier request under
    the same key registered (`retry`; its consents are read when presented)."""

    member: MemberRow
    consents: dict[str, ConsentRow] | None = None
    retry: bool = False


@dataclass(frozen=True)
class _Found:
    earlier_digest: str | None
    earlier_member: str | None
    phone_owner: str | None
    card_owner: str | None
    community_id: str | None
    household_id: str | None
    sales_waiting: bool
    card_retired: bool


def _look_up_statement() -> Select[Any]:
    """Everything a registration must know before it writes, in one round trip: one row of
    scalar subqueries, each an indexed look-up. Built once with bound parameters: building and
    keying a statement of this size cost more CPU than running it."""
    alias = select(ALIASES.c.community_id).where(ALIASES.c.alias_key == bindparam("community_key"))
    by_key = REQUESTS.c.idempotency_key == bindparam("key")  # NULL without a key: no row
    return select(
        select(REQUESTS.c.digest).where(by_key).scalar_subquery(),
        select(REQUESTS.c.member_id).where(by_key).scalar_subquery(),
        select(MEMBERS.c.id).where(MEMBERS.c.phone == bindparam("phone")).limit(1).scalar_subquery(),
        # Only a card the customer brings can be someone's (NULL otherwise); a generated one that
        # happens to be taken fails the INSERT below, as a concurrent registration does.
        select(MEMBERS.c.id).where(MEMBERS.c.card_no == bindparam("card_given")).limit(1).scalar_subquery(),
        alias.scalar_subquery(),
        select(HOUSEHOLDS.c.id).where(HOUSEHOLDS.c.community_id == alias.scalar_subquery(),
                                      HOUSEHOLDS.c.address_key == bindparam("address_key")).scalar_subquery(),
        exists().where(PURCHASES.c.member_id.is_(None),
                       or_(PURCHASES.c.card_no == bindparam("card_no"), PURCHASES.c.phone_hmac == bindparam("phone_hmac"))),
        exists().where(RETIRED.c.card_no == bindparam("card_no")),
    )


LOOK_UP = _look_up_statement()


async def _look_up(
    session: AsyncSession, cmd: MemberCreate, card_no: str, digest_of_phone: str, idempotency_key: str | None,
) -> _Found:
    row = (await session.exec(LOOK_UP, params={  # type: ignore[call-overload]  # sqlmodel types selects of at most four columns
        "key": idempotency_key, "phone": cmd.phone, "card_given": cmd.card_no, "community_key": community_key(cmd.community),
        "address_key": address_key(cmd.address), "card_no": card_no, "phone_hmac": digest_of_phone,
    })).one()
    return _Found(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), bool(row[7]))


def _refuse_clash(found: _Found) -> None:
    if found.phone_owner is not None:
        raise MemberConflict("phone is already registered to another member")
    if found.card_owner is not None:
        raise MemberConflict("card_no is already registered to another member")
    if found.card_retired:  # a generated number is all but never one (10^10 of them): the same answer
        raise MemberConflict(RETIRED_CARD)


async def register_once(
    uow: UnitOfWork, cmd: MemberCreate, pepper: str, principal: Principal, idempotency_key: str
) -> Registered:
    """Registers under an Idempotency-Key; a retry of the same request answers the member it
    registered (`retry`), the key used for another request is a conflict."""
    digest = request_digest(cmd)
    registered = await _register(uow, cmd, pepper, principal, idempotency_key=idempotency_key, digest=digest)
    if not registered.retry:
        await uow.session.exec(REQUESTS.insert(), params={
            "idempotency_key": idempotency_key, "digest": digest, "member_id": registered.member.id,
            "created_at": registered.member.created_at,
        })
    return registered


def consent_channel(principal: Principal) -> str:
    """Where a consent was given: members act in the app, staff at the service desk."""
    return "app" if principal.is_customer else "service_desk"


async def register_member(
    uow: UnitOfWork, cmd: MemberCreate, pepper: str, principal: Principal, *, consents_via: str | None = None,
) -> Registered:
    """`consents_via` names the consent channel when the caller is not the customer themself nor
    staff at a desk: the gateway registering a customer who signed up in the app."""
    return await _register(uow, cmd, pepper, principal, consents_via=consents_via)


async def _register(
    uow: UnitOfWork, cmd: MemberCreate, pepper: str, principal: Principal, *, consents_via: str | None = None,
    idempotency_key: str | None = None, digest: str | None = None,
) -> Registered:
    session = uow.session
    # Before the member exists for the consumer: no sale of theirs can slip between (identity_lock).
    # The look-up below comes after it, so the sales it finds waiting are all there are.
    await lock_for_new_identity(session, idempotency_key)
    card_no = cmd.card_no or new_card_no()
    digest_of_phone = phone_hmac(cmd.phone, pepper)
    found = await _look_up(session, cmd, card_no, digest_of_phone, idempotency_key)
    if found.earlier_digest is not None:
        if found.earlier_digest != digest:
            raise IdempotencyConflict(f"Idempotency-Key {idempotency_key!r} was already used for another registration")
        earlier = await session.get(MemberRow, found.earlier_member)
        if earlier is not None:
            return Registered(earlier, retry=True)
    _refuse_clash(found)
    now = uow.now()
    # A paper form imported later keeps the day the customer signed it: reports by month of
    # registration (new customers, a manager's new customers) count it there.
    registered = cmd.registered_at.astimezone(UTC) if cmd.registered_at else now
    community_id = found.community_id or (await resolve_community(session, cmd.community, now=now)).id
    household_id = found.household_id or await add_household(session, community_id, address_key(cmd.address), now=now)
    member = MemberRow(
        id=str(uuid.uuid4()),
        card_no=card_no,
        name=cmd.name,
        phone=cmd.phone,
        phone_hmac=digest_of_phone,
        email=cmd.email,
        gender=cmd.gender,
        community=cmd.community,
        community_id=community_id,
        household_id=household_id,
        address=cmd.address,
        channel=cmd.channel,
        birthday=cmd.birthday,
        # Staff registering at a desk make that store the customer's home store unless told otherwise.
        home_store_id=cmd.home_store_id or (None if principal.is_customer else principal.store_id),
        created_at=registered,
    )
    try:
        await session.exec(MEMBERS.insert(), params=member.model_dump())
    except IntegrityError as exc:  # a concurrent registration of the same phone or card
        raise MemberConflict("phone or card_no is already registered") from exc
    uow.emit(
        MEMBER_REGISTERED,
        c.MemberRegisteredV1(
            member_id=member.id, card_no=member.card_no, channel=member.channel,  # type: ignore[arg-type]
            home_store_id=member.home_store_id, registered_at=registered, community_id=community_id,
        ),
        key=member.id,
        subject=member.id,
    )
    # Answers given at registration go through the same path as later changes, so other
    # services (campaigns sending SMS) learn of them from `consent_changed`.
    # The member is new: no answer is in force yet, so none is read back first.
    channel = consents_via or consent_channel(principal)
    consents = {
        purpose: announced_answer(uow, member.id, purpose, granted, channel, principal.subject, now=registered)
        for purpose, granted in cmd.consents.by_purpose().items()
    }
    if consents:
        await session.exec(CONSENTS.insert(), params=[row.model_dump(exclude={"id"}) for row in consents.values()])
    if found.sales_waiting:
        # Crediting the sales updates the member's spend through the ORM: the row written above
        # becomes the session's, as if it had been loaded.
        make_transient_to_detached(member)
        session.add(member)
        await attribute_waiting_sales(uow, member)
    return Registered(member, consents)
