"""Staff sessions: a login opens a family of refresh tokens; each refresh swaps the presented token
for the next one of its family. A token presented again after it was swapped means two parties hold
it (one of them stole it): the whole family is revoked, so the thief and the owner both have to log
in again, and only the owner can.

A token is swapped about once a minute, and often by several requests at once: a console page and
its fragments, two tabs sharing one cookie, each perhaps on another gateway replica. A token
presented again within `RETRY_GRACE` of its swap, while its family has gone no further (no later
token of it swapped), is such a request (`RETRIED`): it gets a successor of its own, and the first
successor keeps working, since the browser keeps whichever of the two answers reached it last.
After the grace, or once the family went on, it is reuse. So is, at once, a successor the browser
did not keep, once the one it kept is swapped (`superseded`): each answer carries an access token,
so the browser's next refresh comes a minute later with the token it kept, and any other successor
presented after that swap is held by someone else.

A session left alone ends before its absolute lifetime: a refresh token not swapped within the idle
time (`idle_after`, CRM_STAFF_IDLE_TIMEOUT_S) of being issued is refused and its family revoked
(`IDLE`), so a shop tablet or a shared desk PC left logged in does not show customers' data to the
next person for the rest of a shift. The rule is the refresh token's, not the console's: the console
swaps the same tokens, and an API client of a staff login is held to it alike. Use is a refresh:
every request of the console once its access token (a minute) has run out, so an hour-long session
counts as used when any page or fragment was asked within the idle time, give or take that minute.
A token swapped within the retry grace proved its use by the swap, so a retry is never idle.

Access tokens are not tracked: they live at most `MAX_ACCESS_TTL` (a minute), so whatever ends a
family (logout, reuse, deactivation, a new password) ends its access at every service within a
minute, with no service needing to know."""

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from shared.errors import ServiceError

MAX_ACCESS_TTL = timedelta(seconds=60)
# Long enough for the requests that set out with one token to arrive (a slow page's fragments); a
# copy used later than this, or after the owner's next swap, is taken for theft.
RETRY_GRACE = timedelta(seconds=30)
REFRESH_TOKEN_BYTES = 32  # 256 bits: stored as a SHA-256 digest, like client secrets
# Refresh tokens look like `rt_<43 characters>`; anything much longer is not one of ours.
MAX_REFRESH_TOKEN_CHARS = 100


class RevokedBecause(StrEnum):
    LOGOUT = "logout"
    REUSE = "reuse"
    DEACTIVATED = "deactivated"
    PASSWORD_SET = "password_set"
    IDLE = "idle"


class RefreshOutcome(StrEnum):
    ROTATE = "rotate"  # the current token of a live family: swap it
    REUSED = "reused"  # a token already swapped: revoke the family
    RETRIED = "retried"  # swapped moments ago: another successor, if the family went no further
    IDLE = "idle"  # the current token, unused for the idle time: revoke the family
    DEAD = "dead"  # revoked or expired family, or a deactivated account: refuse, change nothing


def judge_refresh(
    *, issued_at: datetime, rotated_at: datetime | None, family_revoked_at: datetime | None,
    family_expires_at: datetime, account_active: bool, idle_after: timedelta, now: datetime,
    superseded: bool = False,
) -> RefreshOutcome:
    """What a presented refresh token earns. A dead family stays dead whatever is presented: reuse
    detection only matters while there is something left to protect."""
    if family_revoked_at is not None or not account_active or now >= family_expires_at:
        return RefreshOutcome.DEAD
    if rotated_at is not None:
        retried = not superseded and now - rotated_at <= RETRY_GRACE
        return RefreshOutcome.RETRIED if retried else RefreshOutcome.REUSED
    if now - issued_at >= idle_after:
        return RefreshOutcome.IDLE
    return RefreshOutcome.ROTATE


def refresh_expires_in(
    *, issued_at: datetime, family_expires_at: datetime, idle_after: timedelta, now: datetime,
) -> timedelta:
    """How long a token issued at `issued_at` can still be swapped: until the idle time has passed
    or the session ends, whichever comes first."""
    return max(timedelta(0), min(issued_at + idle_after, family_expires_at) - now)


def new_refresh_token() -> str:
    return "rt_" + secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


class RefreshFailed(ServiceError):
    """Unknown, swapped, revoked or expired refresh token: one answer; the client logs in again."""

    status_code = 401

    def __init__(self) -> None:
        super().__init__("refresh token is not valid; log in again")

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="crm-identity"'}


class SessionIdle(RefreshFailed):
    """A session that ended because it was left unused for the idle time. The same answer as any
    refused refresh, so the API tells nothing more; the console tells the person why they are asked
    to log in again."""
