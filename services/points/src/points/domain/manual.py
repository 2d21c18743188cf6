"""Caps on manual bookings (adjustments and bonuses) by staff whose reach is one store.

A store manager may move at most `per_entry` points in one entry and `per_day` points in one
business day, both counted as absolute points (taking points away is capped like giving them).
The day is the chain's business day (Asia/Shanghai by default), the same day the gift register
and the stores work by, so the cap resets at local midnight rather than at 08:00. Beyond the caps
only a caller whose reach is the whole chain (an admin) may book.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from points.domain.exceptions import CapExceeded
from shared.zones import end_of_day, start_of_day


@dataclass(frozen=True)
class ManualCaps:
    per_entry: int
    per_day: int
    zone: ZoneInfo

    def day_of(self, at: datetime) -> tuple[datetime, datetime]:
        """The business day `at` falls in, as [start, end) instants."""
        day = at.astimezone(self.zone).date()
        return start_of_day(day, self.zone), end_of_day(day, self.zone)

    def check(self, points: int, booked_today: int) -> None:
        """CapExceeded if `points` in one more entry breaks a cap, given what was booked today."""
        moved = abs(points)
        if moved > self.per_entry:
            raise CapExceeded(
                f"{moved} points exceed the cap of {self.per_entry} points per manual entry "
                "(CRM_MANUAL_ENTRY_CAP); an admin may book it"
            )
        if booked_today + moved > self.per_day:
            raise CapExceeded(
                f"{moved} more points would exceed the daily cap of {self.per_day} points per staff member "
                f"(CRM_MANUAL_DAILY_CAP; {booked_today} booked today); an admin may book it"
            )
