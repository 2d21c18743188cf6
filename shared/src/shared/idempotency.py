"""The Idempotency-Key header: one id per intended operation, so that a retry is recognised and
answered with the first outcome instead of being applied twice.

Every service declares the header with this rule, and the console checks the keys it puts in its
own forms by it before sending them on: 8 to 200 characters of printable ASCII. No control
character, so a key can never break the header line it travels in.
"""

import re
from typing import Annotated, Any

from fastapi import Header

MIN_LENGTH, MAX_LENGTH = 8, 200
PATTERN = r"^[\x20-\x7e]+$"
_KEY = re.compile(PATTERN)


def idempotency_key_header(
    description: str = "Unique per intended operation; a retry reuses it", *, max_length: int = MAX_LENGTH,
) -> Any:
    """The header's declaration; `max_length` lower only where a service stores fewer characters."""
    return Header(alias="Idempotency-Key", min_length=MIN_LENGTH, max_length=min(max_length, MAX_LENGTH),
                  pattern=PATTERN, description=description)


IdempotencyKey = Annotated[str, idempotency_key_header()]
OptionalIdempotencyKey = Annotated[str | None, idempotency_key_header()]


def is_idempotency_key(value: str) -> bool:
    return MIN_LENGTH <= len(value) <= MAX_LENGTH and _KEY.fullmatch(value) is not None
