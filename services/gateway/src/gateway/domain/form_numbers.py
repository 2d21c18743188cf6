"""Whole numbers typed into the console's forms, passed on to the services' JSON APIs."""

import re

# More digits than any field takes (a 64-bit integer has 19), and far short of the 4,300 beyond
# which Python refuses to read an integer: a box of 5,000 nines was a server error, not the
# field's refusal.
_MOST_DIGITS = 30
# ASCII digits, with a minus sign where one was typed: -5 is a number the service refuses as below
# its bound ("greater than 0"), not text it refuses as no whole number.
_WHOLE = re.compile(rf"-?[0-9]{{1,{_MOST_DIGITS}}}")


def typed_number(text: str) -> int | str:
    """`text` as the JSON number the API takes when it is a whole number in ASCII digits; anything
    else (a plus sign, a decimal point, full-width digits, too many digits) as typed, for the
    service to refuse naming its field."""
    return int(text) if _WHOLE.fullmatch(text) else text
