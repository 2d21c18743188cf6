"""Figures the console's reports show beside their tables: totals rows and a bar chart."""

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
