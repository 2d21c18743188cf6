"""Totals rows and bar charts of the console's reports."""

from decimal import Decimal

from gateway.domain.page_figures import bars, interval, pareto, totals


def test_totals_add_decimal_strings_exactly_and_missing_values_as_zero() -> None:
    items = [{"spend": "0.10", "households": 2}, {"spend": "0.20", "households": None}, {"spend": "1234.56"}]
    assert totals(items, ("spend", "households")) == {"spend": Decimal("1234.86"), "households": Decimal(2)}
    assert totals([], ("spend",)) == {"spend": Decimal(0)}


def test_bars_are_scaled_to_the_largest_value_and_limited() -> None:
    items = [{"name": f"c{i}", "households": h} for i, h in enumerate([40, 10, 0, 20])]
    drawn = bars(items, "name", "households", limit=3)
    assert [(b.label, b.value, b.width) for b in drawn] == [("c0", 40, 100.0), ("c1", 10, 25.0), ("c2", 0, 0.0)]
    assert [b.width for b in bars([{"name": "x", "spend": "0.00"}], "name", "spend")] == [0.0]


def test_the_80_20_curve_ranks_customers_by_spend_and_reads_the_top_fifth_share() -> None:
    spends = [Decimal(v) for v in ("10", "80", "0", "5", "5")]  # a customer who spent nothing is left out
    curve = pareto(spends)
    assert curve.points == [(0.0, 0.0), (25.0, 80.0), (50.0, 90.0), (75.0, 95.0), (100.0, 100.0)]
    assert curve.top_fifth_share == 80.0  # the top one of four customers
    assert pareto([]).points == [(0.0, 0.0), (100.0, 0.0)] and pareto([]).top_fifth_share == 0.0


def test_the_top_fifth_is_rounded_up_to_whole_customers_as_the_value_analytics_count_it() -> None:
    # Seven customers: their top fifth is two (1.4 rounded up), as members' `top_share` counts them.
    spends = [Decimal(v) for v in ("70", "60", "50", "40", "30", "20", "10")]
    assert pareto(spends).top_fifth_share == 130 / 280 * 100
    assert pareto(spends, Decimal("0.10")).top_fifth_share == 25.0  # a run with another fraction: 0.7 -> 1


def test_an_uplift_interval_is_placed_on_a_scale_that_includes_zero() -> None:
    drawn = interval(Decimal("100"), Decimal("50"), Decimal("150"))
    assert (drawn.zero, drawn.estimate, drawn.low, drawn.high) == (0.0, 200 / 3, 100 / 3, 100.0)
    across = interval(Decimal("10"), Decimal("-10"), Decimal("30"))
    assert (across.low, across.zero, across.estimate, across.high) == (0.0, 25.0, 50.0, 100.0)
    unknown = interval(Decimal("0"), None, None)
    assert (unknown.zero, unknown.estimate, unknown.low, unknown.high) == (0.0, 0.0, None, None)
