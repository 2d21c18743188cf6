"""Customers' phone numbers: mainland China mobile numbers, 11 digits starting 13 to 19.

Staff work phones (landlines with area codes, extensions) follow another rule, in members.
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints

# ASCII digits only: `\d` would take full-width and other scripts' digits too, and one number so
# written would be another to the per-phone limits and to the look-up of the member holding it.
PHONE_PATTERN = r"^1[3-9][0-9]{9}$"
# A Chinese input method left in full-width mode types ０-９: the same digits, so the same number
# once written in ASCII (every limit and look-up then sees one number). Digits of other scripts
# are not what anyone here types by mistake, and stay refused.
# People write a number in groups, "139 5235 3871" or "139-5235-3871" (a desk clerk copying it off
# a form, a customer typing it in the app): the separators are no part of the number, dropped too.
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋", "0123456789+", " \u3000-")
# China's country code, as a number copied from an international form or a phone's contact card is
# written: "+86 139 5235 3871", "0086-139...". It is no part of the number members keeps.
_COUNTRY_CODES = ("+86", "0086")


def as_ascii_digits(value: Any) -> Any:
    """A phone as typed: full-width digits in ASCII; spaces (full-width ones too) and hyphens,
    around it or between its groups of digits, dropped; China's country code before it dropped."""
    if not isinstance(value, str):
        return value
    number = value.translate(_FULL_WIDTH_DIGITS).strip()
    for code in _COUNTRY_CODES:
        if number.startswith(code) and len(number) == len(code) + 11:
            return number[len(code):]
    return number


# The validator after the constraints runs before them, and keeps the pattern in the JSON Schema.
Phone = Annotated[str, StringConstraints(pattern=PHONE_PATTERN), BeforeValidator(as_ascii_digits)]
