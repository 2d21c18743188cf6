"""The sender: notification requests become messages (one per member, source and occasion), the
rules of `domain.messages` decide what becomes of each, and the dispatch job hands due messages to
the transport. The member's inbox is every message they received, each once.

Intake (the consumer handlers) checks consent, names the account manager a VIP's welcome
introduces (`account_managers`: members' request gives their id alone), renders the text, counts
the weekly cap and defers a request arriving in quiet hours; dispatch checks consent and quiet
hours again at the time of sending (a consent withdrawn overnight stops a deferred message, as does its campaign's end), greets the member by name where
the template does (`rules.SALUTATION`), hands the message over, and retries a failed hand-over
with backoff until it is `failed`.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Select, String, bindparam, delete, exists, func, or_, update
from sqlalchemy import select as core_select
from sqlmodel import col, select

from campaigns.adapters import templates
from campaigns.adapters.members_api import ContactDirectory, StaffDirectory
from campaigns.adapters.tables import CampaignRow, CustomerRow, LocalOutboxRow, MessageRow
from campaigns.adapters.transports import Outgoing, Transport, TransportError
from campaigns.config import Settings
from campaigns.domain import messages as rules
from campaigns.domain.campaigns import State as CampaignState
from campaigns.domain.messages import Channel, Purpose, Status
from campaigns.service_layer import account_managers, store_names
from shared.commands import derived_event_id
from shared.consumer import Delivery
from shared.db import insert_or_skip, one_of
from shared.errors import Invalid, NotFound
from shared.events import contracts as c
from shared.unit_of_work import UnitOfWork

SERVICE = "campaigns"
MESSAGES = MessageRow.__table__  # type: ignore[attr-defined]
OUTBOX = LocalOutboxRow.__table__  # type: ignore[attr-defined]
CUSTOMERS = CustomerRow.__table__  # type: ignore[attr-defined]
# A message being recorded: its columns as attributes, every one of them (so `vars()` of it is the
# row to insert). An ORM object per message would cost more than deciding and rendering it.
Draft = SimpleNamespace
_UNSET: dict[str, Any] = {column.name: None for column in MESSAGES.columns} | {"attempts": 0}


@dataclass(frozen=True)
class Request:
    member_id: str
    source: str  # the campaign id, or `members:<template>`
    occasion: str
    notification_id: str
    channel: Channel
    template: str
    params: dict[str, str]
    marketing: bool
    requires_consent: Purpose | None
    campaign_id: str | None = None


def campaign_templates() -> list[str]:
    """The templates a campaign's message may name: all but the one-time ones (a sign-in code goes
    to the person who asked for it, never to a campaign's members)."""
    return sorted(templates.names() - rules.ONE_TIME_TEMPLATES)


def campaign_template_params(name: str) -> frozenset[str] | None:
    """The parameters a campaign's template renders, in every language and in its e-mail subject
    (the language is a setting and the channel the campaign's); None when a campaign may not name
    it."""
    if name not in campaign_templates():
        return None
    texts = (text for language in rules.LANGUAGES for text in (templates.source(name, language), templates.subject(name, language)))
    return frozenset().union(*(rules.variables(text) for text in texts if text is not None)) - {rules.SALUTATION}


def _greets(template: str, language: str) -> bool:
    source = templates.source(template, language)
    return source is not None and rules.SALUTATION in rules.variables(source)


def message_id(member_id: str, source: str, occasion: str) -> str:
    return derived_event_id(SERVICE, "message", member_id, source, occasion)


def _settings(uow: UnitOfWork) -> Settings:
    return cast(Settings, uow.settings)


def _quiet(settings: Settings) -> rules.QuietHours:
    return rules.QuietHours(settings.message_quiet_start_hour, settings.message_quiet_end_hour, settings.zone)


async def _consents(uow: UnitOfWork, member_ids: Iterable[str]) -> dict[str, rules.Consents]:
    """What the read model knows of each member's consents, in one query; a member not heard of yet
    is absent (and `rules.Consents()`, no consent given, applies)."""
    found = await uow.session.exec(core_select(  # type: ignore[call-overload]
        CUSTOMERS.c.member_id, CUSTOMERS.c.consent_sms, CUSTOMERS.c.consent_email,
        CUSTOMERS.c.consent_service_tips_sms, CUSTOMERS.c.erased_at,
    ).where(one_of(uow.session, CUSTOMERS.c.member_id, set(member_ids))))
    return {member_id: rules.Consents(marketing_sms=sms, marketing_email=email, service_tips_sms=tips,
                                      erased=erased_at is not None)
            for member_id, sms, email, tips, erased_at in found.all()}


async def _sent_this_week(uow: UnitOfWork, member_ids: Iterable[str], now: datetime) -> dict[str, int]:
    """Marketing messages counted against each member's weekly cap, in one query."""
    found = await uow.session.exec(core_select(MESSAGES.c.member_id, func.count()).where(  # type: ignore[call-overload]
        one_of(uow.session, MESSAGES.c.member_id, set(member_ids)), MESSAGES.c.marketing.is_(True),
        MESSAGES.c.status.in_([s.value for s in rules.COUNTED]), MESSAGES.c.created_at > now - rules.WEEK,
    ).group_by(MESSAGES.c.member_id))
    return {member_id: int(n) for member_id, n in found.all()}


async def request(uow: UnitOfWork, reqs: Sequence[Request], staff: StaffDirectory | None = None) -> list[Draft]:
    """Records the messages the requests ask for, with what the rules make of each now, a handful
    of statements for the whole batch (a launch asks for 100,000). A (member, source, occasion)
    that already has its message (a redelivery, a republished request) is left alone; the rows
    recorded are answered. `staff` names the account managers requests give by id; a message whose
    manager members cannot name now is recorded unrendered, to be named and rendered by `dispatch`."""
    by_id = {message_id(r.member_id, r.source, r.occasion): r for r in reversed(reqs)}  # the first wins
    if not by_id:
        return []
    known = set((await uow.session.exec(core_select(MESSAGES.c.id).where(  # type: ignore[call-overload]
        one_of(uow.session, MESSAGES.c.id, by_id)))).scalars().all())
    fresh = [(mid, req) for mid, req in reversed(by_id.items()) if mid not in known]
    if not fresh:
        return []
    settings, now = _settings(uow), uow.now()
    params = {mid: dict(req.params) for mid, req in fresh}
    await store_names.name_stores(uow, params.values())
    naming = await account_managers.name_managers(staff, params)
    consents = await _consents(uow, (req.member_id for _, req in fresh))
    counted = await _sent_this_week(uow, {req.member_id for _, req in fresh if req.marketing}, now)
    release = _quiet(settings).release(now)
    rows: list[Draft] = []
    for mid, req in fresh:
        row = Draft(**_UNSET | {
            "id": mid, "member_id": req.member_id, "source": req.source, "occasion": req.occasion,
            "campaign_id": req.campaign_id, "notification_id": req.notification_id, "channel": req.channel,
            "template": req.template, "params": params[mid], "language": settings.message_language,
            "marketing": req.marketing, "requires_consent": req.requires_consent, "status": Status.QUEUED.value,
            "not_before": now, "created_at": now,
        })
        refused = rules.refusal(req.channel, req.requires_consent, consents.get(req.member_id, rules.Consents()))
        _decide(row, refused, naming, settings, now)
        if row.status == Status.QUEUED and req.marketing:
            if (reason := rules.over_cap(counted.get(req.member_id, 0), settings.message_weekly_cap)):
                _finish(row, Status.CANCELLED, reason, now)
            else:  # the next message of the member in this batch counts this one
                counted[req.member_id] = counted.get(req.member_id, 0) + 1
        if row.status == Status.QUEUED and release is not None and rules.disturbs(req.channel):
            row.status, row.not_before, row.reason = Status.DEFERRED.value, release, "quiet hours"
        rows.append(row)
    # ON CONFLICT: another consumer recorded the same message meanwhile; theirs stands. Executemany
    # parameters: multi-row INSERTs of one cached statement (see coupons' `_insert_with_codes`).
    inserted = set(await insert_or_skip(uow.session, MESSAGES, [vars(row) for row in rows], returning="id"))
    return [row for row in rows if row.id in inserted]


def _decide(row: Draft, refused: str | None, naming: account_managers.Naming, settings: Settings, now: datetime) -> None:
    """Cancels a message without consent, leaves one whose account manager members cannot name now
    to wait for `dispatch` (queued, unrendered), else renders it (`_render`)."""
    if refused is not None:
        _finish(row, Status.CANCELLED, refused, now)
    elif (waiting := naming.waiting.get(row.id)) is not None:
        row.reason, row.not_before = waiting, now + account_managers.ASK_AGAIN_AFTER
    else:
        _render(row, naming.failed.get(row.id), settings, now)


def _render(row: MessageRow | Draft, unnamed: str | None, settings: Settings, now: datetime) -> None:
    """The message's text, from its template and parameters; failed when its account manager could
    not be named or it cannot be rendered."""
    if unnamed is not None:
        _finish(row, Status.FAILED, unnamed, now)
        return
    source = templates.source(row.template, row.language)
    if source is None:
        _finish(row, Status.FAILED, f"template: no template {row.template!r}", now)
        return
    try:  # the stored text greets the member neutrally; dispatch puts their name in (`_personal`)
        body = rules.render(source, row.params | {rules.SALUTATION: rules.salutation(None, "unspecified", row.language)})
    except rules.RenderError as exc:
        _finish(row, Status.FAILED, str(exc)[:500], now)
        return
    row.text = rules.compose(body, channel=cast(Channel, row.channel), marketing=row.marketing,
                             sign=settings.sms_sign, language=row.language)


def _finish(row: MessageRow | Draft, status: Status, reason: str | None, now: datetime) -> None:
    row.status, row.reason = status.value, reason
    if status is Status.CANCELLED:
        row.cancelled_at = now
    elif status is Status.FAILED:
        row.failed_at = now


# --- the consumer's handlers


async def on_member_notification_requested(uow: UnitOfWork, delivery: Delivery,
                                          staff: StaffDirectory | None = None) -> None:
    """Members' service messages (VIP welcome, service tips, points expiry). The notification id is
    derived by members from the occasion, so it is the occasion here. A welcome names its account
    manager by id: `staff` gives their name and work phone."""
    data = cast(c.NotificationRequestedV1, delivery.payload)
    await request(uow, [Request(
        member_id=data.member_id, source=f"members:{data.template}", occasion=data.notification_id,
        notification_id=data.notification_id, channel=data.channel, template=data.template, params=dict(data.params),
        marketing=data.requires_consent in ("marketing_sms", "marketing_email"), requires_consent=data.requires_consent,
    )], staff)


async def on_feedback_notification_requested(uow: UnitOfWork, delivery: Delivery) -> None:
    """Feedback's survey invitations: service messages under the consent the request names
    (`service_tips_sms`), one per invitation (feedback derives the notification id from it, so it
    is the occasion here)."""
    data = cast(c.FeedbackNotificationRequestedV1, delivery.payload)
    await request(uow, [Request(
        member_id=data.member_id, source=f"feedback:{data.template}", occasion=data.notification_id,
        notification_id=data.notification_id, channel=data.channel, template=data.template, params=dict(data.params),
        marketing=False, requires_consent=data.requires_consent,
    )])


async def on_campaign_notifications_requested(uow: UnitOfWork, deliveries: list[Delivery],
                                              staff: StaffDirectory | None = None) -> None:
    """Campaigns' own requests (service_layer/campaigns.py `_reach`), taken in a batch at a time
    (a launch asks for one per treated member), v1 and v2 alike: marketing when they require
    marketing consent, service messages (`marketing: false`: service tips, a compensation) when not.
    A VIP-welcome campaign's request names the account manager by id, as members' did: `staff`
    gives their name and work phone."""
    await request(uow, [_campaign_request(cast(c.CampaignNotificationRequestedV1, d.payload)) for d in deliveries],
                  staff)


def _campaign_request(data: c.CampaignNotificationRequestedV1) -> Request:
    # v1 named marketing consent alone (a service message required none); v2 also service tips.
    return Request(
        member_id=data.member_id, source=data.campaign_id, occasion=data.occasion, campaign_id=data.campaign_id,
        notification_id=data.notification_id, channel=data.channel, template=data.template, params=dict(data.params),
        marketing=data.requires_consent in ("marketing_sms", "marketing_email"), requires_consent=data.requires_consent,
    )


async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    """Nothing more goes to an erased member: what is still to be sent is cancelled; the texts and
    parameters of what was sent go (the inbox and the local outbox), the counts stay."""
    erased = cast(c.MemberErasedV1, delivery.payload)
    now = uow.now()
    session = uow.session
    await session.exec(update(MESSAGES).where(
        MESSAGES.c.member_id == erased.member_id, MESSAGES.c.status.in_([s.value for s in rules.PENDING]),
    ).values(status=Status.CANCELLED.value, reason="the member was erased", cancelled_at=now))
    await session.exec(update(MESSAGES).where(MESSAGES.c.member_id == erased.member_id).values(text=None, params={}))
    await session.exec(delete(OUTBOX).where(OUTBOX.c.member_id == erased.member_id))


# --- dispatch


# What a hand-over changes on a message row, written back for the whole batch at once.
_HANDOVER = ("status", "reason", "not_before", "attempts", "sent_at", "delivered_at", "failed_at", "cancelled_at",
             "transport_ref")


async def dispatch(uow: UnitOfWork, transport: Transport, now: datetime, limit: int,
                   contacts: ContactDirectory | None = None, staff: StaffDirectory | None = None) -> dict[str, int]:
    """Hands up to `limit` due messages to the transport, oldest due first. Rows are locked and
    skipped by other replicas (PostgreSQL), so each message is handed over by one of them.
    `contacts` gives the name a greeting message calls the member by; without it (no service
    credential to reach members) the message greets them as it was stored, neutrally. `staff`
    names the account managers members could not name at intake (`_render_late`).

    The rows are read as plain columns and written back in one executemany at the end: tracked ORM
    objects would each be flushed by the transport's own writes, an UPDATE per message."""
    settings = _settings(uow)
    quiet = _quiet(settings)
    found = await uow.session.exec(core_select(MESSAGES).where(  # type: ignore[call-overload]
        MESSAGES.c.status.in_([s.value for s in rules.PENDING]), MESSAGES.c.not_before <= now,
    ).order_by(MESSAGES.c.not_before, MESSAGES.c.id).limit(limit).with_for_update(skip_locked=True))
    due = [MessageRow(**row._mapping) for row in found.all()]  # detached: never flushed on their own
    counts = {"due": len(due), "sent": 0, "delivered": 0, "deferred": 0, "retrying": 0, "failed": 0, "cancelled": 0,
              "waiting": 0}
    consents = await _consents(uow, (row.member_id for row in due))
    ended = await _ended_campaigns(uow, {row.campaign_id for row in due if row.campaign_id}, now)
    late = [row for row in due if row.text is None]
    held = await _render_late(late, staff, settings, now)
    for row in due:
        if row.id in held:  # its manager still unnamed, or not to be named
            outcome = held[row.id]
        elif row.campaign_id in ended:  # deferred past the end (quiet hours), or requested just before it
            _finish(row, Status.CANCELLED, "the campaign ended before it was sent", now)
            outcome = "cancelled"
        else:
            outcome = await _send(row, transport, settings, quiet, consents.get(row.member_id, rules.Consents()), now,
                                  contacts)
        counts[outcome] += 1
    if due:
        await uow.session.exec(
            update(MESSAGES).where(MESSAGES.c.id == bindparam("message_id")).values(
                {name: bindparam(name) for name in _HANDOVER}),
            params=[{"message_id": row.id, **{name: getattr(row, name) for name in _HANDOVER}} for row in due],
        )
    if rendered := [row for row in late if held.get(row.id) != "waiting"]:
        await uow.session.exec(
            update(MESSAGES).where(MESSAGES.c.id == bindparam("message_id")).values(
                text=bindparam("text"), params=bindparam("params")),
            params=[{"message_id": row.id, "text": row.text, "params": row.params} for row in rendered],
        )
    return counts


async def _render_late(rows: list[MessageRow], staff: StaffDirectory | None, settings: Settings,
                       now: datetime) -> dict[str, str]:
    """Names the account manager of the due messages members could not name at intake (recorded
    unrendered, `_decide`) and renders them, to be handed over in this run. Answers those that are
    not: "waiting" while members still cannot answer (asked again a minute on, whatever their
    attempts: an outage of members fails no welcome), "failed" when they cannot be named."""
    if not rows:
        return {}
    naming = await account_managers.name_managers(staff, {row.id: row.params for row in rows})
    held: dict[str, str] = {}
    for row in rows:
        if (waiting := naming.waiting.get(row.id)) is not None:
            row.status, row.reason, row.not_before = Status.QUEUED.value, waiting, now + account_managers.ASK_AGAIN_AFTER
            held[row.id] = "waiting"
            continue
        _render(row, naming.failed.get(row.id), settings, now)
        if row.text is None:
            held[row.id] = "failed"
    return held


async def _ended_campaigns(uow: UnitOfWork, campaign_ids: set[str], now: datetime) -> set[str]:
    """Those of `campaign_ids` that ended (by marketing, or their `ends_at` passed before the job
    saw it): nothing of a campaign reaches anyone after its end (docs/campaigns.md)."""
    if not campaign_ids:
        return set()
    found = await uow.session.exec(select(CampaignRow.id).where(
        col(CampaignRow.id).in_(campaign_ids),
        or_(col(CampaignRow.state) == CampaignState.ENDED.value, col(CampaignRow.ends_at) <= now)))
    return set(found.all())


async def _send(row: MessageRow, transport: Transport, settings: Settings, quiet: rules.QuietHours,
                consents: rules.Consents, now: datetime, contacts: ContactDirectory | None) -> str:
    if (refused := rules.refusal(row.channel, row.requires_consent, consents)) is not None:  # type: ignore[arg-type]
        _finish(row, Status.CANCELLED, refused, now)
        return "cancelled"
    if rules.disturbs(row.channel) and (release := quiet.release(now)) is not None:  # a retry or a late run fell into quiet hours
        row.status, row.not_before, row.reason = Status.DEFERRED.value, release, "quiet hours"
        return "deferred"
    assert row.text is not None  # rendered at intake, or by `_render_late` before it is handed over
    if row.channel == "inbox":  # the inbox is ours: it is delivered by being recorded
        row.status, row.sent_at, row.delivered_at, row.reason = Status.DELIVERED.value, now, now, None
        return "delivered"
    row.attempts += 1
    outgoing = Outgoing(message_id=row.id, member_id=row.member_id, channel=row.channel,  # type: ignore[arg-type]
                        text=row.text, marketing=row.marketing, at=now, template=row.template, params=dict(row.params),
                        language=row.language)
    try:
        if contacts is not None and _greets(row.template, row.language):
            outgoing = await _personal(outgoing, contacts, settings)
        receipt = await transport.send(outgoing)
    except TransportError as exc:
        if not exc.retryable or row.attempts >= settings.message_max_attempts:
            _finish(row, Status.FAILED, f"attempt {row.attempts}: {exc}"[:500], now)
            return "failed"
        row.status, row.reason = Status.QUEUED.value, f"attempt {row.attempts}: {exc}"[:500]
        row.not_before = now + rules.retry_after(row.attempts, settings.message_retry_base_s, settings.message_retry_max_s)
        return "retrying"
    row.status, row.sent_at, row.transport_ref, row.reason = receipt.status, now, receipt.ref, None
    if receipt.status == "delivered":
        row.delivered_at = now
    return receipt.status


async def _personal(message: Outgoing, contacts: ContactDirectory, settings: Settings) -> Outgoing:
    """The message as it goes out: greeting the member by name, rendered again with that one
    parameter changed, and to the address read in the same look-up (the transport need not read
    it again). Nothing of it is stored; a look-up members cannot answer now is retried like any
    failed hand-over."""
    contact = await contacts.contact(message.member_id)
    params = message.params | {rules.SALUTATION: rules.salutation(contact.family_name, contact.gender, message.language)}
    source = templates.source(message.template, message.language)
    assert source is not None  # it rendered at intake, from the same templates
    text = rules.compose(rules.render(source, params), channel=message.channel, marketing=message.marketing,
                         sign=settings.sms_sign, language=message.language)
    address = contact.address(message.member_id, message.channel) if message.channel in ("sms", "email") else None
    return replace(message, text=text, params=params, address=address)


# --- reading


def _in_inbox(m: Any) -> list[ColumnElement[bool]]:
    """What a member's inbox holds of the messages `m`: what reached them, each message once. A
    message sent on several channels at once (an offer list: by SMS and the same text in the inbox,
    occasions `rules.occasion_on`) is listed as its inbox copy, which reads as the app should (no
    sign name, no opt-out line); its SMS is listed only while the inbox copy has not reached the
    member. Staff's archive and the member's export keep every copy with its own status."""
    received = [s.value for s in rules.RECEIVED]
    copy = MESSAGES.alias("inbox_copy")
    inbox: Channel = "inbox"
    # The inbox copy's occasion with its channel swapped for this message's (`offer_list:inbox` for
    # `offer_list:sms`). Member and source lead the unique key, so the index finds the candidates.
    in_inbox_too = exists().where(
        copy.c.member_id == m.member_id, copy.c.source == m.source, copy.c.channel == inbox,
        copy.c.status.in_(received), copy.c.occasion.endswith(rules.occasion_on("", inbox)),
        m.occasion == func.substr(copy.c.occasion, 1, func.length(copy.c.occasion) - len(inbox), type_=String) + m.channel,
    )
    return [m.status.in_(received), or_(m.channel == inbox, ~in_inbox_too)]


def _of_member(*, inbox: bool, keyset: bool = False) -> Select[Any]:
    m = MESSAGES.c
    query = core_select(MESSAGES).where(m.member_id == bindparam("member_id"))
    if inbox:
        query = query.where(*_in_inbox(m))
    if keyset:
        # What follows the message `before_id` in the list's order (created_at desc, id asc): older,
        # or as old with a greater id. A page read from there stays put when newer messages arrive,
        # where an offset shifts by them and lists an item twice. The message is looked up among
        # all of the member's (not only what the inbox lists): it gives the position alone, and the
        # app's last item may have left the inbox since (an SMS, once its inbox copy reached them).
        # A sub-select, not a value read first: the page costs one query; one not of this member
        # (or no message at all) is NULL and selects nothing, which `of_member` tells apart.
        anchor = MESSAGES.alias("page_anchor")
        before_at = core_select(anchor.c.created_at).where(
            anchor.c.id == bindparam("before_id"), anchor.c.member_id == bindparam("member_id")).scalar_subquery()
        # `<=` first: the bound the (member_id, created_at) index scans from; the OR only splits ties.
        query = query.where(m.created_at <= before_at, or_(m.created_at < before_at, m.id > bindparam("before_id")))
    return query.order_by(m.created_at.desc(), m.id).offset(bindparam("offset")).limit(bindparam("limit"))


# Built once, read as plain rows: the customer-360 view and the app read a member's messages on
# every view, where building the statement and the ORM's loading cost more than running it.
_INBOX, _ARCHIVE = _of_member(inbox=True), _of_member(inbox=False)
_INBOX_BEFORE, _ARCHIVE_BEFORE = _of_member(inbox=True, keyset=True), _of_member(inbox=False, keyset=True)
_IS_MEMBERS = core_select(MESSAGES.c.id).where(
    MESSAGES.c.id == bindparam("before_id"), MESSAGES.c.member_id == bindparam("member_id"))


async def of_member(uow: UnitOfWork, member_id: str, *, inbox: bool, limit: int, offset: int,
                    before_id: str | None = None) -> Sequence[Row[Any]]:
    """A member's messages, newest first, with every column of `MessageRow`: what they received,
    each message once (their inbox), or every one with its status (staff: the archive).

    With `before_id`, those that follow that message of theirs in this order (the last of the page
    before), `offset` counting from there; it need not be listed itself (the inbox lists only some
    of them), it names the place. One that is not this member's message is `Invalid`."""
    params: dict[str, Any] = {"member_id": member_id, "offset": offset, "limit": limit}
    if before_id is None:
        return (await uow.session.exec(_INBOX if inbox else _ARCHIVE, params=params)).all()  # type: ignore[call-overload]
    params["before_id"] = before_id
    found = (await uow.session.exec(_INBOX_BEFORE if inbox else _ARCHIVE_BEFORE, params=params)).all()  # type: ignore[call-overload]
    # An empty page is the end of the list, or an id that named nothing of theirs: only then is it
    # asked which (a page with rows had its anchor), so paging costs one query but at the end.
    anchor = {"member_id": member_id, "before_id": before_id}
    if not found and (await uow.session.exec(_IS_MEMBERS, params=anchor)).first() is None:  # type: ignore[call-overload]
        raise Invalid("before_id", f"no message {before_id} of member {member_id}: name the last message of the page before")
    return found


async def mark_read(uow: UnitOfWork, member_id: str, message_id: str, now: datetime) -> MessageRow:
    # Another member's message, one not received yet, or the SMS of a message the inbox lists by
    # its inbox copy, is not in this inbox: the same 404.
    found = await uow.session.exec(select(MessageRow).where(
        col(MessageRow.id) == message_id, col(MessageRow.member_id) == member_id, *_in_inbox(MESSAGES.c)))
    row = found.first()
    if row is None:
        raise NotFound(f"no message {message_id} in the inbox of {member_id}")
    if row.read_at is None:
        row.read_at = now
        uow.session.add(row)
    return row


async def campaign_counts(uow: UnitOfWork, campaign_id: str) -> dict[str, int]:
    if await uow.session.get(CampaignRow, campaign_id) is None:
        raise NotFound(f"no campaign {campaign_id}")
    found = await uow.session.exec(core_select(MESSAGES.c.status, func.count()).where(  # type: ignore[call-overload]
        MESSAGES.c.campaign_id == campaign_id).group_by(MESSAGES.c.status))
    counts = {s.value: 0 for s in Status}
    counts.update({status: int(n) for status, n in found.all()})
    return counts


async def outbox(uow: UnitOfWork, limit: int, offset: int) -> Sequence[LocalOutboxRow]:
    query = select(LocalOutboxRow).order_by(col(LocalOutboxRow.id).desc()).offset(offset).limit(limit)
    return (await uow.session.exec(query)).all()
