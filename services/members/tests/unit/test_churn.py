"""Churn risk against each customer's own rhythm."""

from datetime import date, timedelta

import pytest

from members.domain.churn import (
    ChurnThresholds,
    churn_risk,
    effective_risk,
    population_interval,
    raised_by_complaint,
    rhythm_of,
    typical_interval,
)


def every(days: int, count: int, start: date = date(2026, 1, 1)) -> list[date]:
    return [start + timedelta(days=days * i) for i in range(count)]


def test_typical_interval_is_the_median_gap_between_purchase_days() -> None:
    days = [date(2026, 1, 1), date(2026, 1, 8), date(2026, 1, 15), date(2026, 3, 1), date(2026, 3, 8)]
    # gaps 7, 7, 45, 7: one long holiday does not change a weekly rhythm.
    assert typical_interval(days) == 7.0


def test_several_purchases_on_one_day_are_one_trip() -> None:
    days = [date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 11), date(2026, 1, 11), date(2026, 1, 21)]
    assert typical_interval(days) == 10.0


def test_one_purchase_day_has_no_rhythm_of_its_own() -> None:
    assert typical_interval([date(2026, 1, 1), date(2026, 1, 1)]) is None
    assert typical_interval([]) is None


def test_weekly_and_monthly_buyers_absent_equally_long_are_at_different_risks() -> None:
    weekly, monthly = typical_interval(every(7, 10)), typical_interval(every(30, 10))
    assert (weekly, monthly) == (7.0, 30.0)
    assert churn_risk(20, weekly) == "high"  # ratio 2.9
    assert churn_risk(20, monthly) == "low"  # ratio 0.7
    assert churn_risk(40, weekly) == "lost" and churn_risk(40, monthly) == "low"
    assert churn_risk(60, monthly) == "medium" and churn_risk(100, monthly) == "high"
    assert churn_risk(120, monthly) == "lost"


@pytest.mark.parametrize(
    ("days_since", "risk"), [(0, "low"), (14, "low"), (15, "medium"), (24, "medium"), (25, "high"), (39, "high"), (40, "lost")]
)
def test_risk_steps_at_the_configured_ratios(days_since: int, risk: str) -> None:
    assert churn_risk(days_since, 10.0) == risk


def test_thresholds_are_configurable() -> None:
    strict = ChurnThresholds(medium=1.1, high=1.5, lost=2.0)
    assert churn_risk(12, 10.0, strict) == "medium" and churn_risk(20, 10.0, strict) == "lost"
    with pytest.raises(ValueError, match="medium < high < lost"):
        ChurnThresholds(medium=2.0, high=1.5, lost=4.0)


def test_a_daily_shopper_is_not_lost_after_a_few_days_away() -> None:
    daily = typical_interval(every(1, 30))
    assert daily == 1.0
    assert churn_risk(4, daily) == "medium"  # judged against the two-day floor, not one day
    assert churn_risk(8, daily) == "lost"


def test_unknown_without_a_purchase() -> None:
    assert churn_risk(None, None) == "unknown"
    assert rhythm_of([], population=14.0).source == "none"


def test_a_one_time_buyer_is_judged_against_the_population_rhythm() -> None:
    rhythm = rhythm_of([date(2026, 1, 1)], population=population_interval([7.0, 14.0, None, 30.0]))
    assert (rhythm.typical_interval_days, rhythm.source) == (14.0, "population")
    assert rhythm_of(every(5, 3), population=14.0).source == "own"
    assert rhythm_of([date(2026, 1, 1)], population=None).typical_interval_days is None


def test_a_complaint_raises_the_risk_one_step_but_never_to_lost() -> None:
    assert [raised_by_complaint(r) for r in ("low", "medium", "high", "lost")] == ["medium", "high", "high", "lost"]
    assert raised_by_complaint("unknown") == "medium"
    assert effective_risk("low", recent_complaint=False) == "low"
    assert effective_risk("low", recent_complaint=True) == "medium"


def test_a_complaint_raises_each_customer_from_their_own_rhythm_risk() -> None:
    weekly, monthly = typical_interval(every(7, 8)), typical_interval(every(30, 8))
    assert effective_risk(churn_risk(12, weekly), recent_complaint=True) == "high"  # medium, raised
    assert effective_risk(churn_risk(12, monthly), recent_complaint=True) == "medium"  # low, raised
