"""80/20 value classes over the analytics window.

Customers are ranked by net spend in the window (highest first):
- key: the smallest top set whose spend reaches `key_share` (80%) of all spend in the window;
- secondary: the following customers, until `secondary_share` (95%) is reached;
- ordinary: every other customer with spend;
- none: no net spend in the window (nothing bought, or everything returned).
Customers with equal spend are never split between two classes: the group of equal spenders that
crosses a boundary belongs wholly to the higher class (so "smallest" is among tie-respecting sets).
The share of spend of the top `top_fraction` (20%) of spending customers (rounded up to a whole
customer) is reported beside, as the classic check of the 80/20 rule.
"""

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby
from typing import Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)
ValueClass = Literal["key", "secondary", "ordinary", "none"]
SHARE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class ClassBoundaries:
    key_share: Decimal = Decimal("0.80")
    secondary_share: Decimal = Decimal("0.95")
    top_fraction: Decimal = Decimal("0.20")

    def __post_init__(self) -> None:
        if not Decimal(0) < self.key_share < self.secondary_share <= Decimal(1):
            raise ValueError("class boundaries must satisfy 0 < key_share < secondary_share <= 1")
        if not Decimal(0) < self.top_fraction <= Decimal(1):
            raise ValueError("top_fraction must be in (0, 1]")


@dataclass(frozen=True)
class Classification(Generic[K]):
    classes: dict[K, ValueClass]
    total_spend: Decimal
    buyers: int
    top_share: Decimal  # share of spend of the top `top_fraction` of buyers
    key_share: Decimal  # share of spend the key customers actually hold
    # The lowest spend that still makes a customer key / secondary (None when the class is empty).
    key_min_spend: Decimal | None
    secondary_min_spend: Decimal | None
    counts: dict[ValueClass, int] = field(default_factory=dict)


def classify(spend: Mapping[K, Decimal], boundaries: ClassBoundaries = ClassBoundaries()) -> Classification[K]:
    classes: dict[K, ValueClass] = {k: "none" for k, s in spend.items() if s <= 0}
    buyers = sorted(((s, k) for k, s in spend.items() if s > 0), key=lambda p: p[0], reverse=True)
    total = sum((s for s, _ in buyers), Decimal("0.00"))
    key_target, secondary_target = total * boundaries.key_share, total * boundaries.secondary_share
    cumulative = Decimal("0.00")
    minimum: dict[ValueClass, Decimal] = {}
    key_spend = Decimal("0.00")
    for amount, group in groupby(buyers, key=lambda p: p[0]):
        members = [k for _, k in group]
        if cumulative < key_target:
            cls: ValueClass = "key"
            key_spend += amount * len(members)
        elif cumulative < secondary_target:
            cls = "secondary"
        else:
            cls = "ordinary"
        minimum[cls] = amount
        classes.update((k, cls) for k in members)
        cumulative += amount * len(members)
    top_n = math.ceil(len(buyers) * boundaries.top_fraction)
    top_spend = sum((s for s, _ in buyers[:top_n]), Decimal("0.00"))
    counts: dict[ValueClass, int] = {"key": 0, "secondary": 0, "ordinary": 0, "none": 0}
    for cls in classes.values():
        counts[cls] += 1
    return Classification(
        classes=classes,
        total_spend=total,
        buyers=len(buyers),
        top_share=_share(top_spend, total),
        key_share=_share(key_spend, total),
        key_min_spend=minimum.get("key"),
        secondary_min_spend=minimum.get("secondary"),
        counts=counts,
    )


def _share(part: Decimal, total: Decimal) -> Decimal:
    return (part / total).quantize(SHARE_PLACES) if total else Decimal("0.0000")
