"""Coupon codes as customers and tills type them.

Codes are upper-case letters and digits. The campaigns service mints member codes from an alphabet
without look-alikes (no 0/O, 1/I) and with a check character (`campaigns.domain.codes`); a generic
code chosen by marketing (e.g. "SPRING20") only has to have this shape. Tills may send lower case or
surrounding spaces; the type normalises both so the same code is the same string everywhere.
"""

from typing import Annotated

from pydantic import StringConstraints

CouponCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=4, max_length=32, pattern=r"^[0-9A-Z]+$")
]
