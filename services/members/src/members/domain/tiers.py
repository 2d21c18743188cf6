"""Service tiers by lifetime spend: VIP promotion, spend milestones and the periodic tier review.

Policy for returns: a return that takes a VIP's lifetime spend back below the threshold does not
demote them at once. Tiers are kept until the next review date (by default the first day of each
quarter, in the chain's time zone); the review demotes every VIP whose spend is then below the
threshold. A customer is never promoted and demoted back and forth by a purchase and its return,
and the account manager keeps a stable list between reviews. Milestones are never withdrawn: the
free collection visits they grant belong to the points service once announced.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

MEMBER = "member"
VIP = "vip"


@dataclass(frozen=True)
class TierRules:
    vip_threshold: Decimal
    milestones: tuple[Decimal, ...]
    review_months: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.vip_threshold <= 0:
            raise ValueError("vip_threshold must be positive")
        if any(m <= 0 for m in self.milestones):
            raise ValueError("spend milestones must be positive")
        if not self.review_months or any(not 1 <= m <= 12 for m in self.review_months):
            raise ValueError("tier review months must be months 1-12, at least one")


def promoted_tier(tier: str, lifetime_spend: Decimal, rules: TierRules) -> str | None:
    """The tier a member moves up to after their spend grew, or None when nothing changes."""
    if tier != VIP and lifetime_spend >= rules.vip_threshold:
        return VIP
    return None


def demoted_on_review(tier: str, lifetime_spend: Decimal, rules: TierRules) -> str | None:
    """The tier a VIP falls back to at a review because returns lowered their spend, or None."""
    if tier == VIP and lifetime_spend < rules.vip_threshold:
        return MEMBER
    return None


def new_milestones(lifetime_spend: Decimal, rules: TierRules, reached: Iterable[Decimal]) -> list[Decimal]:
    """Milestones at or below the spend that were not reached before, lowest first: one large
    sale may cross several at once, and each is announced on its own."""
    already = {Decimal(m) for m in reached}
    return sorted(m for m in set(rules.milestones) if m <= lifetime_spend and m not in already)


def latest_review_date(today: date, review_months: Sequence[int]) -> date:
    """The most recent review date on or before `today` (the first day of a review month)."""
    candidates = [date(today.year, m, 1) for m in review_months if date(today.year, m, 1) <= today]
    if candidates:
        return max(candidates)
    return date(today.year - 1, max(review_months), 1)
