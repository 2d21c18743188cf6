"""Erasure (the right to be forgotten): personal data goes, the member's totals stay.

The member row keeps its id, community, tier and spend, and purchases and returns keep their
amounts, so community rankings and analytics totals do not change; everything that identifies the
person is removed or replaced: name, phone and its digest, e-mail, birthday, address, card number,
the household's address, the card and phone digest on their sales, tracking notes, and the
registration's Idempotency-Key record; their retired cards name nobody. Consents in
force are withdrawn, and `MemberErasedV1` tells the other services to purge what they hold;
`MemberSalesErasedV1` names the sales to the gateway, which keeps the card or phone digest each
was made with.
Access-log rows stay: they hold ids and field names only and are the record of who saw what.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, update
from sqlmodel import col, select

from members.adapters.tables import HouseholdRow, MemberRow, PurchaseRow, RegistrationRequestRow
from members.adapters.tables.privacy import ErasureRow
from members.adapters.tables.staff import TrackingRecordRow
from members.config import settings_of
from members.domain.privacy import erased_address_key, erased_card_no
from members.service_layer.cards import retire_erased
from members.service_layer.consents import change_consent, consents_in_force
from members.service_layer.registration import consent_channel
from shared.auth import Principal
from shared.erasure import ERASED_NAME
from shared.errors import Conflict
from shared.events import contracts as c
from shared.events.registry import MEMBER_ERASED, MEMBER_SALES_ERASED
from shared.unit_of_work import UnitOfWork

# A sale's key is under 100 bytes of JSON: 2,000 of them stay far below the broker's 1 MB message.
ERASED_SALES_PER_EVENT = 2_000


class AlreadyErased(Conflict):
    def __init__(self, member: MemberRow, zone: ZoneInfo) -> None:
        assert member.erased_at is not None
        super().__init__(f"member {member.id} was already erased on {member.erased_at.astimezone(zone).isoformat(timespec='minutes')}")


async def erase_member(uow: UnitOfWork, member: MemberRow, principal: Principal, *, now: datetime | None = None) -> ErasureRow:
    session = uow.session
    # Read again under a row lock (PostgreSQL; SQLite runs one writer at a time): of two erasures
    # of one member at once, the second waits for the first and then finds the member erased.
    await session.refresh(member, with_for_update=True)
    if member.erased_at is not None:
        raise AlreadyErased(member, settings_of(uow).zone)
    now = now or uow.now()
    in_force = (await consents_in_force(session, [member.id])).get(member.id, {})
    for purpose, row in in_force.items():
        if row.granted:
            await change_consent(uow, member, purpose, False, consent_channel(principal), principal.subject, now=now)
    if member.household_id is not None:
        await _forget_household(uow, member)
    forgotten = await session.exec(
        update(PurchaseRow).where(col(PurchaseRow.member_id) == member.id).values(card_no=None, phone_hmac=None)
        .returning(col(PurchaseRow.store_id), col(PurchaseRow.pos_txn_id))
    )
    sales = [c.SaleKey(store_id=store_id, pos_txn_id=txn) for store_id, txn in sorted(forgotten.all())]
    await session.exec(
        update(TrackingRecordRow).where(col(TrackingRecordRow.member_id) == member.id).values(contact="", notes="")
    )
    # A registration's Idempotency-Key and its digest of the form (name, phone, address...) would
    # tie the member to their details, and a retry under the key would answer the erased member.
    await session.exec(delete(RegistrationRequestRow).where(col(RegistrationRequestRow.member_id) == member.id))
    member.name = ERASED_NAME
    member.phone = member.phone_hmac = member.email = member.birthday = None
    member.address = ""
    await retire_erased(uow, member, now)
    member.card_no = erased_card_no(member.id)
    member.gender = "unspecified"
    member.erased_at = now
    # No longer a customer anyone can call on: off the manager's books (and their load count).
    # Other services learn it from `member_erased`, so no separate assignment event is sent.
    member.manager_id = None
    session.add(member)
    erasure = ErasureRow(member_id=member.id, requested_by=principal.subject, role=principal.role.value, erased_at=now)
    session.add(erasure)
    await session.flush()
    uow.emit(
        MEMBER_ERASED, c.MemberErasedV1(member_id=member.id, erased_at=now), key=member.id, subject=member.id,
        event_id=f"member-erased:{member.id}",
    )
    for n, start in enumerate(range(0, len(sales), ERASED_SALES_PER_EVENT)):
        uow.emit(
            MEMBER_SALES_ERASED,
            c.MemberSalesErasedV1(member_id=member.id, erased_at=now, sales=sales[start:start + ERASED_SALES_PER_EVENT]),
            key=member.id, subject=member.id, event_id=f"member-sales-erased:{member.id}:{n}",
        )
    return erasure


async def _forget_household(uow: UnitOfWork, member: MemberRow) -> None:
    """A household keeps its address while someone else still lives there; otherwise it stays (the
    community still counts it as a buying household) with its address replaced."""
    others = (await uow.session.exec(
        select(MemberRow.id).where(
            MemberRow.household_id == member.household_id, MemberRow.id != member.id, col(MemberRow.erased_at).is_(None)
        ).limit(1)
    )).first()
    if others is None:
        household = await uow.session.get(HouseholdRow, member.household_id)
        if household is not None:
            household.address_key = erased_address_key(household.id)
            uow.session.add(household)
