"""Editing a member's profile at the desk or in the app.

A new phone is re-digested (POS phone sales match on the digest) and picks up sales made with it
before; a new community or address re-resolves the community and household, so the information
base counts the member where they live now (past spend stays where it was bought, see infobase).
"""

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from members.adapters.tables import MemberRow
from members.domain.profile import MemberUpdate
from members.service_layer import staff as staffing
from members.service_layer.communities import resolve_community, resolve_household
from members.service_layer.editable import ProfileConflict, lock_editable
from members.service_layer.identity_lock import lock_for_new_identity
from members.service_layer.sales import attribute_waiting_sales
from shared.events import contracts as c
from shared.events.registry import MEMBER_PROFILE_CHANGED
from shared.pseudonyms import phone_hmac
from shared.unit_of_work import UnitOfWork

# What a member may change about themself; channel (partner pricing) and home store are the chain's
# call. Not the phone: it is the member's sign-in identity and what sales paid by phone are matched
# by, so a member claiming a number unproven would take its owner's sales and points and sign-in;
# it is changed at the desk, where the customer shows who they are.
SELF_SERVICE_FIELDS = frozenset({"name", "email", "gender", "birthday", "community", "address"})


async def update_profile(uow: UnitOfWork, member: MemberRow, edit: MemberUpdate, pepper: str) -> MemberRow:
    session = uow.session
    if edit.phone is not None:
        # Its waiting sales are attributed below (identity_lock); taken before the member's row, in
        # the order a sale takes them, so that neither waits on the other.
        await lock_for_new_identity(session)
    # Of two edits at once (a double click), the second compares with what the first saved,
    # instead of taking the member's new phone for someone else's.
    await lock_editable(uow, member)
    changes = edit.model_dump(exclude_unset=True)
    kept_elsewhere = _kept_elsewhere(member)
    new_phone = changes.pop("phone", None)
    if new_phone is not None and new_phone != member.phone:
        owner = (await session.exec(select(MemberRow.id).where(MemberRow.phone == new_phone))).first()
        if owner is not None:
            raise ProfileConflict("phone is already registered to another member")
        member.phone, member.phone_hmac = new_phone, phone_hmac(new_phone, pepper)
    community, address = changes.pop("community", None), changes.pop("address", None)
    for field, value in changes.items():
        setattr(member, field, value)
    if community is not None or address is not None:
        member.community = community or member.community
        member.address = address or member.address
        resolved = await resolve_community(session, member.community, now=uow.now())
        household_id = await resolve_household(session, resolved.id, member.address, now=uow.now())
        member.community_id, member.household_id = resolved.id, household_id
    session.add(member)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same phone registered or edited in at the same moment
        raise ProfileConflict("phone is already registered to another member") from exc
    if new_phone is not None:
        await attribute_waiting_sales(uow, member)
    if _kept_elsewhere(member) != kept_elsewhere:
        announce_profile(uow, member)
    if member.community_id != kept_elsewhere[2] and member.community_id is not None:
        # A VIP waiting for a manager may have moved into a community someone covers.
        await staffing.assign_waiting_vips(uow, [member.community_id], uow.now())
    return member


def announce_profile(uow: UnitOfWork, member: MemberRow) -> None:
    """`member_profile_changed`: what the other services keep of the member, as it is now."""
    uow.emit(MEMBER_PROFILE_CHANGED, c.MemberProfileChangedV1(
        member_id=member.id, changed_at=uow.now(), home_store_id=member.home_store_id, channel=member.channel,  # type: ignore[arg-type]
        community_id=member.community_id, card_no=member.card_no,
    ), key=member.id, subject=member.id)


def _kept_elsewhere(member: MemberRow) -> tuple[str | None, str, str | None]:
    """What the other services keep of a member and a profile edit can change: the home store (the
    access policy's store scope), the channel and the community (`member_profile_changed`)."""
    return member.home_store_id, member.channel, member.community_id
