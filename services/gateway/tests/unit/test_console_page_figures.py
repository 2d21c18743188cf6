"""Totals rows and bar charts of the console's reports."""

from decimal import Decimal

from gateway.domain.page_figures import bars, totals


def test_totals_add_decimal_strings_exactly_and_missing_values_as_zero() -> None:
    items = [{"spend": "0.10", "households": 2}, {"spend": "0.20", "households": None}, {"spend": "1234.56"}]
    assert totals(items, ("spend", "households")) == {"spend": Decimal("1234.86"), "households": Decimal(2)}
    assert totals([], ("spend",)) == {"spend": Decimal(0)}


def test_bars_are_scaled_to_the_largest_value_and_limited() -> None:
    items = [{"name": f"c{i}", "households": h} for i, h in enumerate([40, 10, 0, 20])]
    drawn = bars(items, "name", "households", limit=3)
    assert [(b.label, b.value, b.width) for b in drawn] == [("c0", 40, 100.0), ("c1", 10, 25.0), ("c2", 0, 0.0)]
    assert [b.width for b in bars([{"name": "x", "spend": "0.00"}], "name", "spend")] == [0.0]
