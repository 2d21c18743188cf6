"""Routes for the platform's message sender (campaigns, with a service token): a member's contact
details at the moment of sending, and the SMS replies it receives from the provider."""

from typing import Annotated

from fastapi import APIRouter

from members.api.sender_schemas import ContactPublic, SmsReply, SmsReplyResult
from members.service_layer import sender
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.policy import Grant

router = APIRouter(tags=["sender"])


@router.get("/v1/members/{member_id}/contact", summary="A member's phone, e-mail and family name, for sending a message")
async def contact(member_id: str, uow: UowDep, grant: Annotated[Grant, Allowed("members.contact.read")]) -> ContactPublic:
    found = await sender.contact(uow, grant.principal, member_id)
    return ContactPublic(member_id=found.member_id, phone=found.phone, email=found.email,
                         family_name=found.family_name, gender=found.gender)  # type: ignore[arg-type]


@router.post("/v1/consents/replies", summary="A customer's reply to an SMS: an opt-out withdraws marketing SMS")
async def sms_reply(body: SmsReply, uow: UowDep, grant: Annotated[Grant, Allowed("members.consent.reply")]) -> SmsReplyResult:
    outcome = await sender.sms_reply(uow, grant.principal, body.phone, body.text, body.received_at)
    return SmsReplyResult(found=outcome.found, member_id=outcome.member_id, opt_out=outcome.opt_out, changed=outcome.changed)
