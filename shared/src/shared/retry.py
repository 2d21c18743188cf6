"""Exponential backoff with jitter for reconnect loops, and the words they report a failure in."""

import random

from sqlalchemy.exc import DBAPIError


class Backoff:
    def __init__(self, first: float = 0.2, cap: float = 10.0) -> None:
        self.first, self.cap = first, cap
        self._current = first

    def next(self) -> float:
        delay = self._current
        self._current = min(self._current * 2, self.cap)
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._current = self.first


def failure_reason(exc: BaseException) -> str:
    """What failed, on one line an operator can read in a readiness answer or a 503: the driver's
    own words for a database error (SQLAlchemy's message adds the statement, its parameters, which
    may be a customer's, and a link), words for a timeout (whose message is empty), and the class
    named once (aiokafka's errors already begin with it)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None and str(exc.orig).strip():
        return f"{type(exc.orig).__name__}: {str(exc.orig).strip().splitlines()[0]}"
    if isinstance(exc, TimeoutError) and not str(exc):
        return "TimeoutError: no answer in time"
    name, message = type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return message if message.startswith(name) else f"{name}: {message}" if message else name
