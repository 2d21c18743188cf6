"""Coupon templates, the coupon state machine, and what a set of codes takes off one basket.

Everything here is pure: the service layer loads the coupons, works out which caps a code would
break (that needs the counters), and asks `evaluate` for the answer the till shows.

Kinds of template:
- `amount_off`: `amount` off the eligible lines;
- `percent_off`: `percent` of the eligible lines, at most `max_discount`;
- `threshold` (满100减20): `amount` off once the eligible lines reach `threshold`; with `repeat`
  (每满100减20) once per full `threshold`;
- `free_gift`: one unit of `gift_sku` at zero, when the basket holds it.
The discount of a code is never more than its eligible amount, nor more than is left of the
basket after the codes before it.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from campaigns.domain.codes import generic_code_problem
from shared.coupon_codes import CouponCode
from shared.errors import Conflict
from shared.events.contracts.common import Channel
from shared.identifiers import StoreId
from shared.integers import Int64
from shared.money import Money, PositiveMoney
from shared.strict import StrictBool
from shared.text import Text
from shared.zones import Moment, end_of_local_day

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class Kind(StrEnum):
    AMOUNT_OFF = "amount_off"
    PERCENT_OFF = "percent_off"
    THRESHOLD = "threshold"
    FREE_GIFT = "free_gift"


class Strict(BaseModel):
    # Frozen: a template's rules are shared by every till's request once parsed.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(Strict):
    """Where the coupon applies; an empty list means no limit of that kind."""

    categories: list[Text] = Field(default_factory=list, max_length=200)
    skus: list[Text] = Field(default_factory=list, max_length=1000)
    stores: list[StoreId] = Field(default_factory=list, max_length=1000)
    channel: Channel | None = None


class Validity(Strict):
    """Fixed dates (`valid_from` .. `valid_until`), or `days` from the day of issue."""

    valid_from: Moment | None = None
    valid_until: Moment | None = None
    days: int | None = Field(default=None, ge=1, le=3660)

    @model_validator(mode="after")
    def _one_kind(self) -> "Validity":
        fixed = self.valid_from is not None or self.valid_until is not None
        if fixed == (self.days is not None):
            raise ValueError("give either valid_from and valid_until, or days")
        if fixed and (self.valid_from is None or self.valid_until is None):
            raise ValueError("give both valid_from and valid_until")
        if self.valid_from is not None and self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self

    def over(self, now: datetime) -> bool:
        """Fixed dates that have passed: a coupon of them could never be used."""
        return self.valid_until is not None and self.valid_until <= now

    def window(self, issued_at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """When a coupon issued at `issued_at` may be used. `days` run to the end of the chain's
        local day they end on: a customer reads "valid 7 days" in days, so a coupon issued at 15:00
        is good all of its last day rather than until 15:00 of it (and never for less than the days
        given). A birthday coupon issued a week before the birthday covers the whole birthday."""
        if self.days is not None:
            return issued_at, end_of_local_day(issued_at, zone, self.days)
        return self.dates()

    def dates(self) -> tuple[datetime, datetime]:
        """The fixed dates (a generic code's: nobody is issued one, so there is no day of issue)."""
        assert self.valid_from is not None and self.valid_until is not None
        return self.valid_from, self.valid_until


class Stacking(Strict):
    """`exclusive`: alone in a sale. `joint`: with other joint coupons, at most `max_per_sale` in all."""

    mode: Literal["exclusive", "joint"] = "exclusive"
    max_per_sale: int = Field(default=1, ge=1, le=20)

    @model_validator(mode="after")
    def _exclusive_is_one(self) -> "Stacking":
        if self.mode == "exclusive" and self.max_per_sale != 1:
            raise ValueError("max_per_sale applies to joint coupons only")
        return self


class Caps(Strict):
    """Budgets and caps of a template within one campaign (or of the template alone, issued outside
    any campaign). Counted when a coupon is reserved or redeemed, given back when it is released,
    or returned on a refund. `issued` limits how many coupons are issued at all."""

    issued: Int64 | None = Field(default=None, ge=1)
    redemptions: Int64 | None = Field(default=None, ge=1)
    amount: PositiveMoney | None = None
    per_member: Int64 | None = Field(default=None, ge=1)
    per_member_per_period: Int64 | None = Field(default=None, ge=1)
    period_days: int | None = Field(default=None, ge=1, le=366)
    per_store: Int64 | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _period(self) -> "Caps":
        if (self.per_member_per_period is None) != (self.period_days is None):
            raise ValueError("per_member_per_period and period_days go together")
        return self

    @property
    def needs_member(self) -> bool:
        return self.per_member is not None or self.per_member_per_period is not None


class TemplateSpec(Strict):
    """A coupon template as marketing writes it; each rule is refused with the field it concerns."""

    name: Text = Field(min_length=1, max_length=100)
    kind: Kind
    amount: PositiveMoney | None = Field(default=None, description="amount_off and threshold: money off")
    percent: Decimal | None = Field(default=None, gt=0, lt=100, max_digits=5, decimal_places=2)
    max_discount: PositiveMoney | None = Field(default=None, description="percent_off: the cap")
    threshold: PositiveMoney | None = Field(default=None, description="threshold: spend at least this")
    # JSON true or false only (as `returns_on_refund`): pydantic's lax bool read "no", "off" or 0 as
    # marketing's rule. Stored templates hold JSON booleans, so reading them back is unchanged.
    repeat: StrictBool = Field(default=False, description="threshold: once per full threshold (每满)")
    gift_sku: Text | None = Field(default=None, min_length=1, max_length=64)
    limits: Limits = Field(default_factory=Limits)
    validity: Validity
    min_basket: Money = ZERO
    stacking: Stacking = Field(default_factory=Stacking)
    returns_on_refund: StrictBool = False
    generic_code: CouponCode | None = None
    caps: Caps = Field(default_factory=Caps)

    @model_validator(mode="after")
    def _kind_fields(self) -> "TemplateSpec":
        needed: dict[Kind, set[str]] = {
            Kind.AMOUNT_OFF: {"amount"},
            Kind.PERCENT_OFF: {"percent", "max_discount"},
            Kind.THRESHOLD: {"amount", "threshold"},
            Kind.FREE_GIFT: {"gift_sku"},
        }
        given = {name for name in ("amount", "percent", "max_discount", "threshold", "gift_sku") if getattr(self, name) is not None}
        if missing := needed[self.kind] - given:
            raise ValueError(f"{sorted(missing)[0]} is required for a {self.kind} coupon")
        if extra := given - needed[self.kind]:
            raise ValueError(f"{sorted(extra)[0]} does not apply to a {self.kind} coupon")
        if self.repeat and self.kind is not Kind.THRESHOLD:
            raise ValueError("repeat applies to threshold coupons only")
        if self.kind is Kind.THRESHOLD:
            assert self.amount is not None and self.threshold is not None
            if self.amount > self.threshold:
                raise ValueError("amount: more off than the threshold to reach")
        if self.generic_code is not None:
            if problem := generic_code_problem(self.generic_code):
                raise ValueError(f"generic_code: {problem}")
            if self.validity.days is not None:  # nobody is issued a generic code: there is no day of issue
                raise ValueError("generic_code: a generic code needs fixed dates (valid_from, valid_until)")
        return self


# --- the state machine


class State(StrEnum):
    ISSUED = "issued"
    RESERVED = "reserved"
    REDEEMED = "redeemed"
    # A generic code's use that ended without a sale (a member coupon goes back to `issued`).
    RELEASED = "released"
    REVERSED = "reversed"
    # A member's coupon that ended unused because its holder's data was erased: nobody holds it.
    WITHDRAWN = "withdrawn"


EXPIRED = "expired"


def shown_state(state: State, valid_until: datetime, now: datetime) -> str:
    """A coupon's state as its holder is shown it: an issued coupon past its time is `expired`. It
    stays `issued` in the record, where nothing happened to it; no till takes it any more."""
    return EXPIRED if state is State.ISSUED and now >= valid_until else state.value


# From -> the states it may move to. A released member coupon is `issued` again; a returned sale
# gives the coupon back (`issued`) when the template says so, or marks it `reversed`. Either way
# a coupon whose holder was erased meanwhile ends `withdrawn` instead of going back to them.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.ISSUED: frozenset({State.RESERVED, State.REDEEMED, State.WITHDRAWN}),
    State.RESERVED: frozenset({State.REDEEMED, State.ISSUED, State.RELEASED, State.WITHDRAWN}),
    State.REDEEMED: frozenset({State.ISSUED, State.REVERSED, State.WITHDRAWN}),
    State.RELEASED: frozenset(),
    State.REVERSED: frozenset(),
    State.WITHDRAWN: frozenset(),
}


class IllegalTransition(Conflict):
    pass


def check_transition(current: State, new: State) -> None:
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"a coupon cannot go from {current} to {new}")


# --- reasons a code gives nothing


class Reason(StrEnum):
    UNKNOWN_CODE = "unknown_code"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    ALREADY_USED = "already_used"
    RESERVED_ELSEWHERE = "reserved_elsewhere"
    BASKET_TOO_SMALL = "basket_too_small"
    NOT_FOR_THIS_STORE = "not_for_this_store"
    NOT_FOR_THESE_ITEMS = "not_for_these_items"
    # A percent of items that do qualify, so few of them that it comes to less than a fen (5 % of
    # 0.10): the items are right, the amount is not, and the wording says how much more it takes.
    DISCOUNT_TOO_SMALL = "discount_too_small"
    CAP_REACHED = "cap_reached"
    CANNOT_COMBINE = "cannot_combine"
    # A member's own coupon, or a generic code whose caps count per member, at a sale without the
    # member's card.
    MEMBER_REQUIRED = "member_required"
    # The same coupons at a sale whose card leads to no member: a number never registered (or not
    # announced yet, or an erased member's), or a card replaced at the desk by a new one. The card
    # was shown, so asking for it again would send the cashier round in circles.
    CARD_UNKNOWN = "card_unknown"
    CARD_REPLACED = "card_replaced"
    # A member's own coupon at a sale with another member's card: coupons are not bearer vouchers.
    OTHER_MEMBERS = "other_members"


_MESSAGES: dict[Reason, tuple[str, str]] = {
    Reason.UNKNOWN_CODE: ("券码无效，请核对后重新输入", "Unknown coupon code; please check it"),
    Reason.EXPIRED: ("优惠券已过期（有效期至{last}）", "This coupon has expired (valid until {last})"),
    Reason.NOT_YET_VALID: ("优惠券自{since}起可用", "This coupon is valid from {since}"),
    Reason.ALREADY_USED: ("优惠券已使用", "This coupon has already been used"),
    Reason.RESERVED_ELSEWHERE: ("优惠券正在另一笔交易中使用", "This coupon is held by another sale"),
    Reason.BASKET_TOO_SMALL: ("还差{short}元可用此券（需满{needed}元）", "Spend {short} more to use this coupon (minimum {needed})"),
    Reason.NOT_FOR_THIS_STORE: ("此券不适用于本门店或本渠道", "This coupon is not valid in this store or channel"),
    Reason.NOT_FOR_THESE_ITEMS: ("购物篮中没有适用此券的商品", "No item in the basket qualifies for this coupon"),
    Reason.DISCOUNT_TOO_SMALL: ("此券对适用商品的优惠不足0.01元，适用商品还差{short}元可用（需满{needed}元）",
                                "The discount on the qualifying items comes to less than 0.01; "
                                "spend {short} more on them to use this coupon (minimum {needed})"),
    Reason.CAP_REACHED: ("此券的使用次数或预算已达上限", "This coupon's usage limit or budget has been reached"),
    Reason.CANNOT_COMBINE: ("此券不能与{other}同时使用", "This coupon cannot be combined with {other}"),
    Reason.MEMBER_REQUIRED: ("请先出示会员卡再使用此券", "Present the member card to use this coupon"),
    Reason.CARD_UNKNOWN: ("此会员卡未登记，请核对卡号；新办的卡可能需稍后再试",
                          "This member card is not registered; check the card number (a card issued just now may take a moment)"),
    Reason.CARD_REPLACED: ("此会员卡已补换新卡，不能再使用，请顾客出示新卡",
                           "This member card has been replaced and is no longer valid; ask the customer for the new card"),
    Reason.OTHER_MEMBERS: ("此券属于其他会员，不能用于本会员卡", "This coupon belongs to another member's card"),
}


def messages(reason: Reason, **params: object) -> tuple[str, str]:
    zh, en = _MESSAGES[reason]
    return zh.format(**params), en.format(**params)


# --- evaluating a basket


@dataclass(frozen=True)
class BasketLine:
    sku: str
    category: str
    amount: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class Basket:
    store_id: str
    channel: str
    at: datetime
    lines: tuple[BasketLine, ...]
    # The till's transaction (store_id, pos_txn_id): a coupon it holds itself is not "elsewhere".
    txn: tuple[str, str]
    # The chain's local time: the till tells the cashier when a coupon starts or ended in it.
    zone: tzinfo
    # The service's time. A reservation runs on the service's clock (it ends `ttl` after the
    # service took it), so whether one still holds is judged by it, never by the till's clock,
    # which may run minutes ahead or behind; the coupon's validity is judged at the basket's time.
    now: datetime

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


@dataclass(frozen=True)
class CouponState:
    """What evaluation needs to know about one coupon (a member coupon or a generic code)."""

    code: str
    spec: TemplateSpec
    state: State
    valid_from: datetime
    valid_until: datetime
    reserved_for: tuple[str, str] | None = None
    reserved_until: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    code: str
    discount: Decimal = ZERO
    reason: Reason | None = None
    message_zh: str = ""
    message_en: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is None


def _refuse(code: str, reason: Reason, **params: object) -> Verdict:
    zh, en = messages(reason, **params)
    return Verdict(code, ZERO, reason, zh, en)


def _local(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _last_valid(until: datetime, zone: tzinfo) -> str:
    """The last minute a coupon ending at `until` could be used in, in local time. The stored end is
    exclusive: a coupon valid to the end of 21 December ends at 22 December 00:00, and a customer told
    it expired "on 2026-12-22 00:00" reads that it was good on the 22nd; "until 2026-12-21 23:59" is
    what they were given."""
    return _local(until - timedelta(microseconds=1), zone)


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT)}"


def eligible_amount(spec: TemplateSpec, basket: Basket) -> Decimal:
    limits = spec.limits
    if not limits.categories and not limits.skus:
        return basket.total
    return sum(
        (ln.amount for ln in basket.lines if ln.category in limits.categories or ln.sku in limits.skus), ZERO
    )


def percent_off(amount: Decimal, percent: Decimal, cap: Decimal | None) -> Decimal:
    """`percent` of `amount`, down to the fen and at most `cap`: what a percent coupon takes off at
    the till, and so what a member's own price on their offer list is worked out with."""
    off = (amount * percent / 100).quantize(CENT, rounding=ROUND_DOWN)
    return off if cap is None else min(off, cap)


def least_for_percent(percent: Decimal) -> Decimal:
    """The least amount, in fen, that `percent_off` takes at least a fen off: below it the discount
    rounds down to nothing (5 % needs 0.20). A cap is never below a fen, so it does not change it."""
    return (CENT * 100 / percent).quantize(CENT, rounding=ROUND_UP)


def discount_of(spec: TemplateSpec, eligible: Decimal, basket: Basket) -> Decimal:
    """The discount the template gives on `eligible`, before checks of state, time and caps."""
    match spec.kind:
        case Kind.AMOUNT_OFF:
            assert spec.amount is not None
            off = spec.amount
        case Kind.PERCENT_OFF:
            assert spec.percent is not None and spec.max_discount is not None
            off = percent_off(eligible, spec.percent, spec.max_discount)
        case Kind.THRESHOLD:
            assert spec.amount is not None and spec.threshold is not None
            times = int(eligible // spec.threshold) if spec.repeat else int(eligible >= spec.threshold)
            off = spec.amount * times
        case Kind.FREE_GIFT:
            gifts = [ln for ln in basket.lines if ln.sku == spec.gift_sku]
            off = min(gifts[0].unit_price, gifts[0].amount) if gifts else ZERO
    return min(off, eligible).quantize(CENT)


def judge_one(coupon: CouponState | None, code: str, basket: Basket, *, capped: bool = False,
              member_missing: bool = False, other_members: bool = False,
              missing_because: Reason = Reason.MEMBER_REQUIRED) -> Verdict:
    """One code on its own: its state, its time, where it applies and what it gives.
    `missing_because`: why a code needing the member has none (no card, or the card's own reason)."""
    if coupon is None:
        return _refuse(code, Reason.UNKNOWN_CODE)
    spec = coupon.spec
    if coupon.state in (State.REDEEMED, State.REVERSED, State.RELEASED):
        return _refuse(code, Reason.ALREADY_USED)
    if coupon.state is State.WITHDRAWN:  # its holder was erased: a code nobody holds any more
        return _refuse(code, Reason.UNKNOWN_CODE)
    held = coupon.state is State.RESERVED and coupon.reserved_until is not None and coupon.reserved_until > basket.now
    if held and coupon.reserved_for != basket.txn:
        return _refuse(code, Reason.RESERVED_ELSEWHERE)
    if basket.at < coupon.valid_from:
        return _refuse(code, Reason.NOT_YET_VALID, since=_local(coupon.valid_from, basket.zone))
    # Reserved for this sale while it was valid, it stays good for the sale while the reservation
    # holds, as the sale's redemption of it does: the customer handed it over in time.
    if basket.at >= coupon.valid_until and not held:
        return _refuse(code, Reason.EXPIRED, last=_last_valid(coupon.valid_until, basket.zone))
    limits = spec.limits
    if (limits.stores and basket.store_id not in limits.stores) or (limits.channel and basket.channel != limits.channel):
        return _refuse(code, Reason.NOT_FOR_THIS_STORE)
    # Another member's coupon is said before the basket's rules: no basket makes it this card's, and
    # "spend 10.10 more" would send the customer to fetch items for a coupon refused anyway. A card
    # not shown yet (`member_missing`) is said after them: showing it may be all the coupon needs.
    if other_members:
        return _refuse(code, Reason.OTHER_MEMBERS)
    if basket.total < spec.min_basket:
        return _refuse(code, Reason.BASKET_TOO_SMALL, short=_money(spec.min_basket - basket.total), needed=_money(spec.min_basket))
    eligible = eligible_amount(spec, basket)
    if eligible <= 0:
        return _refuse(code, Reason.NOT_FOR_THESE_ITEMS)
    if spec.kind is Kind.THRESHOLD and spec.threshold is not None and eligible < spec.threshold:
        return _refuse(code, Reason.BASKET_TOO_SMALL, short=_money(spec.threshold - eligible), needed=_money(spec.threshold))
    discount = discount_of(spec, eligible, basket)
    if discount <= 0 and spec.kind is Kind.PERCENT_OFF:
        assert spec.percent is not None
        needed = least_for_percent(spec.percent)
        return _refuse(code, Reason.DISCOUNT_TOO_SMALL, short=_money(needed - eligible), needed=_money(needed))
    if discount <= 0:  # a free gift whose item is not in the basket
        return _refuse(code, Reason.NOT_FOR_THESE_ITEMS)
    if member_missing:
        return _refuse(code, missing_because)
    if capped:
        return _refuse(code, Reason.CAP_REACHED)
    return Verdict(code, discount)


@dataclass
class Evaluation:
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((v.discount for v in self.verdicts), ZERO)

    def of(self, code: str) -> Verdict:
        return next(v for v in self.verdicts if v.code == code)


def evaluate(basket: Basket, codes: list[str], coupons: dict[str, CouponState], *,
             capped: frozenset[str] = frozenset(), member_missing: frozenset[str] = frozenset(),
             other_members: frozenset[str] = frozenset(), missing_because: Reason = Reason.MEMBER_REQUIRED) -> Evaluation:
    """Every code against the basket, in the order the till gave them: the first codes keep their
    place when stacking rules let only some of them through. `capped`: codes whose caps this sale
    would break; `member_missing`: codes that need the member's card and the sale has no known
    member, refused for `missing_because` (`member_required` without a card, `card_unknown` or
    `card_replaced` for a card that leads to nobody); `other_members`: member coupons of someone
    other than the sale's card holder."""
    result = Evaluation()
    accepted: list[tuple[str, Stacking]] = []
    left = basket.total
    for code in codes:
        coupon = coupons.get(code)
        verdict = judge_one(coupon, code, basket, capped=code in capped, member_missing=code in member_missing,
                            other_members=code in other_members, missing_because=missing_because)
        if verdict.ok and coupon is not None:
            stacking = coupon.spec.stacking
            clash = _clash(stacking, accepted)
            if clash is not None:
                verdict = _refuse(code, Reason.CANNOT_COMBINE, other=clash)
            elif left <= 0:
                verdict = _refuse(code, Reason.BASKET_TOO_SMALL, short=_money(CENT), needed=_money(basket.total + CENT))
            else:
                verdict = Verdict(code, min(verdict.discount, left))
                left -= verdict.discount
                accepted.append((code, stacking))
        result.verdicts.append(verdict)
    return result


def _clash(stacking: Stacking, accepted: list[tuple[str, Stacking]]) -> str | None:
    """The accepted code this one cannot join, if any."""
    if not accepted:
        return None
    if stacking.mode == "exclusive":
        return accepted[0][0]
    for code, other in accepted:
        if other.mode == "exclusive":
            return code
    count = len(accepted) + 1
    if count > stacking.max_per_sale:
        return accepted[-1][0]
    for code, other in accepted:
        if count > other.max_per_sale:
            return code
    return None
