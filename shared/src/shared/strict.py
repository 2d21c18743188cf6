"""Booleans and dates from clients, taken only as JSON writes them: never guessed from another type.

Pydantic's lax mode reads `"yes"`, `"on"`, `"1"` or `1` as true, and `0` or `"0"` as the date
1970-01-01 (a Unix timestamp). Where the value books something real (a consent recorded as given,
a birthday stored), a guess is worse than a refusal: a client that sent `"yes"` or `0` has a bug or
is not ours, and a 422 naming the field tells it so. These types refuse anything but JSON `true` /
`false`, and anything but an ISO date string `YYYY-MM-DD`.

Python values of the right type pass too, so a model built from another model's values (the app's
sign-up copied into a registration) is validated the same way. A `datetime` is no date here, though
it is one in Python: JSON never produces one, and its time would be silently dropped.
"""

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

# ASCII digits only: `\d` would also match the digits of other scripts (full-width ones).
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _json_bool_only(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    raise ValueError("must be true or false (a JSON boolean), not a string or a number")


def _iso_date_only(value: Any) -> Any:
    if type(value) is date or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value  # the string's month and day are then checked by pydantic's date parsing
    raise ValueError("must be a date written YYYY-MM-DD")


StrictBool = Annotated[bool, BeforeValidator(_json_bool_only)]
StrictDate = Annotated[date, BeforeValidator(_iso_date_only)]
