"""80/20 value classes and the share of the top 20% of customers."""

from decimal import Decimal

import pytest

from members.domain.value_classes import ClassBoundaries, classify

D = Decimal


def test_key_customers_are_the_smallest_top_set_reaching_80_percent_of_spend() -> None:
    spend = {"a": D("500"), "b": D("300"), "c": D("100"), "d": D("60"), "e": D("40")}
    result = classify(spend)
    # a+b = 800 of 1000 reaches 80% exactly; c takes it to 90%, d to 96% (past 95%).
    assert result.classes == {"a": "key", "b": "key", "c": "secondary", "d": "secondary", "e": "ordinary"}
    assert result.key_min_spend == D("300") and result.secondary_min_spend == D("60")
    assert result.key_share == D("0.8000") and result.total_spend == D("1000")


def test_the_customer_who_crosses_the_line_is_key() -> None:
    result = classify({"a": D("700"), "b": D("200"), "c": D("100")})
    assert result.classes == {"a": "key", "b": "key", "c": "secondary"}


def test_customers_with_equal_spend_are_never_split_between_classes() -> None:
    result = classify({"a": D("400"), "b": D("200"), "c": D("200"), "d": D("200")})
    # a+b reaches 60%, one more 200 would reach 80%: all three equal spenders become key.
    assert result.classes == {"a": "key", "b": "key", "c": "key", "d": "key"}
    assert result.counts == {"key": 4, "secondary": 0, "ordinary": 0, "none": 0}


def test_customers_without_net_spend_in_the_window_are_class_none() -> None:
    result = classify({"a": D("100"), "idle": D("0.00"), "all_returned": D("0.00")})
    assert result.classes["idle"] == result.classes["all_returned"] == "none"
    assert result.buyers == 1 and result.counts["none"] == 2


def test_share_of_the_top_20_percent_is_reported() -> None:
    spend = {f"m{i}": D(v) for i, v in enumerate([600, 200, 50, 50, 25, 25, 20, 10, 10, 10])}
    result = classify(spend)
    assert result.top_share == D("0.8000")  # the top 2 of 10 hold 800 of 1000


def test_the_top_20_percent_is_rounded_up_to_a_whole_customer() -> None:
    result = classify({"a": D("50"), "b": D("30"), "c": D("20")})
    assert result.top_share == D("0.5000")  # one customer of three


def test_boundaries_are_configurable() -> None:
    spend = {"a": D("500"), "b": D("300"), "c": D("100"), "d": D("60"), "e": D("40")}
    result = classify(spend, ClassBoundaries(key_share=D("0.50"), secondary_share=D("0.90")))
    assert result.classes == {"a": "key", "b": "secondary", "c": "secondary", "d": "ordinary", "e": "ordinary"}


def test_nobody_spent_anything() -> None:
    result = classify({"a": D("0.00")})
    assert result.top_share == D("0.0000") and result.key_min_spend is None and result.classes == {"a": "none"}


@pytest.mark.parametrize(("key", "secondary"), [("0.95", "0.80"), ("0", "0.5"), ("0.8", "1.2")])
def test_inconsistent_boundaries_are_refused(key: str, secondary: str) -> None:
    with pytest.raises(ValueError, match="key_share"):
        ClassBoundaries(key_share=D(key), secondary_share=D(secondary))
