"""Earning rules as pure functions: default, rates, categories, minimum, versions in force."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from points.domain.earning import DEFAULT_RULE, EarningRule, earn_for_sale, rule_in_force, without_points

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class L:
    category: str
    amount: Decimal


def lines(*pairs: tuple[str, str]) -> list[L]:
    return [L(c, Decimal(a)) for c, a in pairs]


def points(rule: EarningRule, *pairs: tuple[str, str], store: str = "S001", channel: str = "retail") -> int:
    items = lines(*pairs)
    return earn_for_sale(rule, store_id=store, channel=channel, total=sum((i.amount for i in items), Decimal(0)), lines=items).points


@pytest.mark.parametrize(("total", "expected"), [("79.80", 79), ("218.80", 218), ("0.50", 0), ("5000.00", 5000)])
def test_default_is_one_point_per_whole_yuan_floored_per_sale(total: str, expected: int) -> None:
    assert points(DEFAULT_RULE, ("grain", total)) == expected


def test_floor_applies_to_the_sale_not_to_each_line() -> None:
    assert points(DEFAULT_RULE, ("grain", "0.60"), ("snacks", "0.60")) == 1


def test_an_excluded_category_earns_nothing() -> None:
    rule = EarningRule(2, T0, category_multipliers={"tobacco": Decimal(0)})
    assert points(rule, ("tobacco", "200.00"), ("grain", "50.50")) == 50


def test_category_multipliers_weigh_their_lines() -> None:
    rule = EarningRule(2, T0, category_multipliers={"fresh": Decimal(2)})
    assert points(rule, ("fresh", "10.40"), ("grain", "5.00")) == 25  # 20.80 + 5.00 -> 25


def test_a_store_rate_wins_over_the_channel_rate_which_wins_over_the_default() -> None:
    rule = EarningRule(2, T0, points_per_yuan=Decimal(1), channel_rates={"partner": Decimal("1.5")}, store_rates={"S003": Decimal("0.5")})
    assert points(rule, ("grain", "100.00"), channel="retail") == 100
    assert points(rule, ("grain", "100.00"), channel="partner") == 150
    assert points(rule, ("grain", "100.00"), channel="partner", store="S003") == 50


def test_a_sale_below_the_minimum_amount_earns_nothing() -> None:
    rule = EarningRule(2, T0, min_sale_amount=Decimal("10.00"))
    items = lines(("grain", "9.99"))
    earning = earn_for_sale(rule, store_id="S001", channel="retail", total=Decimal("9.99"), lines=items)
    assert (earning.points, earning.below_minimum) == (0, True)
    assert points(rule, ("grain", "10.00")) == 10


def test_the_version_in_force_at_the_sale_time_applies_however_late_it_arrives() -> None:
    v2 = EarningRule(2, T0, category_multipliers={"tobacco": Decimal(0)})
    v3 = EarningRule(3, T0 + timedelta(days=30), points_per_yuan=Decimal(2))
    rules = [DEFAULT_RULE, v3, v2]
    assert rule_in_force(rules, T0 - timedelta(seconds=1)) is DEFAULT_RULE
    assert rule_in_force(rules, T0) is v2
    assert rule_in_force(rules, T0 + timedelta(days=29)) is v2
    assert rule_in_force(rules, T0 + timedelta(days=31)) is v3


def test_without_any_stored_version_the_default_applies() -> None:
    assert rule_in_force([], T0) is DEFAULT_RULE


def earn_paid(rule: EarningRule, pairs: list[tuple[str, str]], discount: str):
    items = lines(*pairs)
    total = sum((i.amount for i in items), Decimal(0))
    return earn_for_sale(rule, store_id="S001", channel="retail", total=total, lines=items, discount=Decimal(discount))


@pytest.mark.parametrize(("pairs", "discount", "expected"), [
    ([("grain", "120.00")], "20.00", 100),  # 满100减20 on a basket of 120: 100 paid, 100 points
    ([("grain", "79.80")], "10.00", 69),
    ([("grain", "50.00"), ("dairy", "50.00")], "100.00", 0),  # wholly paid by coupons
    ([("grain", "100.00")], "0.00", 100),
])
def test_points_follow_what_was_paid_after_discounts(pairs, discount: str, expected: int) -> None:
    assert earn_paid(DEFAULT_RULE, pairs, discount).points == expected


def test_a_discount_is_spread_over_the_lines_so_an_excluded_category_stays_excluded() -> None:
    rule = EarningRule(version=2, effective_from=T0, category_multipliers={"tobacco": Decimal(0), "fresh": Decimal(2)})
    # Eligible before the discount: 0 + 2 x 50 = 100; a quarter of the sale was discounted.
    earning = earn_paid(rule, [("tobacco", "50.00"), ("fresh", "50.00")], "25.00")
    assert earning.points == 75
    # Returns weigh their lines against the undiscounted eligible amount (see test_returns_rule).
    assert earning.eligible_amount == Decimal("100.00")


@pytest.mark.parametrize(("rate", "pairs", "discount", "expected"), [
    # 100 eligible x 40/120 paid x 3 a yuan = 100 exactly; the paid share rounded first gave 99.
    ("3", [("grain", "100.00"), ("tobacco", "20.00")], "80.00", 100),
    ("1.8", [("grain", "5.00"), ("tobacco", "10.00")], "5.00", 6),  # 5 x 10/15 x 1.8 = 6
    ("0.6", [("grain", "15.00"), ("tobacco", "30.00")], "5.00", 8),  # 15 x 40/45 x 0.6 = 8
])
def test_a_discounted_sale_whose_points_come_out_whole_earns_every_one_of_them(
    rate: str, pairs: list[tuple[str, str]], discount: str, expected: int
) -> None:
    rule = EarningRule(version=2, effective_from=T0, points_per_yuan=Decimal(rate), category_multipliers={"tobacco": Decimal(0)})
    assert earn_paid(rule, pairs, discount).points == expected


def test_the_minimum_sale_amount_is_checked_against_what_was_paid() -> None:
    rule = EarningRule(version=2, effective_from=T0, min_sale_amount=Decimal("50.00"))
    assert earn_paid(rule, [("grain", "60.00")], "10.00").points == 50
    below = earn_paid(rule, [("grain", "60.00")], "10.01")
    assert below.points == 0 and below.below_minimum


def test_a_sale_without_lines_earns_on_its_total_at_the_store_s_rate() -> None:
    rule = EarningRule(version=3, effective_from=T0, store_rates={"S002": Decimal("1.5")},
                       category_multipliers={"tobacco": Decimal(0)})
    earning = earn_for_sale(rule, store_id="S002", channel="retail", total=Decimal("41.00"), lines=[])
    assert (earning.points, earning.eligible_amount) == (61, Decimal("41.00"))


def test_a_sale_imported_without_points_keeps_its_eligible_amount_and_earns_nothing() -> None:
    rule = EarningRule(version=3, effective_from=T0, category_multipliers={"tobacco": Decimal(0)})
    earning = without_points(rule, total=Decimal("30.00"), lines=lines(("tobacco", "10.00"), ("grain", "20.00")))
    assert (earning.points, earning.eligible_amount, earning.rule_version) == (0, Decimal("20.00"), 3)
    assert without_points(rule, total=Decimal("12.00"), lines=[]).eligible_amount == Decimal("12.00")


def test_one_sale_earns_at_most_points_max() -> None:
    from shared.integers import POINTS_MAX

    at_cap = earn_for_sale(DEFAULT_RULE, store_id="S001", channel="retail", total=Decimal("10000000.99"),
                           lines=lines(("grain", "10000000.99")))
    assert (at_cap.points, at_cap.capped) == (POINTS_MAX, False)
    huge = earn_for_sale(DEFAULT_RULE, store_id="S001", channel="retail", total=Decimal("20000000.00"),
                         lines=lines(("grain", "20000000.00")))
    assert (huge.points, huge.capped, huge.eligible_amount) == (POINTS_MAX, True, Decimal("20000000.00"))
    doubled = EarningRule(version=2, effective_from=T0, points_per_yuan=Decimal(2))
    assert earn_for_sale(doubled, store_id="S001", channel="retail", total=Decimal("5000001.00"),
                         lines=lines(("grain", "5000001.00"))).capped
