"""Campaigns: create, launch (freezing a one-off audience and holding out its control group), pause,
resume and end; triggers that reach a member once per occasion; and the results that compare the
members reached with those held out.

Reaching a member means: a `campaign_member` row (the key (campaign, member, occasion) makes each
occasion count once whatever the redelivery), a coupon of the campaign's template for the treatment
group (issued by `service_layer.coupons.issuing`, which enforces the template's budgets and caps within the
campaign; a campaign with a budget of its own issues from a template of its own, the chosen one
with its caps narrowed to the budget) and a notification request for the sender. Control members
get the row only: they are who the results compare against.
"""

import logging
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypeVar

from sqlalchemy import ColumnElement, func, type_coerce
from sqlalchemy import select as core_select
from sqlmodel import col, select

from campaigns.adapters.tables import (
    CampaignMemberRow,
    CampaignRow,
    CouponRow,
    CustomerPurchaseRow,
    CustomerRow,
)
from campaigns.domain.campaigns import (
    CampaignIn,
    State,
    Trigger,
    budgeted,
    coupon_params,
    ended_at,
    move,
    over,
    reaches,
    unbacked_coupon,
)
from campaigns.domain.control import in_control
from campaigns.domain.coupons import Kind
from campaigns.domain.coupons import State as CouponState
from campaigns.domain.segments import SegmentRule
from campaigns.domain.uplift import Uplift, uplift
from campaigns.service_layer import compensation, messages, segments
from campaigns.service_layer.coupons.issuing import issue
from campaigns.service_layer.coupons.templates import create_template, ensure_usable, get_template, spec_of
from shared.columns import MoneyColumn
from shared.commands import derived_event_id
from shared.consumer import Delivery
from shared.db import insert_or_skip, one_of
from shared.errors import Conflict, Invalid, NotFound
from shared.events import contracts as c
from shared.events.registry import CAMPAIGN_ENDED, CAMPAIGN_LAUNCHED, CAMPAIGN_NOTIFICATION_REQUESTED
from shared.member_directory import member_facts
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SERVICE = "campaigns"
CAMPAIGNS = CampaignRow.__table__  # type: ignore[attr-defined]
MEMBERS = CampaignMemberRow.__table__  # type: ignore[attr-defined]
COUPONS = CouponRow.__table__  # type: ignore[attr-defined]
PURCHASES = CustomerPurchaseRow.__table__  # type: ignore[attr-defined]
ONCE = "once"  # the occasion of a one-off campaign
CHUNK = 500  # members per look-up (SQLite's bound-parameter limit)


# --- create, read, move


T = TypeVar("T")


async def _referenced(field: str, found: Awaitable[T]) -> T:
    """What a body names and is not there is bad input, a 422 naming the field; a 404 is for the
    address's own id."""
    try:
        return await found
    except NotFound as exc:
        raise Invalid(field, str(exc)) from None


async def create(uow: UnitOfWork, spec: CampaignIn, by: str, *, campaign_id: str | None = None) -> CampaignRow:
    """`campaign_id`: the id chosen for it beforehand (a create under an Idempotency-Key), else a new one."""
    now = uow.now()
    if spec.ends_at is not None and over(now, spec.ends_at):
        raise Invalid("ends_at", f"{spec.ends_at.isoformat()} is in the past: a campaign ending then would reach nobody")
    if spec.segment_id is not None:
        segments.ensure_active(await _referenced("segment_id", segments.get_segment(uow, spec.segment_id)), "segment_id")
    template = None
    if spec.coupon_template_id is not None:
        template = await _referenced("coupon_template_id", get_template(uow.session, spec.coupon_template_id))
        ensure_usable(template, now, "coupon_template_id")
        if spec_of(template).generic_code is not None:
            raise Conflict(f"template {template.id} has a generic code: a campaign issues member codes")
        if spec.trigger is Trigger.COMPLAINT_COMPENSATION and spec_of(template).kind is not Kind.AMOUNT_OFF:
            raise Invalid("coupon_template_id", f"template {template.id} is {template.kind}: a complaint's compensation "
                          f"is a coupon of the value staff promised, so its campaign gives an {Kind.AMOUNT_OFF.value} one")
    _check_message(spec)
    budget_template_id = None
    if template is not None and spec.budget is not None:
        budget_template_id = (await create_template(uow, budgeted(spec_of(template), spec.budget), by, now)).id
    row = CampaignRow(
        id=campaign_id or str(uuid.uuid4()), name=spec.name, description=spec.description, kind=spec.kind,
        trigger=spec.trigger.value if spec.trigger else None, segment_id=spec.segment_id,
        coupon_template_id=spec.coupon_template_id, message=spec.message.model_dump() if spec.message else None,
        control_share=spec.control_share, marketing=spec.marketing, channel=spec.channel, personalised=spec.personalised,
        starts_at=spec.starts_at, ends_at=spec.ends_at, state=State.DRAFT.value, created_by=by, created_at=now,
        budget=spec.budget.model_dump(mode="json") if spec.budget else None, budget_template_id=budget_template_id,
    )
    uow.session.add(row)
    return row


def _check_message(spec: CampaignIn) -> None:
    """The campaign's template exists and every parameter it renders is one the campaign supplies:
    otherwise each of its messages would fail at the sender, after the launch."""
    if spec.message is None:
        return
    name = spec.message.template
    needed = messages.campaign_template_params(name)
    if needed is None:
        raise Invalid("message.template", f"no template {name!r}; one of {', '.join(messages.campaign_templates())}")
    if missing := needed - spec.supplied_params():
        raise Invalid("message.params", f"template {name!r} needs {', '.join(sorted(missing))}, which this campaign does not "
                      "supply: give them in message.params")


def _marketing(row: CampaignRow) -> bool:
    """Whether the campaign's messages are marketing (consent, weekly cap): never a complaint's
    compensation, which is owed (also for a compensation campaign created before that was the rule)."""
    return row.marketing and row.trigger != Trigger.COMPLAINT_COMPENSATION.value


AudienceConsent = Literal["sms", "email", "service_tips_sms"]
RequiredConsent = Literal["marketing_sms", "marketing_email", "service_tips_sms"]


def _consent(row: CampaignRow) -> tuple[AudienceConsent | None, RequiredConsent | None]:
    """The consent that lets the campaign reach a member (the audience's read-model column) and
    that its messages require again at send time: marketing on the channel for marketing; the
    service tips a member agreed to for any other service message (by SMS: a service campaign by
    e-mail is refused when drafted); none for a complaint's compensation, which is owed."""
    if _marketing(row):
        return row.channel, "marketing_sms" if row.channel == "sms" else "marketing_email"  # type: ignore[return-value]
    if row.trigger == Trigger.COMPLAINT_COMPENSATION.value:
        return None, None
    return "service_tips_sms", "service_tips_sms"


def _ensure_backed(row: CampaignRow) -> None:
    """A draft saved before its message had to come with the coupon it announces (`unbacked_coupon`)
    is refused at launch, and in its launch preview, as its creation now is."""
    if why := unbacked_coupon((row.message or {}).get("template"), row.coupon_template_id):
        raise Invalid("coupon_template_id", why)


def _issuing_template(row: CampaignRow) -> str | None:
    """The template the campaign's coupons are issued from: its budget's own, or the one chosen."""
    return row.budget_template_id or row.coupon_template_id


async def get(uow: UnitOfWork, campaign_id: str) -> CampaignRow:
    row = await uow.session.get(CampaignRow, campaign_id)
    if row is None:
        raise NotFound(f"no campaign {campaign_id}")
    return row


async def listing(uow: UnitOfWork, state: State | None, limit: int, offset: int) -> Sequence[CampaignRow]:
    query = select(CampaignRow).order_by(col(CampaignRow.created_at).desc(), col(CampaignRow.id))
    if state is not None:
        query = query.where(CampaignRow.state == state.value)
    return (await uow.session.exec(query.offset(offset).limit(limit))).all()


async def _locked(uow: UnitOfWork, campaign_id: str) -> CampaignRow:
    """The campaign, locked on PostgreSQL: two launches of one campaign run one after the other."""
    row = (await uow.session.exec(select(CampaignRow).where(CampaignRow.id == campaign_id).with_for_update())).first()
    if row is None:
        raise NotFound(f"no campaign {campaign_id}")
    return row


async def launch(uow: UnitOfWork, campaign_id: str) -> CampaignRow:
    """Starts the campaign, or schedules it for its `starts_at`. A one-off campaign reaches its whole
    audience when it starts."""
    row = await _locked(uow, campaign_id)
    now = uow.now()
    row.state = move(State(row.state), "launch", now=now, starts_at=row.starts_at, ends_at=row.ends_at,
                     zone=uow.settings.zone).value
    _ensure_backed(row)
    if (template_id := _issuing_template(row)) is not None:
        ensure_usable(await get_template(uow.session, template_id), now, "coupon_template_id")
    row.launched_at = now
    if row.segment_id is not None:
        segment = await segments.get_segment(uow, row.segment_id)
        segments.ensure_active(segment, "segment_id")  # archived since the campaign was drafted
        row.segment_rule = segment.rule
    if row.state == State.RUNNING:
        await _start(uow, row, now)
    uow.session.add(row)
    return row


async def _split(uow: UnitOfWork, row: CampaignRow, rule: SegmentRule | None, now: datetime) -> tuple[list[str], list[str]]:
    """The one-off audience now, as (treated, held out)."""
    consent, _ = _consent(row)
    members = await segments.audience(uow, rule, now, consent=consent, personalised=row.personalised)
    held_out = [m for m in members if in_control(row.id, m, row.control_share)]
    return [m for m in members if not in_control(row.id, m, row.control_share)], held_out


@dataclass(frozen=True)
class LaunchPreview:
    audience: int
    treatment: int
    control: int
    coupons_needed: int
    issue_cap: int | None
    fits_budget: bool


async def preview(uow: UnitOfWork, campaign_id: str) -> LaunchPreview:
    """What launching a one-off campaign now would do, without doing it: marketing checks the
    audience after consent, the split and the budget before pressing launch."""
    row = await get(uow, campaign_id)
    if row.kind != "one_off" or row.segment_id is None:
        raise Conflict("only a one-off campaign has an audience to preview; a triggered one reaches members as their occasions come")
    if row.segment_rule is None:  # not launched yet: the segment as a launch now would take it, or refuse it
        _ensure_backed(row)
        segment = await segments.get_segment(uow, row.segment_id)
        segments.ensure_active(segment, "segment_id")  # archived since the campaign was drafted
        rule = SegmentRule.from_json(segment.rule)
    else:
        rule = SegmentRule.from_json(row.segment_rule)
    treated, held_out = await _split(uow, row, rule, uow.now())
    cap = None
    if (template_id := _issuing_template(row)) is not None:
        cap = spec_of(await get_template(uow.session, template_id)).caps.issued
    needed = len(treated) if template_id is not None else 0
    return LaunchPreview(audience=len(treated) + len(held_out), treatment=len(treated), control=len(held_out),
                         coupons_needed=needed, issue_cap=cap, fits_budget=cap is None or needed <= cap)


async def _start(uow: UnitOfWork, row: CampaignRow, now: datetime) -> None:
    row.started_at = now
    if row.kind == "one_off":
        rule = SegmentRule.from_json(row.segment_rule) if row.segment_rule is not None else None
        treated, held_out = await _split(uow, row, rule, now)
        await _check_budget(uow, row, len(treated))
        await _reach(uow, row, treated, held_out, ONCE, {})
        row.treatment_size, row.control_size = len(treated), len(held_out)
    uow.emit(
        CAMPAIGN_LAUNCHED,
        c.CampaignLaunchedV1(campaign_id=row.id, kind=row.kind, trigger=row.trigger,  # type: ignore[arg-type]
                             treatment=row.treatment_size, control=row.control_size, launched_at=now),
        key=row.id, event_id=derived_event_id(SERVICE, "campaign_launched", row.id),
    )


async def _check_budget(uow: UnitOfWork, row: CampaignRow, treated: int) -> None:
    """Refuses a launch the issue cap cannot cover: marketing narrows the segment or raises the cap
    (the campaign's budget or the template's), rather than the coupons running out in member-id
    order."""
    if (template_id := _issuing_template(row)) is None:
        return
    cap = spec_of(await get_template(uow.session, template_id)).caps.issued
    if cap is None or cap >= treated:
        return
    if row.budget is not None and row.budget.get("max_coupons") == cap:
        raise Conflict(f"budget.max_coupons: the campaign's budget allows {cap} coupons, the campaign would issue {treated}")
    raise Conflict(f"budget: the template allows {cap} coupons, the campaign would issue {treated}")


async def change(uow: UnitOfWork, campaign_id: str, action: Literal["pause", "resume", "end"]) -> CampaignRow:
    row = await _locked(uow, campaign_id)
    now = uow.now()
    row.state = move(State(row.state), action, now=now, starts_at=row.starts_at, ends_at=row.ends_at,
                     zone=uow.settings.zone).value
    if row.state == State.RUNNING and row.started_at is None:  # resumed past a start it missed
        await _start(uow, row, now)
    if row.state == State.ENDED:
        _ended(uow, row, "ended", now)
    uow.session.add(row)
    return row


def _ended(uow: UnitOfWork, row: CampaignRow, reason: Literal["ended", "ends_at_passed"], now: datetime) -> None:
    row.ended_at = ended_at(now, row.ends_at)
    uow.emit(CAMPAIGN_ENDED, c.CampaignEndedV1(campaign_id=row.id, reason=reason, ended_at=row.ended_at), key=row.id,
             event_id=derived_event_id(SERVICE, "campaign_ended", row.id))


# The states the schedule job ends a campaign from once its `ends_at` passes.
_LIVE = (State.SCHEDULED, State.RUNNING, State.PAUSED)


async def run_schedule(uow: UnitOfWork, now: datetime) -> dict[str, int]:
    """The schedule job: starts campaigns whose start came, ends those whose end passed."""
    started = ended = 0
    due = (await uow.session.exec(select(CampaignRow).where(
        col(CampaignRow.state).in_([state.value for state in _LIVE])).with_for_update())).all()
    for row in due:
        # A campaign whose end passed before the job saw its start (both within one interval) is
        # ended without reaching anyone: nobody is reached after a campaign's end.
        if (row.state == State.SCHEDULED and row.starts_at is not None and row.starts_at <= now
                and not over(now, row.ends_at)):
            row.state = State.RUNNING.value
            await _start(uow, row, now)
            started += 1
        if row.ends_at is not None and row.ends_at <= now:
            row.state = State.ENDED.value
            _ended(uow, row, "ends_at_passed", now)
            ended += 1
        uow.session.add(row)
    return {"started": started, "ended": ended}


# --- reaching members


@dataclass(frozen=True)
class Reached:
    fresh: set[str]  # the members (treated and held out) recorded for the first time on the occasion
    coupon_of: dict[str, str]  # treated member -> the coupon issued to them now


async def _reach(
    uow: UnitOfWork, row: CampaignRow, treated: list[str], held_out: list[str], occasion: str, params: dict[str, str]
) -> Reached:
    """Records who was reached and held out on `occasion`, gives the treated their coupon and asks
    for their message: a redelivered occasion records, issues and counts nobody again."""
    now = uow.now()
    fresh = await _record(uow, row.id, [(m, False) for m in treated] + [(m, True) for m in held_out], occasion, now)
    treated = [m for m in treated if m in fresh]
    coupon_of: dict[str, str] = {}
    template_id = _issuing_template(row)
    if template_id is not None and treated:
        # The mapping comes from the issue itself: reading it back by id would bind one parameter
        # per coupon, past asyncpg's 32,767 for a launch to a large segment.
        coupon_of = (await issue(uow, template_id, treated, row.id,
                                 once_per_member=row.kind == "one_off")).coupon_of
        # The message announces the coupon (`offer`): a member past the issue cap got none, and
        # must not be told of one that is not in their wallet.
        treated = [m for m in treated if m in coupon_of]
    if row.message is not None:
        given = {**(coupon_params((await get_template(uow.session, template_id)).name) if template_id else {}),
                 **row.message.get("params", {}), **params}
        _, purpose = _consent(row)
        def request(member_id: str) -> tuple[c.CampaignNotificationRequestedV2, str, str]:
            notification_id = derived_event_id(SERVICE, "campaign_message", row.id, member_id, occasion)
            assert row.message is not None
            return c.CampaignNotificationRequestedV2(
                notification_id=notification_id, member_id=member_id, campaign_id=row.id, occasion=occasion,
                template=row.message["template"], channel=row.channel,  # type: ignore[arg-type]
                params=given, coupon_id=coupon_of.get(member_id),
                requires_consent=purpose, requested_at=now,
            ), member_id, notification_id

        await uow.emit_many(CAMPAIGN_NOTIFICATION_REQUESTED, (request(m) for m in treated))
    return Reached(fresh, coupon_of)


async def _record(uow: UnitOfWork, campaign_id: str, members: list[tuple[str, bool]], occasion: str, now: datetime) -> set[str]:
    """Inserts the (campaign, member, occasion) rows not there yet; answers the members inserted."""
    if not members:
        return set()
    ids = [m for m, _ in members]
    before: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        found = await uow.session.exec(core_select(MEMBERS.c.member_id).where(  # type: ignore[call-overload]
            MEMBERS.c.campaign_id == campaign_id, MEMBERS.c.occasion == occasion,
            one_of(uow.session, MEMBERS.c.member_id, ids[start:start + CHUNK])))
        before.update(r[0] for r in found.all())
    rows = [{"campaign_id": campaign_id, "member_id": m, "occasion": occasion, "control": control, "reached_at": now} for m, control in members if m not in before]
    # ON CONFLICT: a concurrent delivery of the same occasion already recorded it; it wins.
    await insert_or_skip(uow.session, MEMBERS, rows)
    return {str(r["member_id"]) for r in rows}


async def _running(uow: UnitOfWork, trigger: Trigger) -> Sequence[CampaignRow]:
    now = uow.now()
    rows = (await uow.session.exec(select(CampaignRow).where(
        CampaignRow.trigger == trigger.value, col(CampaignRow.state).in_([State.RUNNING.value])))).all()
    return [r for r in rows if reaches(State(r.state), now, r.starts_at, r.ends_at)]


async def _count(uow: UnitOfWork, row: CampaignRow, *, control: bool) -> None:
    """One more member in the campaign's treatment or control group, counted in SQL: two
    partitions' consumers may reach members at once."""
    await uow.session.exec(CAMPAIGNS.update().where(CAMPAIGNS.c.id == row.id).values(
        treatment_size=CAMPAIGNS.c.treatment_size + int(not control),
        control_size=CAMPAIGNS.c.control_size + int(control)))


async def _trigger(
    uow: UnitOfWork, trigger: Trigger, member_id: str, occasion: str, params: dict[str, str] | None = None,
) -> None:
    """Reaches `member_id` on `occasion` in every running campaign of the trigger whose segment (if
    any), consent rule and personalisation take them in."""
    for row in await _running(uow, trigger):
        rule = SegmentRule.from_json(row.segment_rule) if row.segment_rule is not None else None
        consent, _ = _consent(row)
        if not await segments.audience(uow, rule, uow.now(), consent=consent, among=[member_id],
                                       personalised=row.personalised):
            continue
        control = in_control(row.id, member_id, row.control_share)
        reached = await _reach(uow, row, [] if control else [member_id], [member_id] if control else [], occasion,
                               params or {})
        if reached.fresh:
            await _count(uow, row, control=control)


async def on_member_attributes(uow: UnitOfWork, delivery: Delivery) -> None:
    """The read model takes the new attributes in (segments.on_member_attributes), and win-back
    reaches a member whose churn risk they raise to high or lost. Whether the risk rose is read
    before they are taken in (it compares with the risk they replace); the win-back campaigns'
    segments are evaluated after, on the attributes now true: a segment on churn risk, store,
    community, value class or RFM selects the member as these attributes describe them."""
    data = c.MemberAttributesV1.model_validate(delivery.envelope.data)
    rose = await _churn_risk_rises(uow, data)
    await segments.on_member_attributes(uow, delivery)
    if rose:
        # The chain's date, as every day in the platform: attributes worked out at 00:30 in Shanghai
        # are that day's, not the day before's (UTC's date until 08:00).
        day = data.as_of.astimezone(uow.settings.zone).date()
        await _trigger(uow, Trigger.WIN_BACK, data.member_id, f"churn:{day.isoformat()}")


async def _churn_risk_rises(uow: UnitOfWork, data: c.MemberAttributesV1) -> bool:
    """Whether `data` raises the member's churn risk to high or lost over the read model's row."""
    if data.churn_risk not in ("high", "lost"):
        return False
    before = await uow.session.get(CustomerRow, data.member_id)
    if before is None:
        return True
    if before.attributes_as_of is not None and before.attributes_as_of >= data.as_of:
        return False  # an older or repeated reading
    return before.churn_risk not in ("high", "lost")  # already at risk: no rise


async def on_points_expiring(uow: UnitOfWork, delivery: Delivery) -> None:
    data = c.PointsExpiringV1.model_validate(delivery.envelope.data)
    await _trigger(uow, Trigger.POINTS_EXPIRING, data.member_id, f"expiry:{data.expires_on.isoformat()}",
                   {"points": str(data.points), "expires_on": data.expires_on.isoformat()})


async def on_notification_requested(uow: UnitOfWork, delivery: Delivery) -> None:
    """Members asks for the welcome of a new VIP; welcome campaigns add their coupon and message,
    with the account manager members named (by `manager_id`: the sender fills in their name and
    work phone when it takes the campaign's request in, so they never travel on the bus)."""
    data = c.NotificationRequestedV1.model_validate(delivery.envelope.data)
    if data.template != "vip_welcome":
        return
    await _trigger(uow, Trigger.VIP_WELCOME, data.member_id, "vip_welcome", dict(data.params))


async def on_birthday_upcoming(uow: UnitOfWork, delivery: Delivery) -> None:
    """Birthday campaigns: the occasion is the birthday's year, so a member is reached once a year
    per campaign whatever the redelivery (members announces once a year under a derived id, and a
    republication under another id still meets the (campaign, member, occasion) key)."""
    data = c.BirthdayUpcomingV1.model_validate(delivery.envelope.data)
    await _trigger(uow, Trigger.BIRTHDAY, data.member_id, f"birthday:{data.occasion_year}",
                   {"days_until": str(data.days_until)})


async def on_survey_invitation_requested(uow: UnitOfWork, delivery: Delivery) -> None:
    """Feedback asks for a member's survey invitation; survey-invitation campaigns (a thank-you
    coupon for answering, say) reach the member once per invitation, with the link and the store's
    name for their own message. The sender delivers the invitation itself whether or not such a
    campaign runs."""
    data = c.FeedbackNotificationRequestedV1.model_validate(delivery.envelope.data)
    await _trigger(uow, Trigger.SURVEY_INVITATION, data.member_id, f"survey:{data.invitation_id}",
                   {**data.params, "survey_source": data.source})


async def on_complaint_resolved(uow: UnitOfWork, delivery: Delivery) -> None:
    """A resolution that names a coupon value promised the member that coupon: it is paid once per
    complaint, always (service_layer/compensation.py). The running compensation campaign whose
    `amount_off` template gives exactly that value pays it with its coupon and message, never
    holding the member out; with none (or one whose caps refuse it), a coupon of that value made
    for the purpose does. The value is never rounded to another campaign's coupon."""
    data = c.ComplaintResolvedV1.model_validate(delivery.envelope.data)
    member_id, value, complaint_id = data.member_id, data.coupon_value, data.complaint_id
    # A value of 0.00 passes the contract (Money) and promises nothing: no coupon, as without one.
    if member_id is None or not value:
        return
    facts = await member_facts(uow.session, member_id)
    if facts is not None and facts.erased_at is not None:
        # Feedback refuses compensation to an erased member; one erased since gets nothing new.
        log.info("complaint %s: member erased, compensation coupon not issued", complaint_id)
        return
    if await compensation.paid(uow, member_id, complaint_id):
        return  # a redelivery, or the resolution published again under another id
    occasion = compensation.occasion_of(complaint_id)
    row = await _compensating(uow, member_id, value)
    if row is not None:
        reached = await _reach(uow, row, [member_id], [], occasion, {"complaint_id": complaint_id})
        if reached.fresh:
            await _count(uow, row, control=False)
        if member_id in reached.coupon_of:
            if row.message is None:  # the member is told all the same
                template_id = _issuing_template(row)
                assert template_id is not None  # it issued the coupon
                template = await get_template(uow.session, template_id)
                await compensation.tell(uow, member_id, complaint_id, template.name, campaign_id=row.id)
            return
        # Its template's caps refused one more coupon (or, created before compensation was never
        # held out, it had held the member out on this occasion): the coupon is owed all the same.
        log.warning("complaint %s: compensation campaign %s issued no coupon; the %s owed is paid with a coupon "
                    "made for the purpose", complaint_id, row.id, value)
    await compensation.pay(uow, member_id, complaint_id, value)


async def _compensating(uow: UnitOfWork, member_id: str, value: Decimal) -> CampaignRow | None:
    """The running compensation campaign that pays `value` to this member: its template gives
    exactly that amount off and its segment, if any, takes the member in; the earliest created
    when several do."""
    rows = sorted(await _running(uow, Trigger.COMPLAINT_COMPENSATION), key=lambda r: (r.created_at, r.id))
    for row in rows:
        template_id = _issuing_template(row)
        assert template_id is not None  # CampaignIn requires it for this trigger
        spec = spec_of(await get_template(uow.session, template_id))
        if spec.kind is not Kind.AMOUNT_OFF or spec.amount != value:
            continue
        rule = SegmentRule.from_json(row.segment_rule) if row.segment_rule is not None else None
        if rule is not None and not await segments.audience(uow, rule, uow.now(), among=[member_id]):
            continue
        return row
    return None


# --- results


@dataclass(frozen=True)
class GroupFigures:
    members: int
    buyers: int
    spend_per_member: Decimal
    visits_per_member: Decimal


@dataclass(frozen=True)
class StoreFigures:
    """One store's part of the results: what each group spent there per member (every member of
    the group counted, a zero for one who bought elsewhere or nowhere, so the stores' differences
    add up to the campaign's), and the campaign's coupons redeemed there."""

    store_id: str
    treatment_spend_per_member: Decimal
    control_spend_per_member: Decimal | None  # None when nobody was held out
    spend_uplift: Uplift | None
    redeemed: int
    discount_cost: Decimal


@dataclass(frozen=True)
class Results:
    campaign_id: str
    state: str
    window_start: datetime | None
    window_end: datetime
    treatment: GroupFigures
    control: GroupFigures
    issued: int
    withdrawn: int  # of the issued, ended unused when their holder's data was erased
    redeemed: int
    redemption_rate: Decimal | None  # redeemed / (issued - withdrawn)
    discount_cost: Decimal
    spend_uplift: Uplift | None
    visits_uplift: Uplift | None
    by_store: list[StoreFigures]


async def results(uow: UnitOfWork, campaign_id: str) -> Results:
    """Treatment against control over the campaign's window (its start to its end, or now): spend
    (paid, net of returns) and visits per member, every member of each group counted. Each
    member's spend counts from when the campaign first reached them (or held them out): a
    triggered campaign reaches members over months, and what one bought before it reached them
    is none of its effect (for a one-off campaign that is its start, for everyone)."""
    row = await get(uow, campaign_id)
    state, end = _measured_until(row, uow.now())
    start = row.started_at
    groups: dict[bool, dict[str, tuple[Decimal, int]]] = {False: {}, True: {}}
    # Per store, per group: each member's spend there (members who spent nothing there are absent).
    at_store: dict[str, dict[bool, dict[str, Decimal]]] = {}
    members = await uow.session.exec(core_select(MEMBERS.c.member_id, MEMBERS.c.control).where(  # type: ignore[call-overload]
        MEMBERS.c.campaign_id == campaign_id))
    for member_id, control in members.all():
        groups[bool(control)][member_id] = (Decimal("0.00"), 0)
    if start is not None:
        # Each member once: a triggered campaign keeps a row per occasion it reached them on (two
        # complaints, each year's birthday), and joined as they are every sale would count again
        # for each. A member's group is drawn from the campaign and the member alone, so it is one.
        reached = (core_select(MEMBERS.c.member_id, MEMBERS.c.control, func.min(MEMBERS.c.reached_at).label("since"))
                   .where(MEMBERS.c.campaign_id == campaign_id).group_by(MEMBERS.c.member_id, MEMBERS.c.control).subquery())
        # A sale returned in full is no visit (nor makes a buyer), as it is no last purchase in
        # the segments' attributes: a campaign that only sent goods back to the shelf did nothing.
        net = segments.net_paid(PURCHASES)
        spent = await uow.session.exec(  # type: ignore[call-overload]
            core_select(reached.c.member_id, reached.c.control, PURCHASES.c.store_id,
                        type_coerce(func.coalesce(func.sum(net), 0), MoneyColumn()),
                        func.count(PURCHASES.c.sale_event_id).filter(net > 0))
            .select_from(reached.join(PURCHASES, PURCHASES.c.member_id == reached.c.member_id))
            .where(PURCHASES.c.occurred_at >= start, PURCHASES.c.occurred_at >= reached.c.since, _until(row, end))
            .group_by(reached.c.member_id, reached.c.control, PURCHASES.c.store_id)
        )
        for member_id, control, store_id, spend, visits in spent.all():
            before, seen = groups[bool(control)][member_id]
            groups[bool(control)][member_id] = (before + spend, seen + int(visits))
            at_store.setdefault(store_id, {False: {}, True: {}})[bool(control)][member_id] = spend
    coupon_counts = dict((await uow.session.exec(  # type: ignore[call-overload]
        core_select(COUPONS.c.state, func.count()).where(COUPONS.c.campaign_id == campaign_id).group_by(COUPONS.c.state))).all())
    discount_cost = (await uow.session.exec(core_select(type_coerce(func.coalesce(func.sum(COUPONS.c.discount), 0), MoneyColumn())).where(  # type: ignore[call-overload]
        COUPONS.c.campaign_id == campaign_id, COUPONS.c.state == CouponState.REDEEMED.value))).scalar_one()
    issued = sum(int(n) for n in coupon_counts.values())
    redeemed = int(coupon_counts.get(CouponState.REDEEMED.value, 0))
    # A coupon withdrawn when its holder's data was erased could never be redeemed: out of the
    # rate's denominator (else every erasure would read as a coupon the campaign failed to sell),
    # and shown, so that issued = withdrawn + the rate's denominator still adds up.
    withdrawn = int(coupon_counts.get(CouponState.WITHDRAWN.value, 0))
    redeemable = issued - withdrawn
    used_at = {store_id: (int(n), cost) for store_id, n, cost in (await uow.session.exec(  # type: ignore[call-overload]
        core_select(COUPONS.c.store_id, func.count(), type_coerce(func.coalesce(func.sum(COUPONS.c.discount), 0), MoneyColumn()))
        .where(COUPONS.c.campaign_id == campaign_id, COUPONS.c.state == CouponState.REDEEMED.value)
        .group_by(COUPONS.c.store_id))).all() if store_id is not None}
    treated, held = groups[False], groups[True]
    return Results(
        campaign_id=campaign_id, state=state, window_start=start, window_end=end,
        treatment=_figures(treated), control=_figures(held), issued=issued, withdrawn=withdrawn, redeemed=redeemed,
        redemption_rate=(Decimal(redeemed) / Decimal(redeemable)).quantize(Decimal("0.0001")) if redeemable else None,
        discount_cost=discount_cost,
        spend_uplift=uplift([s for s, _ in treated.values()], [s for s, _ in held.values()]) if treated and held else None,
        visits_uplift=uplift([Decimal(v) for _, v in treated.values()], [Decimal(v) for _, v in held.values()])
        if treated and held else None,
        by_store=[_store_figures(store_id, at_store.get(store_id, {False: {}, True: {}}), treated, held,
                                 *used_at.get(store_id, (0, Decimal("0.00"))))
                  for store_id in sorted(at_store.keys() | used_at.keys())],
    )


def _measured_until(row: CampaignRow, now: datetime) -> tuple[str, datetime]:
    """The campaign's state as its results tell it, and the end of their window: when it ended (at
    its `ends_at` if it reached it, a row ended late by an older job included), else `now`. One
    whose `ends_at` passed before the schedule job ran is ended there, not running "so far"."""
    if row.ended_at is not None:
        return row.state, ended_at(row.ended_at, row.ends_at)
    if State(row.state) in _LIVE and over(now, row.ends_at):
        return State.ENDED.value, ended_at(now, row.ends_at)
    return row.state, now


def _until(row: CampaignRow, end: datetime) -> ColumnElement[bool]:
    """The sales of the window up to its `end`: its `ends_at` is an exclusive end, as the campaign
    reaches nobody at it (a round's is the next one's first moment); a moment it was ended at, or
    now, counts itself."""
    occurred_at = PURCHASES.c.occurred_at
    return occurred_at < end if end == row.ends_at else occurred_at <= end


def _store_figures(store_id: str, spent: dict[bool, dict[str, Decimal]], treated: dict[str, tuple[Decimal, int]],
                   held: dict[str, tuple[Decimal, int]], redeemed: int, cost: Decimal) -> StoreFigures:
    """The store's spend per member over the whole of each group: the same members as the
    campaign's figures, each at what they spent at this store."""
    at_t = [spent[False].get(m, Decimal("0.00")) for m in treated]
    at_c = [spent[True].get(m, Decimal("0.00")) for m in held]
    return StoreFigures(
        store_id=store_id,
        treatment_spend_per_member=(sum(at_t, Decimal("0.00")) / len(at_t)).quantize(Decimal("0.01")) if at_t else Decimal("0.00"),
        control_spend_per_member=(sum(at_c, Decimal("0.00")) / len(at_c)).quantize(Decimal("0.01")) if at_c else None,
        spend_uplift=uplift(at_t, at_c) if at_t and at_c else None,
        redeemed=redeemed, discount_cost=cost,
    )


def _figures(group: dict[str, tuple[Decimal, int]]) -> GroupFigures:
    n = len(group)
    spend = sum((s for s, _ in group.values()), Decimal("0.00"))
    visits = sum(v for _, v in group.values())
    return GroupFigures(
        members=n, buyers=sum(1 for _, v in group.values() if v > 0),
        spend_per_member=(spend / n).quantize(Decimal("0.01")) if n else Decimal("0.00"),
        visits_per_member=(Decimal(visits) / n).quantize(Decimal("0.01")) if n else Decimal("0.00"),
    )

