"""The sender's rules: who may be sent what, when, and how a message reads.

A message comes from a notification request (members' service messages, campaigns' own). Each rule
is a pure function of the request, what the read model knows of the member, and the time, so the
intake (a consumer handler) and the dispatch job apply the same rules and tests drive them with
any clock:

- consent: a marketing message needs the member's marketing consent on its channel; a service
  message needs only the consent its request names (`service_tips_sms`), or none;
- quiet hours: a message due between 21:00 and 08:00 local time waits until 08:00 (deferred, never
  dropped);
- the weekly cap: at most N marketing messages per member in any 7 days; the next is cancelled
  with the reason, so marketing sees it in the campaign's counts;
- rendering: Jinja2 with undefined variables refused, the chain's sign name 【…】 first in every
  SMS and the opt-out line last in every marketing SMS (carriers require both);
- the salutation: a template may greet the member (`{{ salutation }}`): 张女士, Mr Li. Campaigns
  keeps no names, so the text it stores (the inbox, the customer-360) greets them neutrally (尊敬的
  会员) and the text handed to the transport calls them by the family name members gives with
  the phone number at the moment of sending;
- retries: a failed hand-over waits base * 2^(n-1) (capped) before the next attempt, and after the
  last one the message is `failed`.

One-time messages (`ONE_TIME_TEMPLATES`: the gateway's sign-in code) are the exception to all but
rendering: they go to a phone number, not to a member, so there is no consent to ask (the person
asked for the code themself) and no cap; they are never deferred for quiet hours, because the
code expires minutes after it is asked for and a code arriving at 08:00 would be useless; and they
carry no opt-out line (they are not marketing). They are sent at once, one attempt, while the
caller waits: a retry later would be a code nobody is waiting for any more.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, StrictUndefined, Template, TemplateError, meta

Channel = Literal["sms", "email", "inbox"]
Purpose = Literal["marketing_sms", "marketing_email", "service_tips_sms"]
LANGUAGES = ("zh-CN", "en")
OPT_OUT = "回T退订"
WEEK = timedelta(days=7)


# Templates a platform service may send to a phone number through POST /v1/messages/one-time.
ONE_TIME_TEMPLATES = frozenset({"signin_code"})


def masked_phone(phone: str) -> str:
    """What operators see of the number a one-time message went to: enough to tell two apart in a
    support call (138****5678), not enough to reach the person."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"


class Status(StrEnum):
    QUEUED = "queued"  # due at `not_before`
    DEFERRED = "deferred"  # waiting for the end of quiet hours
    SENT = "sent"  # handed to the transport
    DELIVERED = "delivered"  # the transport confirmed delivery
    FAILED = "failed"  # could not be rendered, or the transport refused it every attempt
    CANCELLED = "cancelled"  # not to be sent: no consent, over the cap, the member erased


# Still to be sent: what erasure and a withdrawn consent stop.
PENDING = frozenset({Status.QUEUED, Status.DEFERRED})
# What a member has received and sees in the inbox.
RECEIVED = frozenset({Status.SENT, Status.DELIVERED})
# What counts against the weekly cap: everything not refused (a queued message will go out).
COUNTED = PENDING | RECEIVED


@dataclass(frozen=True)
class Consents:
    """What campaigns' read model knows of a member's consents (None: never answered, which is no)."""

    marketing_sms: bool | None = None
    marketing_email: bool | None = None
    service_tips_sms: bool | None = None
    erased: bool = False


def refusal(channel: Channel, requires: Purpose | None, consents: Consents) -> str | None:
    """Why the message may not be sent now, or None. A marketing purpose must match the channel:
    consent to marketing SMS does not let a campaign e-mail the member."""
    if consents.erased:
        return "the member was erased"
    if requires is None:
        return None
    if requires.startswith("marketing_") and requires != f"marketing_{channel}" and channel != "inbox":
        return f"{requires} does not cover the {channel} channel"
    if getattr(consents, requires) is not True:
        return f"no {requires} consent"
    return None


def over_cap(counted_this_week: int, cap: int) -> str | None:
    """The reason a marketing message is over the member's weekly cap, or None."""
    if counted_this_week >= cap:
        return f"weekly cap: {counted_this_week} marketing messages in the last 7 days (cap {cap})"
    return None


# Where feedback's survey links lead (feedback.service_layer.invitations.SURVEY_PATH).
SURVEY_PATH = "/surveys/"


def as_staff_read_it(text: str | None, params: dict[str, str]) -> str | None:
    """A message as staff read it in a member's archive: a survey link is its member's own (feedback
    shows it to nobody else), so it is left out of the text they see."""
    link = params.get("link", "")
    return text.replace(link, "[…]") if text and SURVEY_PATH in link else text


def occasion_on(occasion: str, channel: Channel) -> str:
    """The occasion of one channel's copy of a message sent on several at once (an offer list: by
    SMS and the same text in the inbox). Each copy is a message of its own, with its own status for
    staff; the shared occasion is how the member's inbox knows them for one message and lists it
    once, as its inbox copy (`service_layer.messages`)."""
    return f"{occasion}:{channel}"


def disturbs(channel: str) -> bool:
    """Whether a message on `channel` reaches the person the moment it goes (a text, an e-mail):
    those wait out quiet hours. The inbox is in the member's own app, read when they open it."""
    return channel != "inbox"


@dataclass(frozen=True)
class QuietHours:
    start: int  # local hour quiet hours begin, e.g. 21
    end: int  # local hour they end, e.g. 8
    zone: ZoneInfo

    def release(self, at: datetime) -> datetime | None:
        """When a message due at `at` may go out, if `at` lies in quiet hours; otherwise None.
        Computed on the local date, so a day with a daylight-saving change still ends at 08:00."""
        local = at.astimezone(self.zone)
        hour = local.hour
        quiet = (hour >= self.start or hour < self.end) if self.start > self.end else self.start <= hour < self.end
        if not quiet:
            return None
        day = local.date() if hour < self.end else local.date() + timedelta(days=1)
        return datetime.combine(day, time(self.end), tzinfo=self.zone)


def retry_after(attempts: int, base_s: float, max_s: float) -> timedelta:
    """The wait after the `attempts`-th failed hand-over: base, 2 x base, 4 x base ... up to max."""
    return timedelta(seconds=min(max_s, base_s * 2 ** max(0, attempts - 1)))


# The parameter the sender fills in itself, never a request or a campaign.
SALUTATION = "salutation"
NEUTRAL_SALUTATION = {"zh-CN": "尊敬的会员", "en": "Dear member"}
_TITLES = {"zh-CN": {"female": "{}女士", "male": "{}先生"}, "en": {"female": "Ms {}", "male": "Mr {}"}}
_EITHER_TITLE = {"zh-CN": "{}先生/女士", "en": "Mr/Ms {}"}


def salutation(family_name: str | None, gender: str, language: str) -> str:
    """What a message calls the member: family name and title in the message's language, the
    neutral greeting when members has no name for them (erased)."""
    language = language if language in NEUTRAL_SALUTATION else "zh-CN"
    if not family_name:
        return NEUTRAL_SALUTATION[language]
    return _TITLES[language].get(gender, _EITHER_TITLE[language]).format(family_name)


class RenderError(ValueError):
    """A template that cannot be rendered: a missing variable, a syntax error."""


_JINJA = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    # Compiling is most of rendering's cost; a launch renders one template 100,000 times.
    return _JINJA.from_string(source)


@lru_cache(maxsize=256)
def variables(source: str) -> frozenset[str]:
    """The parameters a template renders: those it uses without setting them itself."""
    try:
        return frozenset(meta.find_undeclared_variables(_JINJA.parse(source)))
    except TemplateError as exc:
        raise RenderError(f"template: {exc}") from exc


def render(source: str, params: dict[str, str]) -> str:
    try:
        return _compiled(source).render(**params).strip()
    except TemplateError as exc:
        raise RenderError(f"template: {exc}") from exc


def compose(body: str, *, channel: Channel, marketing: bool, sign: str, language: str) -> str:
    """The text as sent: an SMS starts with the sign name and a marketing SMS ends with how to opt
    out (the en text too: the carrier's keyword is the same)."""
    if channel != "sms":
        return body
    text = body if body.startswith(sign) else f"{sign}{body}"
    if marketing and not text.endswith(OPT_OUT):
        if language == "en":
            text = f"{text} {OPT_OUT}"
        else:
            # A body that ends without a full stop (a tip as marketing typed it) would run on into
            # the opt-out line: "周末生鲜八折回T退订" reads as part of the tip.
            text = f"{text}{'' if text.endswith(SENTENCE_ENDS) else '。'}{OPT_OUT}"
    return text


# What ends a Chinese sentence, or closes a quotation or bracket after it.
SENTENCE_ENDS = ("。", "！", "？", "…", "」", "』", "）", ".", "!", "?", ")")
