"""Service recovery: what a resolution may grant, and the once-per-complaint rule.

Points are booked by the points service keyed by complaint id, so a complaint can carry one
compensation only: a complaint that is reopened and resolved again publishes its new resolution
without compensation, and asking for more is refused rather than silently dropped.

Amounts beyond the caps are bad input (422 on the field: no state of the complaint would let them
pass); a complaint already compensated, anonymous, or of an erased member is a state of the
complaint (409).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from shared.errors import Conflict, Invalid


class CompensationRefused(Conflict):
    pass


@dataclass(frozen=True)
class Compensation:
    points: int = 0
    coupon_value: Decimal | None = None

    @property
    def grants_anything(self) -> bool:
        return self.points > 0 or bool(self.coupon_value)


def check_compensation(
    wanted: Compensation, *, member_id: str | None, already_granted_at: datetime | None,
    max_points: int, max_coupon: Decimal, zone: ZoneInfo, member_erased: bool = False,
) -> None:
    """Refuses what `wanted` may not grant; the time of an earlier grant is told in the chain's
    `zone` (with its offset), as the staff who granted it saw it."""
    if not wanted.grants_anything:
        return
    if wanted.points > max_points:
        raise Invalid("compensation.points", f"{wanted.points} exceeds the limit of {max_points} (CRM_COMPENSATION_POINTS_MAX)")
    if wanted.coupon_value is not None and wanted.coupon_value > max_coupon:
        raise Invalid("compensation.coupon_value",
                      f"{wanted.coupon_value} exceeds the limit of {max_coupon} (CRM_COMPENSATION_COUPON_MAX)")
    if already_granted_at is not None:
        raise CompensationRefused(
            f"compensation was already granted on {already_granted_at.astimezone(zone).isoformat(timespec='minutes')}; "
            "a complaint is compensated once"
        )
    if member_id is None:
        raise CompensationRefused("compensation needs a member; this complaint is anonymous")
    if member_erased:
        raise CompensationRefused("compensation needs a member; the complaint's member is erased")
