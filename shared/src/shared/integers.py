"""Integers from clients: bounded to what the databases store (BIGINT, SQLite's INTEGER).

An unbounded `int` lets `?offset=99999999999999999999999` or a 30-digit id reach the driver, which
fails with a server error; bounded here, it is a 422 naming the parameter. Routes add their own
narrower limits (`Query(ge=0)`, `le=500`) on top.
"""

from typing import Annotated

import annotated_types as at

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# Any integer a client sends: offsets, limits, row ids, points, quantities.
Int64 = Annotated[int, at.Interval(ge=INT64_MIN, le=INT64_MAX)]
