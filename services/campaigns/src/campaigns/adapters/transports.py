"""How messages leave the service. The dispatch job hands each due message to a `Transport` and
records the `Receipt`; a transport that cannot take a message raises `TransportError`, and the job
retries it with backoff (`retryable=False`: at once `failed`, e.g. a number the provider refuses).

A transport is made per dispatch transaction by `transport_for(settings, session)`, so one that
records in the service's database (the local outbox) writes in the same transaction as the
message's status; an SMS or SMTP transport plugs in here and ignores the session.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.tables import LocalOutboxRow
from campaigns.config import Settings
from shared.db import insert_into

OUTBOX = LocalOutboxRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Outgoing:
    """A rendered message, as a transport needs it."""

    message_id: str
    member_id: str
    channel: Literal["sms", "email", "inbox"]
    text: str
    marketing: bool
    at: datetime


@dataclass(frozen=True)
class Receipt:
    ref: str  # the transport's id for the hand-over
    status: Literal["sent", "delivered"]


class TransportError(Exception):
    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Transport(Protocol):
    async def send(self, message: Outgoing) -> Receipt: ...


class LocalOutboxTransport:
    """Records the rendered text in `local_outbox` and counts it sent: what `crm run` and the demo
    use, and what operators read at GET /v1/outbox. A message handed over twice (a retry after a
    crash) keeps its one row."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def send(self, message: Outgoing) -> Receipt:
        # ON CONFLICT: the message's row is there from an earlier hand-over; it keeps its id.
        inserted = await self.session.exec(insert_into(self.session, OUTBOX).values(
            message_id=message.message_id, member_id=message.member_id, channel=message.channel, text=message.text,
            sent_at=message.at).on_conflict_do_nothing(index_elements=["message_id"]).returning(OUTBOX.c.id))
        ref = inserted.scalar_one_or_none()
        if ref is None:
            found = await self.session.exec(select(OUTBOX.c.id).where(OUTBOX.c.message_id == message.message_id))  # type: ignore[call-overload]
            ref = found.scalar_one()
        return Receipt(ref=f"local:{ref}", status="sent")


def transport_for(settings: Settings, session: AsyncSession) -> Transport:
    match settings.message_transport:
        case "local":
            return LocalOutboxTransport(session)
