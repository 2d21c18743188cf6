"""Report periods and days as clients name them. Year 0000 matches a naive `\\d{4}` but is no date
Python can build, and a report runs to the first day after its period, which for December 9999 is
none either (a server error deep in a report): the years here run from 1000 to 9998."""

from datetime import date
from typing import Annotated, TypeVar

from pydantic import AfterValidator

from shared.errors import Invalid
from shared.strict import StrictDate

Day = TypeVar("Day", date, str)  # a day, or a month or quarter written as text (YYYY-MM orders as text)

_YEAR = r"([1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
MONTH_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])$"
QUARTER_PATTERN = rf"^{_YEAR}-Q[1-4]$"

FIRST_DAY, LAST_DAY = date(1000, 1, 1), date(9998, 12, 31)


def _within_the_years(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be a date from {FIRST_DAY} to {LAST_DAY}")
    return day


# A day a report starts or ends on, written YYYY-MM-DD.
ReportDay = Annotated[StrictDate, AfterValidator(_within_the_years)]


def in_order(first: Day | None, last: Day | None, *, first_name: str = "from", last_name: str = "to") -> None:
    """A span a report is asked for ends no earlier than it starts: one that ends before it starts
    holds nothing, and is answered as the mistake it is (422 naming its end), not as an empty report."""
    if first is not None and last is not None and last < first:
        raise Invalid(last_name, f"must not be before {first_name}")
