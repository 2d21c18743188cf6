"""How messages leave the service. The dispatch job hands each due message to a `Transport` and
records the `Receipt`; a transport that cannot take a message raises `TransportError`, and the job
retries it with backoff (`retryable=False`: at once `failed`, e.g. a number the provider refuses).

A transport is made per dispatch transaction by `transport_for(settings, session, providers)`, so
one that records in the service's database (the local outbox) writes in the same transaction as
the message's status. Each channel goes its own way, by configuration only: the local outbox
(`crm run`, the demo, tests), Alibaba Cloud SMS for `sms`, an SMTP server for `email`. The real
transports live as long as the service (`Providers`, made at start-up, with their HTTP clients).
"""

from dataclasses import dataclass, field

import httpx
from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from campaigns.adapters.aliyun_sms import AliyunConfig, AliyunSmsTransport
from campaigns.adapters.members_api import ContactDirectory, MembersClient, ReplyForwarder, StaffDirectory, TokenSource
from campaigns.adapters.outgoing import Outgoing, Receipt, Transport, TransportError
from campaigns.adapters.smtp import SmtpConfig, SmtpTransport
from campaigns.adapters.tables import LocalOutboxRow
from campaigns.config import Settings
from campaigns.domain.messages import masked_phone
from shared.db import insert_into
from shared.tls import client_tls

OUTBOX = LocalOutboxRow.__table__  # type: ignore[attr-defined]

__all__ = ["LocalOutboxTransport", "Outgoing", "Providers", "Receipt", "Transport", "TransportError", "transport_for"]


class LocalOutboxTransport:
    """Records the rendered text in `local_outbox` and counts it sent: what `crm run` and the demo
    use, and what operators read at GET /v1/outbox. A message handed over twice (a retry after a
    crash) keeps its one row. A message sent to a number known at hand-over (a one-time message,
    which has no member, or a greeting one) names it masked."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def send(self, message: Outgoing) -> Receipt:
        # ON CONFLICT: the message's row is there from an earlier hand-over; it keeps its id.
        inserted = await self.session.exec(insert_into(self.session, OUTBOX).values(
            message_id=message.message_id, member_id=message.member_id, channel=message.channel, text=message.text,
            recipient=masked_phone(message.address) if message.address else None, sent_at=message.at).on_conflict_do_nothing(index_elements=["message_id"]).returning(OUTBOX.c.id))
        ref = inserted.scalar_one_or_none()
        if ref is None:
            found = await self.session.exec(select(OUTBOX.c.id).where(OUTBOX.c.message_id == message.message_id))  # type: ignore[call-overload]
            ref = found.scalar_one()
        return Receipt(ref=f"local:{ref}", status="sent")


@dataclass
class Providers:
    """The real transports, per channel (None: that channel uses the local outbox), the forwarder
    of SMS replies and members' directories; made once at start-up, closed at shutdown."""

    sms: Transport | None = None
    email: Transport | None = None
    replies: ReplyForwarder | None = None
    contacts: ContactDirectory | None = None  # members' answers for the greeting of a message
    staff: StaffDirectory | None = None  # members' answers for the account manager a VIP's welcome names
    clients: list[httpx.AsyncClient | MembersClient] = field(default_factory=list)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


def providers_for(settings: Settings, tokens: TokenSource | None) -> Providers:
    """The providers the settings choose. Anything that reaches members needs the service's token
    source; a configuration choosing a provider without one is refused at start-up, not at the
    first message."""
    sms, email = settings.sms_transport, settings.email_transport
    if tokens is None:
        if sms != "local" or email != "local":
            raise RuntimeError(f"message transports sms={sms} email={email} need the service's token source "
                               "to look contacts up in members")
        return Providers()
    members = MembersClient(settings.members_url, tokens, timeout_s=settings.members_timeout_s)
    contacts = ContactDirectory(members)
    providers = Providers(replies=ReplyForwarder(members), contacts=contacts, staff=StaffDirectory(members),
                          clients=[members])
    if sms == "aliyun":
        http = httpx.AsyncClient(timeout=settings.aliyun_sms_timeout_s, verify=client_tls())
        providers.clients.append(http)
        providers.sms = AliyunSmsTransport(AliyunConfig(
            endpoint=settings.aliyun_sms_endpoint, access_key_id=settings.aliyun_access_key_id,
            access_key_secret=settings.aliyun_access_key_secret.get_secret_value(), region=settings.aliyun_region,
            sign=settings.sms_sign, templates=dict(settings.aliyun_sms_templates),
        ), contacts, http)
    if email == "smtp":
        providers.email = SmtpTransport(SmtpConfig(
            host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
            user=settings.smtp_user or None,
            password=settings.smtp_password.get_secret_value() or None,
            sender=settings.email_from, default_subject=settings.email_default_subject,
            list_unsubscribe=settings.list_unsubscribe, timeout_s=settings.smtp_timeout_s,
        ), contacts)
    return providers


class ByChannel:
    """Each message to the transport of its channel."""

    def __init__(self, routes: dict[str, Transport]) -> None:
        self.routes = routes

    async def send(self, message: Outgoing) -> Receipt:
        return await self.routes[message.channel].send(message)


def transport_for(settings: Settings, session: AsyncSession, providers: Providers | None = None) -> Transport:
    """The transport of one dispatch transaction: each channel's provider, else the local outbox."""
    local = LocalOutboxTransport(session)
    chosen = providers or Providers()
    return ByChannel({"sms": chosen.sms or local, "email": chosen.email or local})
