"""Exponential backoff with jitter for reconnect loops."""

import random


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
