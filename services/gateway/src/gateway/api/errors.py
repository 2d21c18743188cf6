"""Errors in the same shape FastAPI gives for body validation, so clients parse one format."""

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError


def invalid_field(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("body", field), "msg": message, "input": None}])


def conflict(message: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, message)
