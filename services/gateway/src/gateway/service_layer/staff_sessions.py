"""Staff log in with a password (and a one-time code where enrolled), get a short access token and
a refresh token, swap the refresh token for the next one, and log out (gateway.domain.sessions)."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlmodel import col, select

from gateway.adapters.passwords import hash_password, needs_rehash, verify_password
from gateway.adapters.tables import StaffAccountRow, StaffRefreshTokenRow, StaffSessionRow
from gateway.config import Settings
from gateway.domain import audit_details as details
from gateway.domain.identity import hash_secret
from gateway.domain.second_factor import matching_step
from gateway.domain.sessions import (
    MAX_REFRESH_TOKEN_CHARS,
    RefreshFailed,
    RefreshOutcome,
    RevokedBecause,
    SessionIdle,
    judge_refresh,
    new_refresh_token,
    refresh_expires_in,
)
from gateway.domain.staff import (
    LOGIN,
    MAX_PASSWORD_CHARS,
    LoginFailed,
    SecondFactorNeeded,
    SecondFactorWrong,
    StaffAction,
    check_password,
    normalized_login,
    token_subject,
)
from gateway.domain.throttle import ExchangeGuard
from gateway.service_layer import staff
from gateway.service_layer.identity import Actor
from shared.auth import Role, TokenIssuer
from shared.commands import Commands
from shared.errors import Invalid, TooManyRequests
from shared.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class SessionLifetimes:
    access: timedelta  # of each access token: the longest a revocation takes to reach the services
    session: timedelta  # of a login's refresh tokens, however often they are swapped
    idle: timedelta  # of each refresh token left unused: the session ends with it (domain.sessions)


def lifetimes(settings: Settings) -> SessionLifetimes:
    """The lifetimes of staff sessions, the same for the identity API and the console."""
    return SessionLifetimes(
        access=timedelta(seconds=settings.staff_access_token_ttl_s),
        session=timedelta(seconds=settings.staff_session_ttl_s),
        idle=timedelta(seconds=settings.staff_idle_timeout_s),
    )


@dataclass(frozen=True, slots=True)
class SessionTokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int  # the refresh token's: the idle time, or less near the session's end
    session_expires_in: int  # the session's absolute end, however often it is used
    staff_id: str
    role: Role
    store_id: str | None


async def login(
    uow: UnitOfWork, issuer: TokenIssuer, guard: ExchangeGuard, lifetimes: SessionLifetimes, *, login: str,
    password: str, totp_code: str | None, address: str,
) -> SessionTokens:
    """A new session for the right password (and code); the refusals are `proven`'s."""
    row = await proven(uow, guard, login=login, password=password, totp_code=totp_code, address=address)
    if needs_rehash(row.password_hash, uow.settings.password_hashing):
        row.password_hash = await hash_password(password, uow.settings.password_hashing)
        uow.session.add(row)
    return await _new_session(uow, issuer, lifetimes, row)


async def change_password(
    uow: UnitOfWork, issuer: TokenIssuer, guard: ExchangeGuard, lifetimes: SessionLifetimes, *, login: str,
    password: str, new_password: str, totp_code: str | None, address: str,
) -> SessionTokens:
    """A staff member's own new password, proven as a login is (the same refusals and the same
    count of failures, so it cannot be used to guess a password faster). Every session of the
    account ends, as after an admin's reset (whoever else held one is out), and a new one begins
    for the person who changed it."""
    # Checked first: they tell nothing about the account, and a refusal spends no failed attempt.
    check_password(new_password, field="new_password")
    if new_password == password:
        raise Invalid("new_password", "must differ from the current password")
    row = await proven(uow, guard, login=login, password=password, totp_code=totp_code, address=address)
    row.password_hash, row.changed_at = await hash_password(new_password, uow.settings.password_hashing), uow.now()
    uow.session.add(row)
    ended = await staff.end_sessions(uow, row.staff_id, RevokedBecause.PASSWORD_SET)
    staff.audit(uow, Actor(row.staff_id, row.role), StaffAction.PASSWORD_CHANGED, row.staff_id, details.sessions_ended(ended))
    return await _new_session(uow, issuer, lifetimes, row)


async def proven(
    uow: UnitOfWork, guard: ExchangeGuard, *, login: str, password: str, totp_code: str | None, address: str,
) -> StaffAccountRow:
    """The account whose password (and code) this is. Unknown login, wrong password and a
    deactivated account are the same LoginFailed after the same argon2 work; too many failures for
    the login name or from the address within the window are TooManyRequests, even with the right
    password. The login name is counted whether or not it exists, so the 429 tells nothing either.
    An attempt counts from the moment it passes the check, before the argon2 work is awaited, so
    no more of a burst sent at once are judged than the limit allows; a success takes it back."""
    now = uow.now()
    key = normalized_login(login)[:64]
    if wait := guard.retry_after(key, address, now):
        raise TooManyRequests("too many failed logins; retry later", retry_after_s=wait)
    guard.failed(key, address, now)  # counted ahead; taken back below where it proves no failure
    row = None
    if LOGIN.match(key) and len(password) <= MAX_PASSWORD_CHARS:
        row = (await uow.session.exec(select(StaffAccountRow).where(StaffAccountRow.login == key))).first()
    matches = await verify_password(password[:MAX_PASSWORD_CHARS], row.password_hash if row is not None else None,
                                  uow.settings.password_hashing)
    if row is None or not matches or row.deactivated_at is not None:
        raise LoginFailed()
    if row.totp_enabled and row.totp_secret:
        if not totp_code:
            # Not a failure: the password was right and the person is about to type the code.
            guard.withdraw(key, address, now)
            raise SecondFactorNeeded()
        step = matching_step(row.totp_secret, totp_code, now, after_step=row.totp_last_step)
        if step is None or not await _spend_step(uow, row.staff_id, step):
            raise SecondFactorWrong()
    guard.withdraw(key, address, now)
    guard.succeeded(key)
    return row


async def _spend_step(uow: UnitOfWork, staff_id: str, step: int) -> bool:
    """Records the code's time step as used, unless a concurrent login with the same code (or a
    later one) just did: the step read with the account is not locked, and the conditional update
    is what decides which of them the code opens a session for, as a code works once."""
    result = await uow.session.exec(
        update(StaffAccountRow)
        .where(col(StaffAccountRow.staff_id) == staff_id, or_(
            col(StaffAccountRow.totp_last_step).is_(None), col(StaffAccountRow.totp_last_step) < step,
        ))
        .values(totp_last_step=step)
    )
    return bool(result.rowcount)


async def _new_session(uow: UnitOfWork, issuer: TokenIssuer, lifetimes: SessionLifetimes, row: StaffAccountRow) -> SessionTokens:
    now = uow.now()
    family = StaffSessionRow(
        family_id=secrets.token_hex(16), staff_id=row.staff_id, created_at=now, expires_at=now + lifetimes.session,
    )
    uow.session.add(family)
    return await _issue(uow, issuer, lifetimes, row, family, now)


async def refresh(commands: Commands, issuer: TokenIssuer, lifetimes: SessionLifetimes, token: str) -> SessionTokens:
    """The next refresh token of the family and a fresh access token (with the account's current
    role and store). A token already swapped revokes its family, committed before the refusal,
    unless it was swapped moments ago and the family went no further (`RefreshOutcome.RETRIED`); so
    does one left unused for the idle time, refused as SessionIdle, as is any later token of a family
    that ended so."""
    async with commands() as uow:
        issued = await _refresh(uow, issuer, lifetimes, token)
    if isinstance(issued, RefreshFailed):
        raise issued
    return issued


async def logout(commands: Commands, token: str) -> None:
    """Ends the session the refresh token belongs to. The answer is the same whatever the token was,
    so logging out cannot be used to test tokens."""
    async with commands() as uow:
        found = await _token(uow, token)
        if found is not None:
            await _revoke(uow, found.family_id, RevokedBecause.LOGOUT)


async def forget_ended(uow: UnitOfWork, before: datetime) -> int:
    """Deletes the sessions that ended (expired or revoked) before `before`, with their refresh
    tokens: a token of a session that ended can only ever be refused, and a refresh a minute per
    person would otherwise grow the table without bound. The number of sessions deleted."""
    ended = select(StaffSessionRow.family_id).where(or_(
        col(StaffSessionRow.expires_at) < before, col(StaffSessionRow.revoked_at) < before,
    ))
    await uow.session.exec(delete(StaffRefreshTokenRow).where(col(StaffRefreshTokenRow.family_id).in_(ended)))
    result = await uow.session.exec(delete(StaffSessionRow).where(col(StaffSessionRow.family_id).in_(ended)))
    return int(result.rowcount or 0)


async def _refresh(
    uow: UnitOfWork, issuer: TokenIssuer, lifetimes: SessionLifetimes, token: str,
) -> SessionTokens | RefreshFailed:
    """The tokens issued, or the refusal to raise once what it changed is committed."""
    now = uow.now()
    found = await _token(uow, token)
    family = await uow.session.get(StaffSessionRow, found.family_id) if found is not None else None
    account = await uow.session.get(StaffAccountRow, family.staff_id) if family is not None else None
    if found is None or family is None or account is None:
        return RefreshFailed()
    outcome = judge_refresh(
        issued_at=found.issued_at, rotated_at=found.rotated_at, family_revoked_at=family.revoked_at,
        family_expires_at=family.expires_at, account_active=account.deactivated_at is None, idle_after=lifetimes.idle,
        now=now, superseded=found.superseded_at is not None,
    )
    if outcome is RefreshOutcome.IDLE:
        await _revoke(uow, family.family_id, RevokedBecause.IDLE)
        return SessionIdle()
    if outcome is RefreshOutcome.DEAD and family.revoked_because == RevokedBecause.IDLE:
        return SessionIdle()  # a page of the same browser, or another tab, after the one that found it idle
    if outcome is RefreshOutcome.ROTATE:
        if await _swap(uow, found.token_hash, now):
            await _end_siblings(uow, found, now)
        else:
            # Swapped this moment by a concurrent request with the same token (a retry), or ended by
            # a concurrent swap of a sibling (reuse): what that request committed tells which.
            await uow.session.refresh(found)
            outcome = RefreshOutcome.REUSED if found.superseded_at is not None else RefreshOutcome.RETRIED
    if outcome is RefreshOutcome.RETRIED and await _went_on(uow, found, since=found.rotated_at or now):
        outcome = RefreshOutcome.REUSED
    if outcome is RefreshOutcome.REUSED:
        await _revoke(uow, family.family_id, RevokedBecause.REUSE)
    if outcome not in (RefreshOutcome.ROTATE, RefreshOutcome.RETRIED):
        return RefreshFailed()
    return await _issue(uow, issuer, lifetimes, account, family, now)


async def _end_siblings(uow: UnitOfWork, swapped: StaffRefreshTokenRow, now: datetime) -> None:
    """Marks swapped the family's other live tokens: the successors given to retries beside the one
    the browser kept and swaps now. Nobody holds them any more; one that comes back is reuse."""
    await uow.session.exec(
        update(StaffRefreshTokenRow)
        .where(col(StaffRefreshTokenRow.family_id) == swapped.family_id, col(StaffRefreshTokenRow.rotated_at).is_(None),
               col(StaffRefreshTokenRow.token_hash) != swapped.token_hash)
        .values(rotated_at=now, superseded_at=now)
    )


async def _went_on(uow: UnitOfWork, presented: StaffRefreshTokenRow, since: datetime) -> bool:
    """Whether a token of the family issued since the presented one was swapped has been swapped in
    turn: its holder had the answer, so a request still holding the older token is someone else's."""
    row = StaffRefreshTokenRow
    found = await uow.session.exec(select(row.token_hash).where(
        row.family_id == presented.family_id, col(row.token_hash) != presented.token_hash,
        col(row.issued_at) >= since, col(row.rotated_at).is_not(None)).limit(1))
    return found.first() is not None


async def _swap(uow: UnitOfWork, token_hash: str, now: datetime) -> bool:
    """Marks the token swapped, unless another request just did: the conditional update is what
    decides between two concurrent refreshes with one token (one swaps it, the other is a retry)."""
    result = await uow.session.exec(
        update(StaffRefreshTokenRow)
        .where(col(StaffRefreshTokenRow.token_hash) == token_hash, col(StaffRefreshTokenRow.rotated_at).is_(None))
        .values(rotated_at=now)
    )
    return bool(result.rowcount)


async def _revoke(uow: UnitOfWork, family_id: str, because: RevokedBecause) -> None:
    await uow.session.exec(
        update(StaffSessionRow)
        .where(col(StaffSessionRow.family_id) == family_id, col(StaffSessionRow.revoked_at).is_(None))
        .values(revoked_at=uow.now(), revoked_because=because.value)
    )


async def _token(uow: UnitOfWork, token: str) -> StaffRefreshTokenRow | None:
    if not token.startswith("rt_") or len(token) > MAX_REFRESH_TOKEN_CHARS:
        return None
    return await uow.session.get(StaffRefreshTokenRow, hash_secret(token))


async def _issue(
    uow: UnitOfWork, issuer: TokenIssuer, lifetimes: SessionLifetimes, account: StaffAccountRow,
    family: StaffSessionRow, now: datetime,
) -> SessionTokens:
    refresh_token = new_refresh_token()
    uow.session.add(StaffRefreshTokenRow(token_hash=hash_secret(refresh_token), family_id=family.family_id, issued_at=now))
    await uow.session.flush()
    role = Role(account.role)
    access = issuer.mint(
        token_subject(account.staff_id, account.account_manager_id), role, store_id=account.store_id,
        ttl=lifetimes.access, now=now,
    )
    usable = refresh_expires_in(issued_at=now, family_expires_at=family.expires_at, idle_after=lifetimes.idle, now=now)
    return SessionTokens(
        access_token=access, expires_in=int(lifetimes.access.total_seconds()), refresh_token=refresh_token,
        refresh_expires_in=int(usable.total_seconds()),
        session_expires_in=max(0, int((family.expires_at - now).total_seconds())), staff_id=account.staff_id,
        role=role, store_id=account.store_id,
    )
