"""Service entitlements granted by lifetime spend (e.g. free home visits to collect leftover
materials): a milestone sets the member's total, it never adds to it, so a repeated or late
milestone event can never grant more than the table says. A milestone reached through a chain's
past sales loaded by an import grants nothing (`earns_bonus`)."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum

from points.domain.exceptions import NothingLeft


class EntitlementKind(StrEnum):
    """The entitlements the chain grants. A use of a kind that is not one of them is a mistyped
    request (422 naming the kind), not "none left" of something nobody can ever be granted."""

    LEFTOVER_COLLECTION_VISIT = "leftover_collection_visit"


LEFTOVER_COLLECTION = EntitlementKind.LEFTOVER_COLLECTION_VISIT
# The chain's regulation: 30,000 yuan of lifetime spend gives 1 visit, 50,000 gives 2 in total.
DEFAULT_VISITS_BY_MILESTONE: Mapping[Decimal, int] = {Decimal("30000.00"): 1, Decimal("50000.00"): 2}


def total_for_milestone(milestone: Decimal, table: Mapping[Decimal, int]) -> int:
    """The total a member reaching `milestone` is entitled to: the highest row at or below it."""
    return max((total for threshold, total in table.items() if threshold <= milestone), default=0)


def earns_bonus(*, imported: bool) -> bool:
    """Whether a milestone grants its entitlements: not when imported past sales reached it, since
    the old system rewarded it already, whatever the import said about points for the sales."""
    return not imported


def granted_after(current_total: int, milestone: Decimal, table: Mapping[Decimal, int]) -> int:
    return max(current_total, total_for_milestone(milestone, table))


def check_use(granted: int, used: int) -> None:
    if used >= granted:
        raise NothingLeft(f"no use left: {used} of {granted} already used")


def used_in_future(used_on: date, today: date) -> bool:
    """A use is booked for a visit that took place: on `today` (the chain's business date, where
    the stores are) at the latest. A date ahead is a typo that would spend the visit for good."""
    return used_on > today
