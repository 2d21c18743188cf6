"""RFM quintile scoring over the analytics window."""

from decimal import Decimal

from members.domain.rfm import NO_PURCHASE, Activity, Rfm, quintile_scores, rfm_scores


def test_ten_distinct_values_fall_into_five_equal_quintiles() -> None:
    scores = quintile_scores({f"m{i}": i for i in range(10)})
    assert [scores[f"m{i}"] for i in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_tied_customers_share_the_score_of_the_lowest_of_them() -> None:
    scores = quintile_scores({"a": 1, "b": 1, "c": 1, "d": 1, "e": 5, "f": 9})
    assert scores["a"] == scores["b"] == scores["c"] == scores["d"] == 1
    assert scores["e"] == 1 + (5 * 4) // 6 == 4
    assert scores["f"] == 1 + (5 * 5) // 6 == 5


def test_when_nobody_stands_out_everyone_scores_one() -> None:
    assert set(quintile_scores({"a": 3, "b": 3, "c": 3}).values()) == {1}
    assert quintile_scores({"only": Decimal("100.00")}) == {"only": 1}


def test_recency_rewards_the_most_recent_buyer() -> None:
    scores = quintile_scores({"yesterday": 1, "last_week": 7, "last_month": 30, "last_year": 300}, higher_is_better=False)
    assert scores["yesterday"] > scores["last_week"] > scores["last_month"] > scores["last_year"] == 1


def test_rfm_scores_each_dimension_independently() -> None:
    activity = {
        "loyal": Activity(days_since_last_purchase=2, purchase_days=40, spend=Decimal("900.00")),
        "big_once": Activity(days_since_last_purchase=200, purchase_days=1, spend=Decimal("5000.00")),
        "regular": Activity(days_since_last_purchase=10, purchase_days=12, spend=Decimal("300.00")),
        "lapsed": Activity(days_since_last_purchase=300, purchase_days=2, spend=Decimal("20.00")),
        "new": Activity(days_since_last_purchase=1, purchase_days=1, spend=Decimal("50.00")),
    }
    scores = rfm_scores(activity)
    assert scores["loyal"] == Rfm(recency=4, frequency=5, monetary=4)
    assert scores["big_once"] == Rfm(recency=2, frequency=1, monetary=5)
    assert scores["new"].recency == 5 and scores["new"].frequency == 1
    assert scores["lapsed"] == Rfm(recency=1, frequency=3, monetary=1)


def test_customers_without_a_purchase_in_the_window_score_zero_everywhere() -> None:
    assert NO_PURCHASE == Rfm(0, 0, 0)
    assert rfm_scores({}) == {}
