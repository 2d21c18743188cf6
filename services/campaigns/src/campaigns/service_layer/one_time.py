"""One-time messages: a platform service (the gateway, for sign-in codes) has a service message
sent at once to a phone number it gives. The rules that hold for them, and why they differ from a
member's messages, are in `domain.messages`; the number is used for the hand-over and recorded
only masked, and the parameters (the code) are not recorded at all."""

import uuid
from typing import cast

from campaigns.adapters import templates
from campaigns.adapters.tables import OneTimeMessageRow
from campaigns.adapters.transports import Outgoing, Transport, TransportError
from campaigns.config import Settings
from campaigns.domain import messages as rules
from shared.errors import Invalid, ServiceError
from shared.unit_of_work import UnitOfWork


async def send(
    uow: UnitOfWork, transport: Transport, *, requested_by: str, phone: str, template: str, params: dict[str, str],
    language: str | None = None,
) -> OneTimeMessageRow:
    """Renders and hands the message over now, and records the outcome: `sent` (or `delivered`), or
    `failed` with the transport's reason. A failure is not retried: the caller learns of it at once
    and its user can ask again."""
    if template not in rules.ONE_TIME_TEMPLATES:
        raise Invalid("template", f"{template!r} is not a one-time template; one of {sorted(rules.ONE_TIME_TEMPLATES)}")
    settings = cast(Settings, uow.settings)
    language = language or settings.message_language
    source = templates.source(template, language)
    if source is None:  # shipped with the code: missing is a broken build, not bad input
        raise RuntimeError(f"no template file for one-time template {template!r}")
    try:
        body = rules.render(source, params)
    except rules.RenderError as exc:
        raise Invalid("params", str(exc)) from exc
    text = rules.compose(body, channel="sms", marketing=False, sign=settings.sms_sign, language=language)
    now = uow.now()
    row = OneTimeMessageRow(
        id=str(uuid.uuid4()), requested_by=requested_by[:64], channel="sms", template=template, language=language,
        recipient=rules.masked_phone(phone), status=rules.Status.FAILED.value, created_at=now,
    )
    try:
        receipt = await transport.send(Outgoing(
            message_id=row.id, member_id="", channel="sms", text=text, marketing=False, at=now, template=template,
            params=dict(params), language=language, address=phone,
        ))
    except TransportError as exc:
        row.reason = str(exc)[:500]
    else:
        row.status, row.transport_ref, row.sent_at = receipt.status, receipt.ref, now
    uow.session.add(row)
    await uow.session.flush()
    return row


class NotSent(ServiceError):
    """The transport did not take the message; the failure is recorded, and the caller may ask again."""

    status_code = 503
