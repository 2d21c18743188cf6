"""Account manager evaluation: average purchase, new customers, ranking and the quarterly flag."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from members.domain.evaluation import ManagerFigures, month_period, quarter_period, rank_by_store, rank_store


def figures(manager_id: str, spend: str, purchases: int, new: int, store: str = "S001") -> ManagerFigures:
    return ManagerFigures(manager_id, store, tracked_customers=5, spend=Decimal(spend), purchases=purchases, new_customers=new)


def test_average_purchase_is_spend_per_purchase_in_cents() -> None:
    assert figures("a", "1000.00", 3, 0).average_purchase == Decimal("333.33")
    assert figures("a", "0.00", 0, 0).average_purchase == Decimal("0.00")


def test_managers_are_ranked_by_the_sum_of_their_ranks_on_both_figures() -> None:
    ranked = rank_store([
        figures("high-average", "3000.00", 10, 1),   # average 300 (rank 1), new 1 (rank 3)
        figures("many-new", "1000.00", 10, 9),       # average 100 (rank 3), new 9 (rank 1)
        figures("balanced", "2000.00", 10, 5),       # average 200 (rank 2), new 5 (rank 2)
        figures("weakest", "500.00", 10, 0),         # average 50 (rank 4), new 0 (rank 4)
    ])
    # Three managers share a score of 4; the higher average wins the tie.
    assert [r.figures.manager_id for r in ranked] == ["high-average", "balanced", "many-new", "weakest"]
    assert [r.rank for r in ranked] == [1, 2, 3, 4]
    assert [r.score for r in ranked] == [4, 4, 4, 8]


def test_equal_figures_share_a_rank_and_the_order_is_stable_by_staff_id() -> None:
    ranked = rank_store([figures("b", "100.00", 1, 1), figures("a", "100.00", 1, 1)])
    assert [(r.figures.manager_id, r.average_rank, r.new_customers_rank) for r in ranked] == [("a", 1, 1), ("b", 1, 1)]


def test_the_quarterly_evaluation_flags_the_lowest_manager_of_each_store() -> None:
    by_store = rank_by_store([
        figures("s1-good", "900.00", 3, 4, "S001"), figures("s1-poor", "100.00", 3, 0, "S001"),
        figures("s2-only", "10.00", 1, 0, "S002"),
    ], flag_lowest=True)
    assert [(r.figures.manager_id, r.flagged) for r in by_store["S001"]] == [("s1-good", False), ("s1-poor", True)]
    # A store's only manager is not "the lowest" of anyone.
    assert [r.flagged for r in by_store["S002"]] == [False]


def test_monthly_rankings_flag_nobody() -> None:
    ranked = rank_store([figures("a", "900.00", 3, 4), figures("b", "100.00", 3, 0)])
    assert not any(r.flagged for r in ranked)


def test_periods_are_local_calendar_months_and_quarters() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    december = month_period(2026, 12)
    assert december.label == "2026-12" and december.next_first_day == date(2027, 1, 1)
    start, end = december.bounds(zone)
    assert start.astimezone(UTC) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    q4 = quarter_period(2026, 4)
    assert (q4.label, q4.first_day, q4.next_first_day) == ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1))
    assert quarter_period(2026, 1).next_first_day == date(2026, 4, 1)


@pytest.mark.parametrize(("year", "month"), [(2026, 0), (2026, 13)])
def test_a_month_outside_1_to_12_is_refused(year, month) -> None:
    with pytest.raises(ValueError):
        month_period(year, month)
