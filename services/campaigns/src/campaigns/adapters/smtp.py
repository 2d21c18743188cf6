"""E-mail through an SMTP server (aiosmtplib): the address is looked up in members at sending time,
the subject comes from the template's subject file, and marketing mail carries List-Unsubscribe.

SMTP confirms only that the server took the message, so a receipt says `sent`. A recipient the
server refuses permanently (a 5xx for the address) is not retried; a connection, timeout, sign-in
or temporary (4xx) error is.
"""

import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from campaigns.adapters import templates
from campaigns.adapters.members_api import ContactDirectory
from campaigns.adapters.outgoing import Outgoing, Receipt, TransportError
from campaigns.domain import messages as rules


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # starttls, tls, none
    user: str | None
    password: str | None
    sender: str  # the From address
    default_subject: str
    list_unsubscribe: str  # the List-Unsubscribe header's value, e.g. <mailto:...>
    timeout_s: float
    tls_context: ssl.SSLContext | None = None  # None: the system's trust store


class SmtpTransport:
    def __init__(self, config: SmtpConfig, contacts: ContactDirectory) -> None:
        self.config = config
        self.contacts = contacts

    async def send(self, message: Outgoing) -> Receipt:
        to = message.address or await self.contacts.address(message.member_id, "email")
        mail = self.compose(message, to)
        c = self.config
        try:
            await aiosmtplib.send(
                mail, hostname=c.host, port=c.port, username=c.user, password=c.password, timeout=c.timeout_s,
                use_tls=c.security == "tls", start_tls=c.security == "starttls", tls_context=c.tls_context,
            )
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPRecipientRefused) as exc:
            raise TransportError(f"smtp: recipient refused: {exc}", retryable=not _permanent(exc)) from exc
        except aiosmtplib.SMTPException as exc:
            raise TransportError(f"smtp: {type(exc).__name__}: {exc}") from exc
        except OSError as exc:  # refused connection, TLS handshake, DNS
            raise TransportError(f"smtp: {type(exc).__name__}: {exc}") from exc
        return Receipt(ref=str(mail["Message-ID"])[:100], status="sent")

    def compose(self, message: Outgoing, to: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.config.sender
        mail["To"] = to
        mail["Subject"] = self.subject(message)
        mail["Date"] = format_datetime(message.at)
        # The message id is ours, so a report or a bounce quoting it leads back to the message.
        mail["Message-ID"] = make_msgid(idstring=message.message_id, domain=self.config.sender.rpartition("@")[2] or None)
        if message.marketing:
            mail["List-Unsubscribe"] = self.config.list_unsubscribe
        mail.set_content(message.text)
        return mail

    def subject(self, message: Outgoing) -> str:
        source = templates.subject(message.template, message.language)
        if source is None:
            return self.config.default_subject
        try:
            return " ".join(rules.render(source, message.params).split())  # one line, whatever the file
        except rules.RenderError as exc:
            raise TransportError(f"subject {exc}", retryable=False) from exc


def _permanent(exc: aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPRecipientRefused) -> bool:
    refusals = exc.recipients if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) else [exc]
    return all(r.code >= 500 for r in refusals)
