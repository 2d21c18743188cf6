"""One-time messages: a platform service has a service message sent at once to a phone number it
gives (the gateway's sign-in codes). Service tokens only; see `domain.messages` for the rules."""

from typing import Annotated

from fastapi import APIRouter, Request

from campaigns.adapters.transports import transport_for
from campaigns.api.one_time_schemas import OneTimeMessageIn, OneTimeMessagePublic
from campaigns.domain.messages import Status
from campaigns.service_layer import one_time
from shared.authorize import Allowed
from shared.deps import CommandsDep
from shared.policy import Grant

router = APIRouter(tags=["messages"])


@router.post(
    "/v1/messages/one-time", status_code=201, summary="Send a service message to a phone number now (sign-in codes)",
    responses={503: {"description": "The transport did not take the message (recorded as failed); ask again"}},
)
async def send_one_time(
    body: OneTimeMessageIn, request: Request, commands: CommandsDep,
    grant: Annotated[Grant, Allowed("campaigns.message.one_time")],
) -> OneTimeMessagePublic:
    async with commands() as uow:
        transport = transport_for(request.app.state.settings, uow.session, request.app.state.providers)
        row = await one_time.send(
            uow, transport, requested_by=grant.principal.subject, phone=body.phone, template=body.template,
            params=dict(body.params), language=body.language,
        )
    # Answered after the commit, so the failure stays on record for operators.
    if row.status == Status.FAILED:
        raise one_time.NotSent(f"the message was not sent: {row.reason}")
    return OneTimeMessagePublic.model_validate(row)
