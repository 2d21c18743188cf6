"""Integers from clients: bounded to what the databases store (BIGINT, SQLite's INTEGER).

An unbounded `int` lets `?offset=99999999999999999999999` or a 30-digit id reach the driver, which
fails with a server error; bounded here, it is a 422 naming the parameter. Routes add their own
narrower limits (`Query(ge=0)`, `le=500`) on top.
"""

from typing import Annotated

from pydantic import AfterValidator, Field, Strict

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _within_64_bits(value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("must fit in 64 bits (between -2**63 and 2**63-1)")
    return value


# Any integer a client sends: offsets, limits, row ids, points, quantities. A validator rather
# than ge/le constraints, which would collide with a field's own `Field(ge=0)` and silently
# replace it.
Int64 = Annotated[int, AfterValidator(_within_64_bits)]

# The most points one entry, gift price or compensation may move: far beyond any real sale,
# gift or apology, small enough that a mistyped or forged figure is refused where it enters — by
# the API and by the event contracts alike.
POINTS_MAX = 10_000_000

# Points a client sends are JSON integers and nothing else: without strict mode pydantic takes
# `true` for 1 and "5" for 5, and a script or form sending the wrong type booked points nobody typed.
Points = Annotated[int, Strict(), Field(ge=0, le=POINTS_MAX)]
# Points that must be more than none (a bonus): its own bound, so -5 is refused as "greater than 0",
# the rule, not as Points' "greater than or equal to 0".
PositivePoints = Annotated[int, Strict(), Field(gt=0, le=POINTS_MAX)]
# A change of a balance (a manual adjustment): taking away as well as giving, strict like Points.
PointsChange = Annotated[int, Strict(), Field(ge=-POINTS_MAX, le=POINTS_MAX)]

# A rating a person gave, 1 (poor) to 5 (very good): a survey's scores, a tracking form's effect
# evaluation. Strict for the same reason: lax mode saves `true` as a rating of 1 nobody gave.
Rating = Annotated[int, Strict(), Field(ge=1, le=5)]
# How likely a customer is to recommend the store, 0 (not at all) to 10 (extremely): a survey's
# net promoter score, where 9 and 10 are promoters and 0 to 6 detractors. Strict like Rating.
NpsScore = Annotated[int, Strict(), Field(ge=0, le=10)]
