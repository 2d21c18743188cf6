"""Counting failed attempts per key (a client id, an address) within a sliding window."""

import math
from collections import deque
from datetime import datetime, timedelta


class FailureThrottle:
    """Remembers the times of recent failures per key; a key with `limit` failures within `window`
    is blocked until the oldest of them leaves the window.

    Kept in memory by each replica: with n replicas a key gets up to n times the limit, which is
    still nothing against a 256-bit secret; what it stops is one caller hammering the endpoint."""

    def __init__(self, window: timedelta, limit: int, max_keys: int = 100_000) -> None:
        self.window, self.limit, self.max_keys = window, limit, max_keys
        self._failures: dict[str, deque[datetime]] = {}

    def retry_after(self, key: str, now: datetime) -> int | None:
        """Seconds until `key` may try again, or None when it may try now."""
        times = self._recent(key, now)
        if times is None or len(times) < self.limit:
            return None
        return max(1, math.ceil((times[0] + self.window - now).total_seconds()))

    def fail(self, key: str, now: datetime) -> None:
        if key not in self._failures and len(self._failures) >= self.max_keys:
            self._forget_expired(now)
            if len(self._failures) >= self.max_keys:
                # Flooded with made-up keys: dropping the oldest key's count is the lesser harm
                # than growing without bound.
                self._failures.pop(next(iter(self._failures)))
        times = self._recent(key, now)
        if times is None:
            times = self._failures[key] = deque()
        times.append(now)

    def withdraw(self, key: str, at: datetime) -> None:
        """Takes back one failure counted at `at`: an attempt counted before it was judged (see
        ExchangeGuard) that turned out not to be a failure."""
        times = self._failures.get(key)
        if times and at in times:  # not there once it left the window or its key was cleared
            times.remove(at)
            if not times:
                del self._failures[key]

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: datetime) -> deque[datetime] | None:
        """The key's failures still within the window; None for a key with none on record (a
        look-up must not make an entry, or checking made-up keys would fill the memory)."""
        times = self._failures.get(key)
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def _forget_expired(self, now: datetime) -> None:
        for key in [k for k, times in self._failures.items() if not times or times[-1] <= now - self.window]:
            del self._failures[key]


class ExchangeGuard:
    """Two throttles of one way in: one per client id or login name (someone guessing one till's
    secret or one person's password) and one per caller address (someone trying many of them).
    Used by the token exchange and by staff logins, each with its own limits. Only failures count;
    a success clears its client's count but not its address's, so one valid credential cannot be
    used to reset the budget for guessing others from the same address.

    A caller that awaits while judging an attempt counts it as failed before the await and
    withdraws it once it proves not to be: counted only after, a burst of attempts sent at once
    would all pass `retry_after` before the first of them was counted, however many there were."""

    def __init__(self, window: timedelta, per_client: int, per_address: int) -> None:
        self.clients = FailureThrottle(window, per_client)
        self.addresses = FailureThrottle(window, per_address)

    def retry_after(self, client_id: str, address: str, now: datetime) -> int | None:
        waits = [w for w in (self.clients.retry_after(client_id, now), self.addresses.retry_after(address, now)) if w]
        return max(waits) if waits else None

    def failed(self, client_id: str, address: str, now: datetime) -> None:
        self.clients.fail(client_id, now)
        self.addresses.fail(address, now)

    def withdraw(self, client_id: str, address: str, now: datetime) -> None:
        """Takes back an attempt `failed` counted ahead, at `now`, that was no failure."""
        self.clients.withdraw(client_id, now)
        self.addresses.withdraw(address, now)

    def succeeded(self, client_id: str) -> None:
        self.clients.clear(client_id)


class SignInGuard:
    """Members' SMS-code sign-in: code requests per phone (each one costs an SMS to someone's
    phone) and per address (someone sending codes to many numbers), and wrong codes per address
    (someone guessing codes of many phones; one phone's guesses are bounded by its code's tries).
    Every request counts, not only failures: a request that sends an SMS is the cost."""

    def __init__(
        self, window: timedelta, *, codes_per_phone: int, codes_per_address: int, wrong_codes_per_address: int,
    ) -> None:
        self.phones = FailureThrottle(window, codes_per_phone)
        self.addresses = FailureThrottle(window, codes_per_address)
        self.guesses = FailureThrottle(window, wrong_codes_per_address)

    def code_wait(self, phone_key: str, address: str, now: datetime) -> int | None:
        """Seconds until another code may be asked for this phone from this address, or None."""
        waits = [w for w in (self.phones.retry_after(phone_key, now), self.addresses.retry_after(address, now)) if w]
        return max(waits) if waits else None

    def code_requested(self, phone_key: str, address: str, now: datetime) -> None:
        self.phones.fail(phone_key, now)
        self.addresses.fail(address, now)

    def guess_wait(self, address: str, now: datetime) -> int | None:
        return self.guesses.retry_after(address, now)

    def guessing(self, address: str, now: datetime) -> None:
        """Counts a code about to be judged as wrong, before the judging awaits: a burst of guesses
        sent at once is counted as it comes, as `ExchangeGuard`'s attempts are."""
        self.guesses.fail(address, now)

    def right_code(self, address: str, now: datetime) -> None:
        """Takes back the count of a code `guessing` counted at `now` that proved right."""
        self.guesses.withdraw(address, now)
