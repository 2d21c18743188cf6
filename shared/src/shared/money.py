"""Money and quantities: Decimal with a fixed scale, never float."""

import re
from decimal import ROUND_DOWN, Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

CENT = Decimal("0.01")

# A number sent as text is a decimal as tills print them: digits with a decimal point, a minus
# sign (a negative amount is then refused as below zero, not as unreadable), an exponent (a till
# printing Python's normalised Decimal sends "2E+1" for 20). Python's Decimal reads more, "1_000"
# as 1000 and " +12.5 " as 12.5, which no till or spreadsheet means as an amount and an import of
# old sales must not take as one. JSON numbers are numbers already.
_PLAIN = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_NON_FINITE = frozenset({"NaN", "nan", "Infinity", "infinity", "Inf", "inf"})  # left to the finite check, which names them


def _plain(value: Any) -> Any:
    if isinstance(value, str) and not _PLAIN.fullmatch(value) and value.lstrip("-") not in _NON_FINITE:
        raise PydanticCustomError("decimal_parsing", "Input should be a valid decimal")
    return value


Plain = BeforeValidator(_plain)


def _places_first(places: int) -> BeforeValidator:
    """Says "too many decimal places" before pydantic's count of digits in total would: a till
    summing in floats sends 0.30000000000000004, whose fault is its decimals, not its length."""

    def check(value: Any) -> Any:
        if isinstance(value, (str, float, int, Decimal)) and not isinstance(value, bool):
            try:
                exponent = Decimal(str(value)).normalize().as_tuple().exponent
            except (ArithmeticError, ValueError):  # unreadable, or an int too long to print: left to pydantic
                return value
            if isinstance(exponent, int) and -exponent > places:
                raise PydanticCustomError(
                    "decimal_max_places", "Decimal input should have no more than {decimal_places} decimal places",
                    {"decimal_places": places})
        return value

    return BeforeValidator(check)


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
    _places_first(2),
    Plain,
]

# An amount that must be more than nothing (a price, a coupon's value, a cap): its own bound, so a
# negative one is refused as "greater than 0", the rule, not as Money's "greater than or equal to 0".
PositiveMoney = Annotated[
    Decimal,
    Field(gt=0, max_digits=14, decimal_places=2, allow_inf_nan=False),
    AfterValidator(_to_cents),
    _places_first(2),
    Plain,
]

# A sum of amounts (a member's lifetime spend, a window's spend): as wide as the BIGINT of fen that
# stores it, 15 digits of yuan. Summed from amounts of up to 12 digits each, a sum typed `Money` could
# be refused when its event was built, after the sales that made it had been accepted.
MoneyTotal = Annotated[
    Decimal,
    Field(ge=0, max_digits=17, decimal_places=2, allow_inf_nan=False),
    AfterValidator(_to_cents),
    _places_first(2),
    Plain,
]

# Quantity sold: weighed goods have up to three decimals (kilograms); zero is meaningless.
Quantity = Annotated[
    Decimal, Field(gt=0, max_digits=12, decimal_places=3, allow_inf_nan=False), _places_first(3), Plain,
]


# A rate or multiplier (points per yuan, a channel's or category's factor): finite, never
# negative, at most 4 decimals and 4 integer digits, so that "1e309" is a 422 rather than an
# overflow in the arithmetic behind it.
Rate = Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=4, allow_inf_nan=False), _places_first(4), Plain]
# A rate that must be more than nothing (points per yuan): its own bound, as `PositiveMoney`'s.
PositiveRate = Annotated[Decimal, Field(gt=0, max_digits=8, decimal_places=4, allow_inf_nan=False), _places_first(4), Plain]


def whole_yuan(amount: Decimal) -> int:
    return int(amount.to_integral_value(rounding=ROUND_DOWN))
