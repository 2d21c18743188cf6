"""Free text from clients (names, addresses, descriptions, notes): clean Unicode only.

A NUL character is refused by PostgreSQL text columns (a server error there, silently kept on
SQLite), and a lone surrogate cannot be encoded as UTF-8 at all; both are refused here with a
422 naming the field, so no service stores or echoes them. Other control characters except tab
and line breaks are refused too, the C1 controls (U+0080-U+009F, U+0085 among them) as well: they
have no place in a name or a note and break CSV exports and the terminals logs are read in.
So are the controls that override the direction of text (U+202A-U+202E, U+2066-U+2069): a name
holding one is shown to staff reordered, as another name or an id that is not its own.
"""

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str) -> str:
    if match := _FORBIDDEN.search(value):
        char = match.group()
        if "\ud800" <= char <= "\udfff":
            what = "a lone surrogate"
        elif char >= "\u202a":
            what = f"the text-direction control U+{ord(char):04X}"
        else:
            what = f"control character U+{ord(char):04X}"
        raise ValueError(f"must not contain {what}")
    return value


Text = Annotated[str, AfterValidator(clean_text)]


def _says_something(value: str) -> bool:
    # Whitespace says nothing, and neither do the invisible format characters (zero-width spaces
    # and joiners, the byte order mark): a name of them alone is listed and printed as if missing.
    return any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in value)


def non_blank(value: str) -> str:
    """Clean text that says something."""
    if not _says_something(value):
        raise ValueError("must not be blank")
    return clean_text(value)


def stripped_not_blank(value: str) -> str:
    """A field validator for `Text` that is stored stripped and must say something."""
    value = value.strip()
    if not _says_something(value):
        raise ValueError("must not be blank")
    return value


# A name or a title people read in lists and messages (a campaign, a coupon template, a
# promotion): a name of spaces would be stored, listed and sent in SMS as if it were missing. The
# surrounding whitespace is stripped first (StringConstraints must come before the validator to
# strip at all), so what is stored is what is shown and a field's `max_length` counts the stripped
# text. A field gives no `min_length`: that would answer a blank name with "at least 1 character".
NonBlankText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(non_blank)]

# A sku or a category a client names in a rule matched against the till's sale lines (a coupon's
# limits, a promotion): read by the till's own rule for a line's sku (`SaleLineIn._sku`), so
# " 6901234567890" is the "6901234567890" the till sends, and one of spaces, which names no item, is
# refused. The length is checked on the text as sent, as the till's is: after `clean_text`, pydantic
# would word a long one as "at most 64 items".
ItemCode = Annotated[str, StringConstraints(max_length=64), AfterValidator(clean_text), AfterValidator(stripped_not_blank)]


# What a Chinese input method left in full-width mode types (２０２１／３／５　１４：０２, ＱＡ１２, ￥ aside):
# the same characters in ASCII. For codes and numbers (a card number, a sale's id and amounts in an
# import); names and other words keep what they were written with.
FULL_WIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: 0x20}


def half_width(value: Any) -> Any:
    """Text typed in full-width mode in ASCII (`FULL_WIDTH`); anything else as it is."""
    return value.translate(FULL_WIDTH) if isinstance(value, str) else value
