"""Tier rules: promotion by lifetime spend, milestones, reviews after returns."""

from datetime import date
from decimal import Decimal

import pytest

from members.domain.tiers import (
    MEMBER,
    VIP,
    TierRules,
    demoted_on_review,
    latest_review_date,
    new_milestones,
    promoted_tier,
)

RULES = TierRules(Decimal("5000.00"), (Decimal("30000.00"), Decimal("50000.00")), (1, 4, 7, 10))


@pytest.mark.parametrize(
    ("spend", "expected"), [("4999.99", None), ("5000.00", VIP), ("12000.00", VIP)]
)
def test_a_member_becomes_vip_at_the_threshold_and_not_before(spend, expected) -> None:
    assert promoted_tier(MEMBER, Decimal(spend), RULES) == expected


def test_a_vip_is_never_promoted_again() -> None:
    assert promoted_tier(VIP, Decimal("60000.00"), RULES) is None


def test_the_threshold_is_configurable() -> None:
    rules = TierRules(Decimal("8000.00"), (), (1,))
    assert promoted_tier(MEMBER, Decimal("7999.99"), rules) is None
    assert promoted_tier(MEMBER, Decimal("8000.00"), rules) == VIP


def test_a_review_demotes_only_vips_whose_spend_fell_below_the_threshold() -> None:
    assert demoted_on_review(VIP, Decimal("4999.99"), RULES) == MEMBER
    assert demoted_on_review(VIP, Decimal("5000.00"), RULES) is None
    assert demoted_on_review(MEMBER, Decimal("10.00"), RULES) is None


def test_milestones_are_reached_once_each_and_one_sale_may_cross_several() -> None:
    assert new_milestones(Decimal("29999.99"), RULES, []) == []
    assert new_milestones(Decimal("30000.00"), RULES, []) == [Decimal("30000.00")]
    assert new_milestones(Decimal("51000.00"), RULES, []) == [Decimal("30000.00"), Decimal("50000.00")]
    assert new_milestones(Decimal("51000.00"), RULES, [Decimal("30000.00")]) == [Decimal("50000.00")]
    assert new_milestones(Decimal("80000.00"), RULES, [Decimal("30000.00"), Decimal("50000.00")]) == []


def test_milestones_already_reached_stay_reached_when_spend_drops() -> None:
    # A return below 30,000 after both were reached announces nothing and withdraws nothing.
    assert new_milestones(Decimal("20000.00"), RULES, [Decimal("30000.00"), Decimal("50000.00")]) == []


@pytest.mark.parametrize(
    ("today", "review"),
    [
        (date(2026, 11, 23), date(2026, 10, 1)),
        (date(2026, 10, 1), date(2026, 10, 1)),
        (date(2026, 9, 30), date(2026, 7, 1)),
        (date(2027, 1, 1), date(2027, 1, 1)),
        (date(2026, 3, 31), date(2026, 1, 1)),
    ],
)
def test_the_latest_review_is_the_first_day_of_the_last_review_month(today, review) -> None:
    assert latest_review_date(today, (1, 4, 7, 10)) == review


def test_a_yearly_review_month_reaches_back_into_last_year() -> None:
    assert latest_review_date(date(2026, 5, 5), (7,)) == date(2025, 7, 1)


@pytest.mark.parametrize(
    ("threshold", "milestones", "months"),
    [("0", (), (1,)), ("5000", ("-1",), (1,)), ("5000", (), ()), ("5000", (), (13,))],
)
def test_nonsense_rules_are_refused(threshold, milestones, months) -> None:
    with pytest.raises(ValueError):
        TierRules(Decimal(threshold), tuple(Decimal(m) for m in milestones), months)
