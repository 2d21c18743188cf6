"""Coupon codes as customers and tills type them.

Codes are upper-case letters and digits. The campaigns service mints member codes from an alphabet
without look-alikes (no 0/O, 1/I) and with a check character (`campaigns.domain.codes`); a generic
code chosen by marketing (e.g. "SPRING20") only has to have this shape. Tills may send lower case or
surrounding spaces; the type normalises both so the same code is the same string everywhere.
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints


def _normalise(value: Any) -> Any:
    # Before the constraints, not with StringConstraints(to_upper=True): pydantic checks `pattern`
    # before it upper-cases, so "spring20" would be refused instead of read as "SPRING20".
    return value.strip().upper() if isinstance(value, str) else value


CouponCode = Annotated[
    str,
    StringConstraints(min_length=4, max_length=32, pattern=r"^[0-9A-Z]+$"),
    BeforeValidator(_normalise),  # last, so that it wraps the constrained string and runs first
]
