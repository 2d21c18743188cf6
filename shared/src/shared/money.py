"""Money and quantities: Decimal with a fixed scale, never float."""

from decimal import ROUND_DOWN, Decimal
from typing import Annotated

from pydantic import AfterValidator, Field

CENT = Decimal("0.01")


def _to_cents(value: Decimal) -> Decimal:
    # Normalise "79.8" and "79.80" to one representation so that payload digests and
    # comparisons do not depend on how a POS happened to print the number. Adding 0 drops the
    # sign of a negative zero: a till computing in floats sends -0.0 for a free line, which is
    # not below zero, and its retry printing 0 is the same sale (and no event carries "-0.00").
    return value.quantize(CENT) + 0


# CNY amount: two decimals at most, never negative; JSON numbers and strings are both accepted.
Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False),
    AfterValidator(_to_cents),
]

# A sum of amounts (a member's lifetime spend, a window's spend): as wide as the BIGINT of fen that
# stores it, 15 digits of yuan. Summed from amounts of up to 12 digits each, a sum typed `Money` could
# be refused when its event was built, after the sales that made it had been accepted.
MoneyTotal = Annotated[
    Decimal,
    Field(ge=0, max_digits=17, decimal_places=2, allow_inf_nan=False),
    AfterValidator(_to_cents),
]

# Quantity sold: weighed goods have up to three decimals (kilograms); zero is meaningless.
Quantity = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3, allow_inf_nan=False)]


# A rate or multiplier (points per yuan, a channel's or category's factor): finite, never
# negative, at most 4 decimals and 4 integer digits, so that "1e309" is a 422 rather than an
# overflow in the arithmetic behind it.
Rate = Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=4, allow_inf_nan=False)]


def whole_yuan(amount: Decimal) -> int:
    return int(amount.to_integral_value(rounding=ROUND_DOWN))
