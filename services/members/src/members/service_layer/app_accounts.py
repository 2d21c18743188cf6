"""What the gateway asks of members when a customer signs in to the app, or signs up in it, with a
phone number an SMS code has proved: whose number it is, and registering the customer.

The gateway calls with its service token; the customer has no token yet. Consents given while
signing up are recorded with channel `app`, where the customer gave them."""

from sqlmodel import col, select

from members.adapters.tables import MemberRow
from members.domain.profile import MemberCreate
from members.service_layer.consents import change_consent
from members.service_layer.registration import MemberConflict, register_member
from shared.auth import Principal
from shared.pseudonyms import phone_hmac
from shared.unit_of_work import UnitOfWork

APP = "app"


async def member_with_phone(uow: UnitOfWork, phone: str, pepper: str) -> str | None:
    """The id of the member this phone belongs to; None for nobody's (an erased member's phone and
    its digest are gone, so an erased member is nobody here)."""
    query = select(MemberRow.id).where(
        MemberRow.phone_hmac == phone_hmac(phone, pepper), col(MemberRow.erased_at).is_(None),
    )
    return (await uow.session.exec(query)).first()


async def sign_up(uow: UnitOfWork, cmd: MemberCreate, pepper: str, principal: Principal) -> tuple[str, bool]:
    """The member the phone belongs to and whether they were registered now. A phone that is a
    member's already is that member, whose profile the form does not change: whoever proved the
    phone may sign in as its member anyway, and the app's answer must not tell a sign-up from a
    sign-in. The consents the form answers are that member's answers all the same, given in the
    app: a customer who unticks marketing SMS while signing up again must not go on getting it."""
    existing = await member_with_phone(uow, cmd.phone, pepper)
    if existing is None:
        try:
            # In a savepoint: when the same phone signs up twice at once (a double tap), the one
            # that registers second loses only this part, and answers the member the first registered.
            async with uow.session.begin_nested():
                registered = await register_member(uow, cmd, pepper, principal, consents_via=APP)
            return registered.member.id, True
        except MemberConflict:
            existing = await member_with_phone(uow, cmd.phone, pepper)
            if existing is None:
                raise
    member = await uow.session.get(MemberRow, existing)
    assert member is not None  # found by its phone in this transaction
    for purpose, granted in cmd.consents.by_purpose().items():
        await change_consent(uow, member, purpose, granted, APP, principal.subject)
    return existing, False
