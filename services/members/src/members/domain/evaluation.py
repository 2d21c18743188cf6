"""Account manager evaluation (客户经理考核): monthly figures, ranking per store, quarterly flag.

Two figures per manager and period: the average purchase amount of the customers they track (net
spend of those customers' purchases in the period / number of those purchases) and the number of
new customers registered in the communities they cover. The two are on different scales, so the
ranking adds each manager's rank on both (1 = best; equal values share a rank) and orders by that
sum; ties go to the higher average, then to more new customers, then to the staff id so the order
is stable. The quarterly evaluation ranks the same figures over the whole quarter and flags the
lowest-ranked manager of each store with at least two managers (a store's only manager is not
"lowest" of anyone).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal

from shared.money import CENT


@dataclass(frozen=True)
class ManagerFigures:
    manager_id: str
    store_id: str
    tracked_customers: int
    spend: Decimal
    purchases: int
    new_customers: int

    @property
    def average_purchase(self) -> Decimal:
        if self.purchases == 0:
            return Decimal("0.00")
        return (self.spend / self.purchases).quantize(CENT)


@dataclass(frozen=True)
class RankedManager:
    figures: ManagerFigures
    average_rank: int
    new_customers_rank: int
    rank: int
    flagged: bool = False

    @property
    def score(self) -> int:
        return self.average_rank + self.new_customers_rank


def _competition_ranks(values: Sequence[Decimal | int]) -> list[int]:
    """Rank 1 for the highest value; equal values share a rank ("1224" ranking)."""
    return [1 + sum(1 for other in values if other > v) for v in values]


def rank_store(figures: Sequence[ManagerFigures], *, flag_lowest: bool = False) -> list[RankedManager]:
    """The managers of one store, best first."""
    averages = _competition_ranks([f.average_purchase for f in figures])
    news = _competition_ranks([f.new_customers for f in figures])
    scored = sorted(
        zip(figures, averages, news, strict=True),
        key=lambda t: (t[1] + t[2], -t[0].average_purchase, -t[0].new_customers, t[0].manager_id),
    )
    ranked = [RankedManager(f, a, n, rank=i) for i, (f, a, n) in enumerate(scored, start=1)]
    if flag_lowest and len(ranked) >= 2:
        last = ranked[-1]
        ranked[-1] = RankedManager(last.figures, last.average_rank, last.new_customers_rank, last.rank, flagged=True)
    return ranked


def rank_by_store(figures: Sequence[ManagerFigures], *, flag_lowest: bool = False) -> dict[str, list[RankedManager]]:
    stores: dict[str, list[ManagerFigures]] = defaultdict(list)
    for f in figures:
        stores[f.store_id].append(f)
    return {store: rank_store(group, flag_lowest=flag_lowest) for store, group in sorted(stores.items())}


@dataclass(frozen=True)
class Period:
    label: str
    first_day: date
    next_first_day: date

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) of the period as aware datetimes in the chain's time zone."""
        start = datetime(self.first_day.year, self.first_day.month, 1, tzinfo=zone)
        end = datetime(self.next_first_day.year, self.next_first_day.month, 1, tzinfo=zone)
        return start, end


def _month_after(year: int, month: int) -> date:
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


def month_period(year: int, month: int) -> Period:
    if not 1 <= month <= 12:
        raise ValueError("month must be 1-12")
    return Period(f"{year:04d}-{month:02d}", date(year, month, 1), _month_after(year, month))


def quarter_period(year: int, quarter: int) -> Period:
    if not 1 <= quarter <= 4:
        raise ValueError("quarter must be 1-4")
    first_month = 3 * (quarter - 1) + 1
    return Period(f"{year:04d}-Q{quarter}", date(year, first_month, 1), _month_after(year, first_month + 2))
