"""Password hashing with argon2id (argon2-cffi, RFC 9106's low-memory profile: 64 MiB, 3 passes).

A hash takes tens of milliseconds of one core on purpose: it is what makes guessing from a stolen
table slow. It runs in a worker thread so that the event loop keeps serving other requests meanwhile.

The profile is the gateway's `password_hashing` setting: RFC 9106's everywhere but in the test
suite, whose thousands of throwaway accounts each cost a hash and a login; the settings refuse the
test profile outside `CRM_ENVIRONMENT=test`."""

import asyncio
import secrets
from functools import cache
from typing import Literal

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY

Hashing = Literal["rfc9106-low-memory", "test-minimal"]
PROFILES: dict[Hashing, Parameters] = {"rfc9106-low-memory": RFC_9106_LOW_MEMORY, "test-minimal": CHEAPEST}


@cache
def _hasher(profile: Hashing) -> PasswordHasher:
    return PasswordHasher.from_parameters(PROFILES[profile])


@cache
def _dummy_hash(profile: Hashing) -> str:
    """A hash of nothing anyone knows, checked when the login is unknown, so that an unknown login
    costs the same hash as a wrong password and the time taken does not tell them apart."""
    return _hasher(profile).hash(secrets.token_urlsafe(24))


async def hash_password(password: str, profile: Hashing) -> str:
    return await asyncio.to_thread(_hasher(profile).hash, password)


async def verify_password(password: str, stored: str | None, profile: Hashing) -> bool:
    """Whether `password` matches `stored`; with no stored hash, the same work for a certain no."""
    return await asyncio.to_thread(_verify, password, stored, profile)


def _verify(password: str, stored: str | None, profile: Hashing) -> bool:
    try:
        return _hasher(profile).verify(stored if stored is not None else _dummy_hash(profile), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, profile: Hashing) -> bool:
    """True for a hash made with other parameters than the profile's: rehashed at the next good login."""
    return _hasher(profile).check_needs_rehash(stored)
