"""Time zones: a zone's name as configured or given by a client, and a local time made aware in one.

A zone name is checked against the IANA database where it is read (settings at start-up, a
request's field with a 422 naming it), so a misspelt `Asia/Shangai` never reaches the first report
that would have failed on it.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, Field

from shared.errors import Invalid


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
    try:
        back = aware.astimezone(UTC).astimezone(zone)
    except OverflowError:  # a year typed as 0001 or 9999, next to the calendar's ends
        raise ValueError(_out_of_range(local, zone)) from None
    if back.replace(tzinfo=None) != local:
        raise ValueError(f"the clocks of {zone.key} skipped {local.isoformat()}; give its UTC offset")
    if aware.utcoffset() != local.replace(tzinfo=zone, fold=1).utcoffset():
        raise ValueError(f"the clocks of {zone.key} showed {local.isoformat()} twice; give its UTC offset")
    return aware


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The moment the local `day` begins in `zone`."""
    return datetime.combine(day, time(), zone)


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The moment the local `day` ends in `zone`, when the next one begins: what "until the end of
    <day>" means to a customer, and the open end of a range of business days."""
    return start_of_day(day + timedelta(days=1), zone)


def end_of_local_day(at: datetime, zone: ZoneInfo, days_later: int = 0) -> datetime:
    """The end of the local day in `zone` `days_later` calendar days after the one the moment `at`
    falls on (`end_of_day`): "valid for 7 days" counted in the chain's days, whatever its clocks do."""
    return end_of_day(at.astimezone(zone).date() + timedelta(days=days_later), zone)


def _on_the_calendar(value: datetime) -> datetime:
    # A day's margin either side: a moment a day from the calendar's ends is shown and compared
    # in any zone (UTC-12 to UTC+14) without overflowing.
    try:
        (value - timedelta(days=1)).astimezone(UTC)
        (value + timedelta(days=1)).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is outside the years 1 to 9999") from None
    return value


# A moment a client gives (a rule's start, a gift's dates, a job's `as_of`): with its UTC offset,
# and far enough from the calendar's ends to be stored in UTC and shown in any zone; at the ends it
# would be a server error where it is stored or shown, instead of a 422 naming the field.
Moment = Annotated[AwareDatetime, AfterValidator(_on_the_calendar)]


def moment_of(value: datetime, zone: ZoneInfo) -> datetime:
    """The moment a date and time given by a person names: by its own UTC offset, else as `zone`'s
    wall-clock time (`in_zone`). ValueError for one that is no moment in both UTC and `zone`
    within the years 1 to 9999 (`0001-01-01T00:00+08:00`): it would otherwise fail later, where it
    is compared or shown, as a server error instead of a refusal naming the field."""
    moment = value if value.tzinfo is not None else in_zone(value, zone)
    try:
        moment.astimezone(UTC)
        moment.astimezone(zone)
    except OverflowError:
        raise ValueError(_out_of_range(value, zone)) from None
    return moment


def typed_moment(name: str, text: str, zone: ZoneInfo) -> datetime | None:
    """The moment a person typed in field `name` (a form's or a query's `YYYY-MM-DDTHH:MM`, as a
    datetime-local input sends it: `zone`'s wall-clock time unless it gives its offset); None when
    left empty; anything else is a refusal naming the field."""
    text = text.strip()
    if not text:
        return None
    try:
        typed = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(name, "not a date and time (YYYY-MM-DDTHH:MM)") from None
    try:
        return moment_of(typed, zone)
    except ValueError as exc:  # no moment at all there (a time the clocks skipped, beyond the calendar)
        raise Invalid(name, str(exc)) from None


def _out_of_range(value: datetime, zone: ZoneInfo) -> str:
    return f"{value.isoformat()} is outside the years 1 to 9999 in {zone.key} or in UTC"
