"""What a campaign is and the states it moves through.

A campaign gives a coupon, a message or both to members. A one-off campaign reaches a saved segment
once, when it launches (its audience is frozen then: members who join the segment later are not
added). A triggered campaign reaches each member once per occasion of its trigger (a birthday per
year, a complaint, a drop into churn risk, a survey invitation), for as long as it runs. Either way, a share of the
members it would reach is held out as the control group (`domain.control`), so its effect can be
measured against doing nothing; except a complaint's compensation, which is owed, not marketing
(`CampaignIn._owed`: no control group, no marketing consent, no budget, an `amount_off` coupon).

A campaign's message names one of the sender's templates; the parameters it renders with come from
the campaign's own `message.params`, from its trigger (`TRIGGER_PARAMS`) and from its coupon
(`coupon_params`), and a campaign whose template needs one that none of them gives is refused when
it is created rather than failing every message at launch.
"""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from campaigns.domain.coupons import TemplateSpec
from shared.bodies import Body
from shared.errors import Conflict
from shared.money import PositiveMoney
from shared.strict import StrictBool
from shared.text import NonBlankText, Text
from shared.zones import Moment


class State(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # launched, waiting for its start
    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


class Trigger(StrEnum):
    WIN_BACK = "win_back"  # churn risk rose to high or lost
    VIP_WELCOME = "vip_welcome"  # members asked for the welcome of a new VIP
    POINTS_EXPIRING = "points_expiring"
    COMPLAINT_COMPENSATION = "complaint_compensation"  # a resolution with a coupon value
    BIRTHDAY = "birthday"  # members announced a birthday N days ahead (once a year)
    SURVEY_INVITATION = "survey_invitation"  # feedback asked to send a member a survey invitation


# The parameters each trigger puts in its messages (the handlers in service_layer/campaigns.py
# supply them; the VIP welcome's come from members' request, the survey's from feedback's): a
# campaign's template may count on these beside its own `message.params`. The VIP welcome's
# request names the manager by id; the sender fills in their name and phone from members
# (service_layer/account_managers.py), as it fills in `store_name` from `store_id`.
TRIGGER_PARAMS: dict[Trigger, frozenset[str]] = {
    Trigger.WIN_BACK: frozenset(),
    Trigger.VIP_WELCOME: frozenset({"manager_id", "manager_name", "manager_phone", "store_id", "store_name"}),
    Trigger.POINTS_EXPIRING: frozenset({"points", "expires_on"}),
    Trigger.COMPLAINT_COMPENSATION: frozenset({"complaint_id"}),
    Trigger.BIRTHDAY: frozenset({"days_until"}),
    Trigger.SURVEY_INVITATION: frozenset({"link", "store_id", "store_name", "expires_on", "survey_source"}),
}


def coupon_params(template_name: str) -> dict[str, str]:
    """What a campaign's coupon adds to its messages: `offer`, the coupon template's name (满100减20),
    which is also what the member's wallet calls the coupon. The campaign's own params win."""
    return {"offer": template_name}


COUPON_PARAMS = frozenset(coupon_params(""))

# The sender's templates that offer something (a coupon, a list of discounted items): marketing
# whatever a campaign calls itself.
OFFER_TEMPLATES = frozenset({"coupon_offer", "offer_list"})
# The sender's templates that tell each member a coupon of the campaign's is in their wallet
# (您有一张满100减20优惠券已放入会员卡包): sent by a campaign that gives none, they promise what
# nobody gets.
COUPON_TEMPLATES = frozenset({"coupon_offer"})


def unbacked_coupon(message_template: str | None, coupon_template_id: str | None) -> str | None:
    """Why a campaign's message may not go with the coupon it gives (None when it may): the message
    tells each member a coupon is in their wallet and the campaign gives none. Said of
    `coupon_template_id`, the box to fill in."""
    if message_template in COUPON_TEMPLATES and coupon_template_id is None:
        return (f"message template '{message_template}' tells each member a coupon is in their wallet, and the "
                "campaign gives none: choose the coupon's template, or another message")
    return None


class Message(Body):
    """What the sender is asked to send to each member reached (the messages issue delivers it)."""

    template: Text = Field(min_length=1, max_length=64, description="The sender's template name")
    # Each value is rendered into every member's text, and a campaign's own `offer` wins over its
    # coupon's name: a blank one would send "A  coupon is waiting in your member wallet" to the whole segment.
    params: dict[str, NonBlankText] = Field(default_factory=dict, max_length=20)


class Budget(Body):
    """The campaign's own limits on its coupons, on top of its template's caps: checked at launch
    (`max_coupons` against the treatment group) and enforced at every issue and redemption by the
    template caps' counters, which count per campaign: the campaign issues from a template of its
    own, the chosen one with its caps narrowed to these (`budgeted`)."""

    max_coupons: int | None = Field(default=None, ge=1, le=10_000_000, description="Coupons the campaign may issue")
    max_discount: PositiveMoney | None = Field(default=None, description="Total discount the campaign's coupons may give at the tills")

    @model_validator(mode="after")
    def _some_limit(self) -> "Budget":
        if self.max_coupons is None and self.max_discount is None:
            raise ValueError("give max_coupons, max_discount or both")
        return self


def budgeted(spec: TemplateSpec, budget: Budget) -> TemplateSpec:
    """The template a budgeted campaign issues from: the chosen one, whose caps already count per
    campaign, with `issued` and `amount` no higher than the budget allows."""
    caps = spec.caps.model_dump()
    for cap, limit in (("issued", budget.max_coupons), ("amount", budget.max_discount)):
        if limit is not None:
            caps[cap] = limit if caps[cap] is None else min(caps[cap], limit)
    return TemplateSpec.model_validate({**spec.model_dump(), "caps": caps})


class CampaignIn(Body):
    name: NonBlankText = Field(max_length=120)
    description: Text = Field(default="", max_length=2000)
    kind: Literal["one_off", "triggered"]
    trigger: Trigger | None = None
    segment_id: str | None = Field(default=None, max_length=64, description="Who: required for a one-off campaign")
    coupon_template_id: str | None = Field(default=None, max_length=64)
    message: Message | None = None
    control_share: Decimal = Field(default=Decimal("0.10"), ge=0, le=Decimal("0.5"), decimal_places=3)
    # Marketing campaigns reach only members who consented to marketing on `channel`. JSON true or
    # false only, as `personalised`: pydantic's lax bool read "no" or 0 as false, and a campaign
    # sent "no" went out as a service message, past the members' marketing consent.
    marketing: StrictBool = True
    channel: Literal["sms", "email"] = "sms"
    # Personalised campaigns (chosen from behaviour, or triggered by a member's occasion) skip
    # members who opted out of personalised offers; an offer made alike to everyone in a group
    # (a store-wide or community offer) is not personalised and still reaches them.
    personalised: StrictBool = True
    starts_at: Moment | None = Field(default=None, description="Defaults to the launch")
    ends_at: Moment | None = None
    budget: Budget | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "CampaignIn":
        if self.kind == "one_off":
            if self.segment_id is None:
                raise ValueError("segment_id: a one-off campaign needs a segment")
            if self.trigger is not None:
                raise ValueError("trigger: only a triggered campaign has one")
        elif self.trigger is None:
            raise ValueError("trigger: a triggered campaign needs one")
        if self.trigger is Trigger.COMPLAINT_COMPENSATION:
            self._owed()
        elif not self.marketing and (self.coupon_template_id is not None
                                     or (self.message is not None and self.message.template in OFFER_TEMPLATES)):
            # A service campaign needs no marketing consent and its SMS carry no opt-out line: a
            # coupon or an offer sent that way would reach the members who said no to marketing.
            raise ValueError("marketing: a campaign that gives a coupon or an offer is marketing and reaches only members "
                             "who agreed to it; only a complaint's compensation, which is owed, is a service")
        elif not self.marketing and self.channel == "email":
            # A service message goes to the members who agreed to service tips, a consent given
            # for SMS only: by e-mail there would be nobody's consent to go by.
            raise ValueError("channel: a service message goes by SMS to the members who agreed to service tips; "
                             "by e-mail a campaign is marketing")
        if self.coupon_template_id is None and self.message is None:
            raise ValueError("coupon_template_id: a campaign gives a coupon, a message or both")
        if why := unbacked_coupon(self.message.template if self.message else None, self.coupon_template_id):
            raise ValueError(f"coupon_template_id: {why}")
        if self.budget is not None and self.coupon_template_id is None:
            raise ValueError("budget: limits a campaign's coupons, and this one gives none")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at: must be after starts_at")
        return self

    def _owed(self) -> None:
        """A complaint's compensation is owed to the customer, not marketing: its campaign gives a
        coupon, holds nobody out, needs no marketing consent, leaves out nobody who opted out of
        personalised offers and has no budget to refuse a promised coupon. Left out, those settings
        take these values; asked for otherwise, they are refused naming the field."""
        given = self.model_fields_set
        if self.coupon_template_id is None:
            raise ValueError("coupon_template_id: complaint compensation gives a coupon")
        if "control_share" in given and self.control_share != 0:
            raise ValueError("control_share: a complaint's compensation is owed: nobody is held out as a control "
                             "group (give 0 or leave it out)")
        if "marketing" in given and self.marketing:
            raise ValueError("marketing: a complaint's compensation is a service, not marketing: it needs no "
                             "marketing consent (give false or leave it out)")
        if "personalised" in given and self.personalised:
            raise ValueError("personalised: a complaint's compensation is owed whatever the member chose about "
                             "personalised offers (give false or leave it out)")
        if self.budget is not None:
            raise ValueError("budget: a complaint's compensation is owed and paid whatever a budget says; a "
                             "compensation campaign takes none")
        self.control_share, self.marketing, self.personalised = Decimal("0"), False, False

    def supplied_params(self) -> frozenset[str]:
        """The message parameters every member reached gets, whatever the occasion."""
        given = frozenset(self.message.params) if self.message is not None else frozenset()
        return (given | (TRIGGER_PARAMS[self.trigger] if self.trigger is not None else frozenset())
                | (COUPON_PARAMS if self.coupon_template_id is not None else frozenset()))


_MOVES: dict[str, tuple[frozenset[State], State | None]] = {
    "launch": (frozenset({State.DRAFT}), None),  # running or scheduled, by the start time
    "pause": (frozenset({State.RUNNING, State.SCHEDULED}), State.PAUSED),
    "resume": (frozenset({State.PAUSED}), None),
    "end": (frozenset({State.DRAFT, State.SCHEDULED, State.RUNNING, State.PAUSED}), State.ENDED),
}


def move(
    state: State, action: str, *, now: datetime, starts_at: datetime | None, ends_at: datetime | None, zone: ZoneInfo,
) -> State:
    """The state after `action`, or a Conflict naming why not (its times in the chain's `zone`)."""
    allowed, target = _MOVES[action]
    if state not in allowed:
        article = "an" if state.value[0] in "aeiou" else "a"  # "an ended campaign"
        raise Conflict(f"{article} {state.value} campaign cannot {action}")
    if target is not None:
        return target
    if ends_at is not None and over(now, ends_at):  # launched or resumed, it would reach members after its end
        raise Conflict(f"ends_at: the campaign ended at {staff_time(ends_at, zone)}, "
                       + ("before it started" if action == "launch" else f"so it cannot {action}"))
    return State.SCHEDULED if starts_at is not None and starts_at > now else State.RUNNING


def staff_time(at: datetime, zone: ZoneInfo) -> str:
    """A stored (UTC) moment as a refusal tells it: the chain's wall-clock time with its offset, as
    staff set it and the console shows it, not UTC's hours (8 behind in Shanghai)."""
    return at.astimezone(zone).isoformat(timespec="seconds")


def over(now: datetime, ends_at: datetime | None) -> bool:
    return ends_at is not None and ends_at <= now


def ended_at(now: datetime, ends_at: datetime | None) -> datetime:
    """When a campaign ended that is ended at `now`: at its `ends_at` if that came first, since it
    reached nobody after it and the schedule job notices an end up to an interval late (longer
    if the service was down); else `now`, ended by hand before its end."""
    return ends_at if ends_at is not None and over(now, ends_at) else now


def reaches(state: State, now: datetime, starts_at: datetime | None, ends_at: datetime | None) -> bool:
    """Whether a campaign in this state gives anything at `now` (a trigger arriving, a redemption)."""
    if state not in (State.RUNNING, State.SCHEDULED):
        return False
    return (starts_at is None or starts_at <= now) and (ends_at is None or now < ends_at)
