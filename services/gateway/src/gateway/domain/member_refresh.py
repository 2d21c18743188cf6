"""Members' refresh tokens: a long-lived secret the app trades for a new member token (and a new
refresh token) without another SMS code, rotated at every use.

A refresh token is 256 random bits, kept only as its SHA-256 digest (as client secrets are: nobody
guesses 2^256, so a slow hash would buy nothing). Every token belongs to a family, started by a
sign-in; each use marks the token used and issues the next one of the family. A used token
presented again means two holders (the app and a thief who copied it): the whole family is revoked,
so whichever of them comes next must sign in with a code again (RFC 6819 §5.2.2.3, OAuth 2.0
Security BCP §4.14.2). Unknown, expired, revoked and reused tokens are the same refusal.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.errors import ServiceError

TOKEN_BYTES = 32  # 256 bits


class RefreshVerdict(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"  # its family was revoked: logout, reuse, erasure
    REUSED = "reused"  # used before: the family is to be revoked


@dataclass(frozen=True, slots=True)
class StoredRefresh:
    expires_at: datetime
    used: bool
    revoked: bool


def new_refresh_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def refresh_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def judge_refresh(stored: StoredRefresh | None, now: datetime) -> RefreshVerdict:
    if stored is None:
        return RefreshVerdict.UNKNOWN
    if stored.revoked:
        return RefreshVerdict.REVOKED
    if stored.used:  # before expiry: a reused token revokes its family even when it is old
        return RefreshVerdict.REUSED
    if now >= stored.expires_at:
        return RefreshVerdict.EXPIRED
    return RefreshVerdict.VALID


class InvalidRefreshToken(ServiceError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__("the refresh token is not valid; sign in with a new code")
