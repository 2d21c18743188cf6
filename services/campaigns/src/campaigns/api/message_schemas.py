"""Response bodies of the messages API: a member's inbox (or a member's messages for staff), a
campaign's counts per status and the local transport's outbox."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from campaigns.domain.messages import Status


class MessagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    member_id: str
    campaign_id: str | None
    source: str
    channel: str
    template: str
    language: str
    marketing: bool
    status: Status
    reason: str | None
    text: str | None
    attempts: int
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    cancelled_at: datetime | None
    read_at: datetime | None


class CampaignMessagesPublic(BaseModel):
    campaign_id: str
    total: int
    counts: dict[Status, int]


class OutboxEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    message_id: str
    member_id: str  # empty for a one-time message, which goes to a number, not a member
    channel: str
    text: str
    recipient: str | None = None  # a one-time message's number, masked
    sent_at: datetime
