"""Figures the console's reports show beside their tables: totals rows and a bar chart."""

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


def totals(items: list[dict[str, Any]], fields: tuple[str, ...]) -> dict[str, Decimal]:
    """The sum of each field over the items (amounts come as decimal strings from the services)."""
    return {field: sum((Decimal(str(item.get(field) or 0)) for item in items), Decimal(0)) for field in fields}


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: Decimal
    width: float  # 0..100, of the chart's width


def bars(items: list[dict[str, Any]], label: str, value: str, limit: int = 20) -> list[Bar]:
    """The first `limit` items as horizontal bars scaled to the largest value."""
    shown = items[:limit]
    values = [Decimal(str(item.get(value) or 0)) for item in shown]
    top = max([Decimal(0), *values])
    return [Bar(str(item.get(label, "")), v, float(v / top * 100) if top > 0 else 0.0) for item, v in zip(shown, values, strict=True)]


@dataclass(frozen=True, slots=True)
class Pareto:
    """The 80/20 curve: cumulative share of spend (y, %) against the share of customers ranked by
    spend (x, %), and where the top fifth of the customers reaches."""

    points: list[tuple[float, float]]
    top_fifth_share: float


def pareto(spends: list[Decimal], top_fraction: Decimal = Decimal("0.20")) -> Pareto:
    """`top_fraction` is the value analytics' (`CRM_ANALYTICS_TOP_FRACTION`), and the top share is
    counted as members counts its `top_share`, rounded up to whole customers: the curve's caption
    and the run's summary on the same page then agree (rounded to nearest, 7 customers' top fifth
    was 1 customer here and 2 there)."""
    ranked = sorted((s for s in spends if s > 0), reverse=True)
    whole = sum(ranked, Decimal(0))
    if not ranked or whole <= 0:
        return Pareto([(0.0, 0.0), (100.0, 0.0)], 0.0)
    points, running = [(0.0, 0.0)], Decimal(0)
    for i, spend in enumerate(ranked, start=1):
        running += spend
        points.append((i / len(ranked) * 100, float(running / whole * 100)))
    fifth = max(1, math.ceil(len(ranked) * top_fraction))
    return Pareto(points, float(sum(ranked[:fifth], Decimal(0)) / whole * 100))


@dataclass(frozen=True, slots=True)
class Interval:
    """An uplift and its confidence interval on a scale from `low` to `high` that includes zero:
    x positions (0..100) of the zero line, the estimate and the interval's ends."""

    zero: float
    estimate: float
    low: float | None
    high: float | None


def interval(difference: Decimal, low: Decimal | None, high: Decimal | None) -> Interval:
    values = [difference, Decimal(0), *(v for v in (low, high) if v is not None)]
    lo, hi = min(values), max(values)
    span = hi - lo or Decimal(1)

    def x(value: Decimal | None) -> float | None:
        return None if value is None else float((value - lo) / span * 100)

    return Interval(x(Decimal(0)) or 0.0, x(difference) or 0.0, x(low), x(high))
