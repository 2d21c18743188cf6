"""Time zones: a zone's name as configured or given by a client, and a local time made aware in one.

A zone name is checked against the IANA database where it is read (settings at start-up, a
request's field with a 422 naming it), so a misspelt `Asia/Shangai` never reaches the first report
that would have failed on it.
"""

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone of the IANA database, e.g. Asia/Shanghai") from None
    return name


TimeZoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_known_zone)]


def in_zone(local: datetime, zone: ZoneInfo) -> datetime:
    """`local`, a wall-clock time without an offset, as the moment it was in `zone`. A time the
    zone's clocks skipped or showed twice (a change to or from summer time) is no one moment:
    ValueError, which says to give the offset."""
    aware = local.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        raise ValueError(f"the clocks of {zone.key} skipped {local.isoformat()}; give its UTC offset")
    if aware.utcoffset() != local.replace(tzinfo=zone, fold=1).utcoffset():
        raise ValueError(f"the clocks of {zone.key} showed {local.isoformat()} twice; give its UTC offset")
    return aware
