"""Marketing and service consents and the opt-out of personalised offers: what is in force, the
history, and grants or withdrawals.

Members answer for themselves in the app (or on the web); staff record what a customer said at the
desk, on the phone or on a paper form. Marketing never records consents for customers.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, status

from members.api.access import visible_member
from members.api.presenters import consent_record, consents_public
from members.api.privacy_schemas import ConsentChange, ConsentChangeResult, ConsentsView
from members.domain.consents import Purpose
from members.service_layer.consents import change_consent, consent_history, consents_in_force
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.policy import Grant, Scope

router = APIRouter(prefix="/v1/members", tags=["consents"])

MEMBER_CHANNELS: frozenset[str] = frozenset({"app", "web"})
STAFF_CHANNELS: frozenset[str] = frozenset({"service_desk", "phone", "paper_form"})


@router.get("/{member_id}/consents")
async def member_consents(member_id: str, uow: UowDep, grant: Annotated[Grant, Allowed("members.consent.read")]) -> ConsentsView:
    await visible_member(uow, member_id, grant)
    history = await consent_history(uow.session, member_id)
    in_force = {row.purpose: row for row in history}  # oldest first: the last row per purpose wins
    return ConsentsView(
        member_id=member_id,
        in_force=consents_public(in_force),
        history=[consent_record(r) for r in history],
    )


@router.put("/{member_id}/consents/{purpose}")
async def set_consent(
    member_id: str, purpose: Purpose, body: ConsentChange, uow: UowDep, grant: Annotated[Grant, Allowed("members.consent.change")]
) -> ConsentChangeResult:
    member = await visible_member(uow, member_id, grant)
    channel = _channel(grant, body)
    row = await change_consent(uow, member, purpose, body.granted, channel, grant.principal.subject)
    in_force = (await consents_in_force(uow.session, [member_id])).get(member_id, {})
    return ConsentChangeResult(member_id=member_id, purpose=purpose, changed=row is not None, in_force=consents_public(in_force))


def _channel(grant: Grant, body: ConsentChange) -> str:
    if grant.scope is Scope.SELF:
        channel = body.channel or "app"
        if channel not in MEMBER_CHANNELS:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"channel: members answer by app or web, not {channel}")
        return channel
    channel = body.channel or "service_desk"
    if channel not in STAFF_CHANNELS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"channel: staff record service_desk, phone or paper_form, not {channel}"
        )
    return channel
