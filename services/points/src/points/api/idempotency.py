"""The Idempotency-Key header, required or optional: one request id per intended operation."""

from typing import Annotated

from fastapi import Header

IdempotencyKey = Annotated[
    str, Header(alias="Idempotency-Key", min_length=8, max_length=200, description="Unique per intended operation; retries reuse it")
]
OptionalIdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=8, max_length=200)]
