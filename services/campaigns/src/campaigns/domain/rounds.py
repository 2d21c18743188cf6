"""The periods of the personal offer lists: which one a moment falls in, and when it ends.

A period is `days` of the chain's local calendar, so it starts at local midnight (not at UTC's,
08:00 in Shanghai) and a build at 00:30 on its first day belongs to it, not to the one before.
A round is its period's, and it ends with it: its campaign and its coupons run to the end of the
period's last local day, the moment the next period, and so the next round, begins. Consecutive
rounds never overlap, so a member holds one list and one set of coupons at a time. Pure: no I/O.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.zones import end_of_day

# Periods are numbered from this local date. It is the origin the keys of rounds built before were
# numbered from (by UTC days), so the period a deployment falls in keeps its key and is not built
# twice; with 14 days, periods run Thursday to Wednesday.
EPOCH = date(1970, 1, 1)


def period_of(at: datetime, days: int, zone: ZoneInfo) -> int:
    """The number of the period of `days` the moment `at` falls in, by the chain's local date."""
    return (at.astimezone(zone).date() - EPOCH).days // days


def period_key(at: datetime, days: int, zone: ZoneInfo) -> str:
    """The round's key: one round a period, whoever builds it."""
    return f"period:{period_of(at, days, zone)}"


def last_day(at: datetime, days: int, zone: ZoneInfo) -> date:
    """The local date the period of `at` ends on."""
    return EPOCH + timedelta(days=(period_of(at, days, zone) + 1) * days - 1)


def round_ends(at: datetime, days: int, zone: ZoneInfo) -> datetime:
    """When the round of the period of `at` ends: at the end of its last local day (`end_of_day`,
    an exclusive end), which is where the next period begins."""
    return end_of_day(last_day(at, days, zone), zone)
