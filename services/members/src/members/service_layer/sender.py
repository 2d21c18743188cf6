"""What the platform's message sender (campaigns) asks of members: the phone or e-mail to send a
message to and what to call the member in it, read at the moment of sending, and a customer's
reply to an SMS.

Campaigns keeps no contact details; every read here is a read of personal data in clear and is
logged like a member of staff's (`record_personal_data_read`), in the same transaction.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from members.adapters.tables import MemberRow
from members.domain.consents import withdraws_by_reply
from members.domain.names import family_name
from members.domain.privacy import present_contact_fields
from members.service_layer.consents import change_consent, consents_in_force
from members.service_layer.privacy import record_personal_data_read
from shared.auth import Principal
from shared.erasure import ERASED_NAME
from shared.errors import NotFound
from shared.unit_of_work import UnitOfWork

CONTACT_READ = "members.contact.read"
# The channel a withdrawal by SMS reply is recorded with (consent_changed v2).
SMS_REPLY = "sms_reply"
MARKETING_SMS = "marketing_sms"


@dataclass(frozen=True)
class Contact:
    member_id: str
    phone: str | None
    email: str | None
    family_name: str | None  # for the salutation (张女士, Ms Zhang); the rest of the name stays here
    gender: str


async def contact(uow: UnitOfWork, reader: Principal, member_id: str) -> Contact:
    """The member's phone and e-mail in clear and their family name; an erased member has none of
    them (erasure removed them)."""
    member = await uow.session.get(MemberRow, member_id)
    if member is None:
        raise NotFound(f"no member {member_id}")
    called = None if member.name == ERASED_NAME else family_name(member.name)
    fields = present_contact_fields(member.phone, "", member.email)  # no address: nothing is posted
    record_personal_data_read(uow.session, reader, member_id, [*fields, *(["name"] if called else [])], CONTACT_READ,
                              now=uow.now())
    return Contact(member_id=member_id, phone=member.phone, email=member.email, family_name=called,
                   gender=member.gender)


@dataclass(frozen=True)
class ReplyOutcome:
    found: bool  # the phone is a member's
    member_id: str | None
    opt_out: bool  # the text is an opt-out (T, TD, R, 退订)
    changed: bool  # a withdrawal was recorded now (False: none was in force, or not an opt-out)


async def sms_reply(uow: UnitOfWork, reader: Principal, phone: str, text: str, received_at: datetime) -> ReplyOutcome:
    """A customer replied `text` to an SMS from `phone`. An opt-out withdraws marketing SMS consent
    through the one consent change path, so it is recorded with its time and channel and announced
    like any other change. An unknown phone is no error:
    a number that was never a member's, or one erased since."""
    opt_out = withdraws_by_reply(text)
    member = (await uow.session.exec(select(MemberRow).where(MemberRow.phone == phone))).first()
    if member is None:
        return ReplyOutcome(found=False, member_id=None, opt_out=opt_out, changed=False)
    changed = False
    if opt_out:
        # Dated when the customer replied, except that a withdrawal must always take effect: never
        # before the answer now in force (a provider's clock a little behind ours would otherwise
        # leave a grant made moments earlier standing), never in the future.
        current = (await consents_in_force(uow.session, [member.id])).get(member.id, {}).get(MARKETING_SMS)
        at = min(max(received_at, current.changed_at) if current is not None else received_at, uow.now())
        row = await change_consent(uow, member, MARKETING_SMS, False, SMS_REPLY, reader.subject, now=at)
        changed = row is not None
    return ReplyOutcome(found=True, member_id=member.id, opt_out=opt_out, changed=changed)
