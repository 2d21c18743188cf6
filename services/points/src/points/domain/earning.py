"""Earning rules: how many points a sale earns. Pure functions over a rule version.

A rule version is immutable once written and applies from its `effective_from`; a sale is always
priced by the version in force at the sale's own time, however late its event arrives, so a
backlog replayed after an outage earns what it would have earned on the day.

Points are floored once per sale (not per line): two lines of 0.60 earn one point.

Points follow what the customer paid. A sale's discounts (coupons, promotions) are taken off its
whole total, not off particular lines (the event does not say which lines a coupon applied to), so
the eligible amount is scaled by the paid share `(total - discount) / total`: a 20% discount
earns 20% fewer points on every category alike, and a category that earns nothing stays at
nothing. The minimum sale amount is checked against what was paid. `Earning.eligible_amount`
stays the lines' undiscounted eligible amount, the base returns are weighed against (a return
names its lines at their undiscounted amounts), so a return takes back its share of the points
actually earned (`domain.returns`).

One sale earns at most `POINTS_MAX` (10,000,000) points, the most any points figure on an event may
carry (`shared.integers`): a sale worth more (the POS accepts amounts of up to 12 integer digits)
would earn points no expiry warning could announce, and the member's expiry run would fail on every
run. The cap is far above any real basket; `Earning.capped` says it applied, and the booking logs it.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Protocol

from shared.integers import POINTS_MAX

ONE = Decimal(1)
ZERO = Decimal(0)


class Line(Protocol):
    @property
    def category(self) -> str: ...

    @property
    def amount(self) -> Decimal: ...


@dataclass(frozen=True)
class EarningRule:
    version: int
    effective_from: datetime
    points_per_yuan: Decimal = ONE
    # A store's rate wins over its channel's, which wins over `points_per_yuan`.
    channel_rates: Mapping[str, Decimal] = field(default_factory=dict)
    store_rates: Mapping[str, Decimal] = field(default_factory=dict)
    # Multiplier per line category; 0 excludes the category (e.g. tobacco earns nothing).
    category_multipliers: Mapping[str, Decimal] = field(default_factory=dict)
    # A sale whose total is below this earns nothing.
    min_sale_amount: Decimal = ZERO

    def rate_for(self, store_id: str, channel: str) -> Decimal:
        if store_id in self.store_rates:
            return self.store_rates[store_id]
        return self.channel_rates.get(channel, self.points_per_yuan)

    def multiplier(self, category: str) -> Decimal:
        return self.category_multipliers.get(category, ONE)

    def eligible_amount(self, lines: Iterable[Line]) -> Decimal:
        """The amount that earns points: each line's amount times its category's multiplier."""
        return sum((ln.amount * self.multiplier(ln.category) for ln in lines), ZERO)


@dataclass(frozen=True)
class Earning:
    points: int
    eligible_amount: Decimal
    rate: Decimal
    rule_version: int
    below_minimum: bool = False
    # The sale would have earned more than POINTS_MAX and earns POINTS_MAX.
    capped: bool = False


DEFAULT_RULE = EarningRule(version=1, effective_from=datetime(2000, 1, 1, tzinfo=UTC))


def earn_for_sale(
    rule: EarningRule, *, store_id: str, channel: str, total: Decimal, lines: Sequence[Line], discount: Decimal = ZERO
) -> Earning:
    """`total` is the sale before discounts (the sum of its lines), `discount` what was taken off it.
    A sale without lines (imported from a system that kept only totals) earns on its total, at the
    rate of a category without a multiplier."""
    eligible = rule.eligible_amount(lines) if lines else total
    rate = rule.rate_for(store_id, channel)
    paid = total - discount
    if paid < rule.min_sale_amount:
        return Earning(0, eligible, rate, rule.version, below_minimum=True)
    # The paid share is divided out last: a quotient rounded to 28 digits first and multiplied by
    # the rate after could fall just short of a whole point (100 yuan eligible, 40 of 120 paid, 3 a
    # yuan: 33.33...33 x 3 = 99.99...99 earned 99, not 100).
    earned = eligible * rate * paid / total if discount and total > 0 else eligible * rate
    points = int(earned.to_integral_value(rounding=ROUND_DOWN))
    if points > POINTS_MAX:
        return Earning(POINTS_MAX, eligible, rate, rule.version, capped=True)
    return Earning(points, eligible, rate, rule.version)


def without_points(rule: EarningRule, *, total: Decimal, lines: Sequence[Line]) -> Earning:
    """An imported sale the import said earns nothing: booked at zero, with the eligible amount it
    would have had, so a later return of it is weighed the same way and takes nothing back."""
    return Earning(0, rule.eligible_amount(lines) if lines else total, ZERO, rule.version)


def rule_in_force(rules: Iterable[EarningRule], at: datetime) -> EarningRule:
    """The latest version effective at `at`; the built-in default if none is yet."""
    best: EarningRule | None = None
    for rule in rules:
        if rule.effective_from <= at and (best is None or (rule.effective_from, rule.version) > (best.effective_from, best.version)):
            best = rule
    return best or DEFAULT_RULE
