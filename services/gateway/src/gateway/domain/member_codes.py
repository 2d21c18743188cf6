"""One-time sign-in codes for members: what a code is, how it is kept, and when it is accepted.

A code is 6 random digits sent by SMS to the phone being proved. It is kept only as an HMAC, keyed
with the platform's phone pepper, of the phone's digest and the code: a stolen table cannot be
matched against the million possible codes without the pepper. A phone has at most one code: a new
request replaces the one before (whose tries and expiry go with it). A code lives `CODE_TTL` and
allows `MAX_TRIES` attempts; the attempt that uses it up, a wrong code, an expired one and one used
before are all the same refusal, so the answer never says which of them it was (nor whether the
phone belongs to a member).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.errors import ServiceError

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"  # counts one try
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # no tries left
    USED = "used"
    NONE = "none"  # no code was asked for this phone


@dataclass(frozen=True, slots=True)
class StoredCode:
    digest: str
    expires_at: datetime
    tries_left: int
    used: bool


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(pepper: str, phone_digest: str, code: str) -> str:
    return hmac.new(pepper.encode(), f"{phone_digest}:{code}".encode(), hashlib.sha256).hexdigest()


def judge(stored: StoredCode | None, attempt_digest: str, now: datetime) -> Verdict:
    """What an attempt with the code whose digest is `attempt_digest` comes to. Only a `WRONG`
    verdict costs a try: the others find nothing left to guess at."""
    if stored is None:
        return Verdict.NONE
    if stored.used:
        return Verdict.USED
    if now >= stored.expires_at:
        return Verdict.EXPIRED
    if stored.tries_left <= 0:
        return Verdict.EXHAUSTED
    # Constant time: how long the comparison takes says nothing about how much of the code matched.
    return Verdict.ACCEPTED if hmac.compare_digest(stored.digest, attempt_digest) else Verdict.WRONG


class InvalidCode(ServiceError):
    """Wrong, expired, used up or used: one answer for all of them."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("the code is not valid; ask for a new one if it has expired")


class NotAMember(ServiceError):
    """The code proved the phone, but the phone is no member's: only its owner learns that, and the
    code stays usable for signing up."""

    status_code = 404

    def __init__(self) -> None:
        super().__init__("no member has this phone; sign up with POST /identity/v1/members/register and the same code")

