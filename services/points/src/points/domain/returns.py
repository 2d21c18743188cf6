"""How many points a return takes back.

The returned lines are weighed with the same rule version that priced the sale (so returning
tobacco that earned nothing takes nothing back), and the reversal is proportional to their share of
the sale's eligible amount. It is computed on the cumulative returned amount, so several partial
returns add up to exactly what the sale earned when everything has come back, and never more.

A return never takes back more than is still open of the sale's earning: what it earned, less what
of it the expiry job already took (`domain.expiry.expired_from`), less what earlier returns took.
Expired points are gone from the balance already; taking them back again would take other, valid
points in their place (a fully expired 2024 sale returned in 2026 took 10,000 of the member's
points a second time and left the balance at -9,500). Points of the sale that were spent on a gift
are still taken back: the member kept the gift (the balance may go negative, as documented).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class SaleEarned:
    points: int
    eligible_amount: Decimal
    returned_eligible: Decimal = Decimal(0)
    reversed_points: int = 0
    # Of `points`, what the expiry job has taken (expire entries), by the ledger's replay.
    expired_points: int = 0

    @property
    def open_points(self) -> int:
        """What a return may still take back: earned, less expired, less reversed before."""
        return max(0, self.points - self.expired_points - self.reversed_points)


def points_earned_by(sale: SaleEarned, returned_eligible: Decimal) -> int:
    """The points the returned goods earned: their share of the sale's points, on the cumulative
    returned amount, less what earlier returns took (expiry aside)."""
    if sale.points == 0 or sale.eligible_amount <= 0:
        return 0
    cumulative = min(sale.eligible_amount, sale.returned_eligible + returned_eligible)
    target = int((Decimal(sale.points) * cumulative / sale.eligible_amount).to_integral_value(rounding=ROUND_HALF_UP))
    return max(0, min(sale.points, target) - sale.reversed_points)


def points_to_reverse(sale: SaleEarned, returned_eligible: Decimal) -> int:
    """What the return takes back: what the returned goods earned, capped at what is still open of
    the sale's earning (expired points are not taken twice; see the module's docstring)."""
    return min(points_earned_by(sale, returned_eligible), sale.open_points)
