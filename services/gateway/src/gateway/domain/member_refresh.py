"""Members' refresh tokens: a long-lived secret the app trades for a new member token (and a new
refresh token) without another SMS code, rotated at every use.

A refresh token is 256 random bits, kept only as its SHA-256 digest (as client secrets are: nobody
guesses 2^256, so a slow hash would buy nothing). Every token belongs to a family, started by a
sign-in; each use marks the token used and issues the next one of the family. A used token
presented again means two holders (the app and a thief who copied it): the whole family is revoked,
so whichever of them comes next must sign in with a code again (RFC 6819 §5.2.2.3, OAuth 2.0
Security BCP §4.14.2). Unknown, expired, revoked and reused tokens are the same refusal.

A phone on a shop floor loses answers: the app sends the refresh, the answer never arrives, and
the app sends the same token again. Within a short grace after its use, a token presented again
while its family has gone no further (no later token of it used) is that retry (`RETRIED`): the
answer it lost is revoked and another is issued. Later, or once the family went on, it is reuse.
The answer taken for lost was not, if its token comes back: someone holds it (the retry was a
copy's), and that is reuse too (`superseded`).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.errors import ServiceError

TOKEN_BYTES = 32  # 256 bits


class RefreshVerdict(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"  # its family was revoked: logout, reuse, erasure
    REUSED = "reused"  # used before: the family is to be revoked
    RETRIED = "retried"  # used moments ago: a retry of a lost answer, if the family went no further


@dataclass(frozen=True, slots=True)
class StoredRefresh:
    expires_at: datetime
    used_at: datetime | None
    revoked: bool
    superseded: bool = False  # issued in an answer a retry took for lost, and replaced


def new_refresh_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def refresh_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def judge_refresh(stored: StoredRefresh | None, now: datetime, retry_grace: timedelta) -> RefreshVerdict:
    if stored is None:
        return RefreshVerdict.UNKNOWN
    if stored.superseded:
        return RefreshVerdict.REUSED
    if stored.revoked:
        return RefreshVerdict.REVOKED
    if stored.used_at is not None:  # before expiry: a reused token revokes its family even when it is old
        return RefreshVerdict.RETRIED if now - stored.used_at <= retry_grace else RefreshVerdict.REUSED
    if now >= stored.expires_at:
        return RefreshVerdict.EXPIRED
    return RefreshVerdict.VALID


class InvalidRefreshToken(ServiceError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__("the refresh token is not valid; sign in with a new code")
