"""Churn risk measured against each customer's own buying rhythm.

Method (also in the members README):
- A customer's purchase days are the distinct local calendar days on which they made a purchase
  that was not fully returned; several receipts on one day are one shopping trip.
- Their typical interval is the median of the gaps between consecutive purchase days. The median
  ignores the odd holiday or the odd double trip that an average would be dragged by. It needs two
  purchase days; with only one, the chain-wide median of everyone's typical interval stands in
  (rhythm source "population"); with none, the risk is "unknown".
- The interval is never taken as shorter than `min_interval_days`: a customer who shops every day
  is not lost after four days away.
- ratio = days since the last purchase day / typical interval. Below `medium` (1.5) is low, below
  `high` (2.5) medium, below `lost` (4) high, from `lost` on the customer counts as lost.
- A complaint filed within the complaint window raises the risk one step (low -> medium -> high;
  high and lost stay). A complaint from a customer whose rhythm is unknown makes them "medium":
  the complaint is itself the first sign we have.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from statistics import median
from typing import Literal

ChurnRisk = Literal["low", "medium", "high", "lost", "unknown"]
RhythmSource = Literal["own", "population", "none"]

@dataclass(frozen=True)
class ChurnThresholds:
    medium: float = 1.5
    high: float = 2.5
    lost: float = 4.0
    min_interval_days: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.medium < self.high < self.lost:
            raise ValueError("churn thresholds must satisfy 0 < medium < high < lost")
        if self.min_interval_days < 1:
            raise ValueError("min_interval_days must be at least one day")


@dataclass(frozen=True)
class Rhythm:
    typical_interval_days: float | None
    source: RhythmSource


def typical_interval(purchase_days: Sequence[date]) -> float | None:
    """Median gap in days between consecutive distinct purchase days (sorted); None below two."""
    days = sorted(set(purchase_days))
    if len(days) < 2:
        return None
    return float(median((b - a).days for a, b in pairwise(days)))


def population_interval(intervals: Iterable[float | None]) -> float | None:
    """The chain-wide typical interval: the median over customers who have their own rhythm."""
    known = [i for i in intervals if i is not None]
    return float(median(known)) if known else None


def rhythm_of(purchase_days: Sequence[date], population: float | None) -> Rhythm:
    own = typical_interval(purchase_days)
    if own is not None:
        return Rhythm(own, "own")
    if purchase_days and population is not None:
        return Rhythm(population, "population")
    return Rhythm(None, "none")


def churn_risk(
    days_since_last_purchase: int | None,
    typical_interval_days: float | None,
    thresholds: ChurnThresholds = ChurnThresholds(),
) -> ChurnRisk:
    """The risk that a customer is drifting away, from how overdue their next trip is."""
    if days_since_last_purchase is None or typical_interval_days is None:
        return "unknown"
    ratio = max(days_since_last_purchase, 0) / max(typical_interval_days, thresholds.min_interval_days)
    if ratio < thresholds.medium:
        return "low"
    if ratio < thresholds.high:
        return "medium"
    if ratio < thresholds.lost:
        return "high"
    return "lost"


def raised_by_complaint(risk: ChurnRisk) -> ChurnRisk:
    """One step up for a customer who recently complained. "lost" is only ever read from the
    rhythm (a complaint is a sign the customer is still there), so high stays high."""
    match risk:
        case "unknown" | "low":
            return "medium"
        case "medium":
            return "high"
        case _:
            return risk


def effective_risk(rhythm_risk: ChurnRisk, recent_complaint: bool) -> ChurnRisk:
    return raised_by_complaint(rhythm_risk) if recent_complaint else rhythm_risk
