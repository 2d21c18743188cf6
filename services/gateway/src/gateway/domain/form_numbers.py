"""Whole numbers typed into the console's forms, passed on to the services' JSON APIs."""

# More digits than any field takes (a 64-bit integer has 19), and far short of the 4,300 beyond
# which Python refuses to read an integer: a box of 5,000 nines was a server error, not the
# field's refusal.
_MOST_DIGITS = 30


def typed_number(text: str) -> int | str:
    """`text` as the JSON number the API takes when it is a whole number in ASCII digits; anything
    else (a sign, a decimal point, full-width digits, too many digits) as typed, for the service to
    refuse naming its field."""
    return int(text) if len(text) <= _MOST_DIGITS and text.isascii() and text.isdigit() else text
