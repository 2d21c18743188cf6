"""Password hashing with argon2id (argon2-cffi, RFC 9106's low-memory profile: 64 MiB, 3 passes).

A hash takes tens of milliseconds of one core on purpose: it is what makes guessing from a stolen
table slow. It runs in a worker thread so that the event loop keeps serving other requests meanwhile."""

import asyncio
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash of nothing anyone knows, checked when the login is unknown, so that an unknown login
    costs the same hash as a wrong password and the time taken does not tell them apart."""
    return _HASHER.hash(secrets.token_urlsafe(24))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches `stored`; with no stored hash, the same work for a certain no."""
    return await asyncio.to_thread(_verify, password, stored)


def _verify(password: str, stored: str | None) -> bool:
    try:
        return _HASHER.verify(stored if stored is not None else _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for a hash made with weaker parameters than today's: rehashed at the next good login."""
    return _HASHER.check_needs_rehash(stored)
