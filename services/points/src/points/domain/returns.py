"""How many points a return takes back.

The returned lines are weighed with the same rule version that priced the sale (so returning
tobacco that earned nothing takes nothing back), and the reversal is proportional to their share of
the sale's eligible amount. It is computed on the cumulative returned amount, so several partial
returns add up to exactly what the sale earned when everything has come back, and never more.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class SaleEarned:
    points: int
    eligible_amount: Decimal
    returned_eligible: Decimal = Decimal(0)
    reversed_points: int = 0


def points_to_reverse(sale: SaleEarned, returned_eligible: Decimal) -> int:
    if sale.points == 0 or sale.eligible_amount <= 0:
        return 0
    cumulative = min(sale.eligible_amount, sale.returned_eligible + returned_eligible)
    target = int((Decimal(sale.points) * cumulative / sale.eligible_amount).to_integral_value(rounding=ROUND_HALF_UP))
    return max(0, min(sale.points, target) - sale.reversed_points)
