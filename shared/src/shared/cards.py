"""Points card numbers.

Cards the members service issues are 13 digits with a Luhn check digit (it catches most mistyped
digits at the desk); `luhn_check_digit` is that rule. A card number *accepted* from a client or a
POS is only checked for its shape, not its check digit: cards printed before the Luhn scheme, and
partner cards, are still in customers' wallets and must keep working at the till.
"""

from typing import Annotated

from pydantic import BeforeValidator, StringConstraints

from shared.text import half_width

# 4 to 32 letters or digits. The published POS contract states it as lengths plus a pattern, so
# the type keeps that form: its JSON Schema is part of the contract and may not change. Read in
# capitals: a card printed "QA12B" and typed "qa12b" at a till is the same card, where it was a
# card nobody held (the sale credited to no one), or later a second customer's. Typed in full-width
# mode (８８００１２３４, pasted into a bulk bonus from a spreadsheet) it is the same card in ASCII, as
# `crm import-sales` and a phone already read it; the validator before the constraints leaves the
# schema as it was.
CardNumber = Annotated[str, StringConstraints(min_length=4, max_length=32, pattern=r"^[0-9A-Za-z]+$", to_upper=True),
                       BeforeValidator(half_width)]


def luhn_check_digit(body: str) -> str:
    """The digit that, appended to `body` (digits only), makes the whole number pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def has_valid_check_digit(number: str) -> bool:
    """Whether a number of digits ends in its Luhn check digit."""
    return len(number) > 1 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]
