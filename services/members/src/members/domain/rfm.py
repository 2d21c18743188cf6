"""RFM scores: recency, frequency and monetary value, each 1-5, over the analytics window.

Only customers who bought something (net of returns) in the window are scored, against each
other; everyone else scores 0 on all three (the published contract allows 0 for "no purchase in
the window"). A score is the customer's quintile by percentile rank: 1 + floor(5 * w / n), where
n is the number of scored customers and w the number of them with a strictly worse value. So tied
customers always share a score, the best fifth of distinct values score 5, and when everyone is
tied (or only one customer bought) everyone scores 1: nobody stands out.

Recency is days since the last purchase day (fewer is better), frequency the number of distinct
purchase days in the window, monetary the net spend in the window.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Activity:
    """What one customer did in the window."""

    days_since_last_purchase: int
    purchase_days: int
    spend: Decimal


@dataclass(frozen=True)
class Rfm:
    recency: int = 0
    frequency: int = 0
    monetary: int = 0


NO_PURCHASE = Rfm()


def quintile_scores(values: Mapping[K, int | Decimal], *, higher_is_better: bool = True) -> dict[K, int]:
    n = len(values)
    ordered = sorted(values.values())
    scores: dict[K, int] = {}
    for key, value in values.items():
        worse = bisect_left(ordered, value) if higher_is_better else n - bisect_right(ordered, value)
        scores[key] = 1 + (5 * worse) // n
    return scores


def rfm_scores(activity: Mapping[K, Activity]) -> dict[K, Rfm]:
    """Scores of the customers who bought in the window (pass only those)."""
    r = quintile_scores({k: a.days_since_last_purchase for k, a in activity.items()}, higher_is_better=False)
    f = quintile_scores({k: a.purchase_days for k, a in activity.items()})
    m = quintile_scores({k: a.spend for k, a in activity.items()})
    return {k: Rfm(r[k], f[k], m[k]) for k in activity}
