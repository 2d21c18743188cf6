"""Messages: a member's inbox (their own token) and the staff's view of a member's messages, read
receipts, a campaign's messages counted per status, and what the local transport "sent"."""

from typing import Annotated

from fastapi import APIRouter, Query

from campaigns.api.message_schemas import CampaignMessagesPublic, MessagePublic, OutboxEntryPublic
from campaigns.domain.messages import as_staff_read_it
from campaigns.service_layer import messages
from shared.authorize import Allowed
from shared.deps import NowDep, ReadUowDep, UowDep
from shared.identifiers import RecordId
from shared.integers import Int64
from shared.policy import Grant, Scope
from shared.unit_of_work import UnitOfWork

router = APIRouter(tags=["messages"])


@router.get("/v1/members/{member_id}/messages", summary="A member's messages, newest first")
async def of_member(
    member_id: str, uow: ReadUowDep, grant: Annotated[Grant, Allowed("campaigns.message.read")],
    limit: Annotated[Int64, Query(ge=1, le=500)] = 100,
    offset: Annotated[Int64, Query(ge=0, le=1_000_000, description=(
        "How many messages to skip: from the newest, or with `before_id` from that message on."))] = 0,
    before_id: Annotated[RecordId | None, Query(description=(
        "The id of the last message of the page before: the answer lists the messages that follow it "
        "(older, or as old with a greater id), so a message arriving meanwhile shifts nothing and none "
        "is listed twice, as paging by `offset` alone would. It names a place in the list, not an item "
        "of it: any message of this member will do, listed in the inbox or not (an SMS leaves the "
        "inbox once its inbox copy reaches the member). One that is not this member's is refused, "
        "422."))] = None,
    everything: Annotated[bool, Query(alias="all", description=(
        "Every message to the member on every channel, with its status (the member's data export); "
        "without it a member's own token lists their inbox. Staff always see every message."))] = False,
) -> list[MessagePublic]:
    return await member_messages(uow, member_id, grant, limit=limit, offset=offset, before_id=before_id,
                                 everything=everything)


async def member_messages(
    uow: UnitOfWork, member_id: str, grant: Grant, *, limit: int, offset: int, before_id: str | None = None,
    everything: bool = False,
) -> list[MessagePublic]:
    # Whoever may read only their own messages (the member: scope `self` in the policy) sees their
    # inbox, what reached them, unless they ask for every message (their data export: texts,
    # e-mails, what is queued or was refused, and why); staff see every message with its status.
    own = grant.scope is Scope.SELF
    inbox = own and not everything
    rows = await messages.of_member(uow, member_id, inbox=inbox, limit=limit, offset=offset, before_id=before_id)
    if own:  # the member's own messages, their survey links among them, as they were written to them
        return [MessagePublic.model_validate(r) for r in rows]
    return [MessagePublic.model_validate(r).model_copy(update={"text": as_staff_read_it(r.text, r.params or {})}) for r in rows]


@router.post("/v1/members/{member_id}/messages/{message_id}/read", summary="The member read a message of their inbox")
async def mark_read(member_id: str, message_id: str, uow: UowDep, now: NowDep,
                    _: Annotated[Grant, Allowed("campaigns.message.mark_read")]) -> MessagePublic:
    return MessagePublic.model_validate(await messages.mark_read(uow, member_id, message_id, now))


@router.get("/v1/campaigns/{campaign_id}/messages", summary="A campaign's messages, counted per status")
async def of_campaign(campaign_id: str, uow: UowDep,
                      _: Annotated[Grant, Allowed("campaigns.campaign.read")]) -> CampaignMessagesPublic:
    counts = await messages.campaign_counts(uow, campaign_id)
    return CampaignMessagesPublic(campaign_id=campaign_id, total=sum(counts.values()), counts=counts)  # type: ignore[arg-type]


@router.get("/v1/outbox", summary="What the local transport sent, newest first")
async def outbox(
    uow: UowDep, _: Annotated[Grant, Allowed("campaigns.outbox.read")],
    limit: Annotated[Int64, Query(ge=1, le=500)] = 100, offset: Annotated[Int64, Query(ge=0, le=1_000_000)] = 0,
) -> list[OutboxEntryPublic]:
    return [OutboxEntryPublic.model_validate(r) for r in await messages.outbox(uow, limit, offset)]
