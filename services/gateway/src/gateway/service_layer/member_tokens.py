"""Member tokens and their rotating refresh tokens (the rules: gateway.domain.member_refresh):
issued at sign-in, traded at refresh for the next pair, ended at logout and at erasure."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from gateway.adapters.member_revocations import RevokedMembers
from gateway.adapters.member_tables import MemberRefreshTokenRow
from gateway.domain import member_refresh as rules
from gateway.domain.member_codes import InvalidCode
from shared.auth import Role, TokenIssuer
from shared.commands import Commands
from shared.unit_of_work import UnitOfWork

REFRESH = MemberRefreshTokenRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Tokens:
    commands: Commands
    issuer: TokenIssuer
    revoked: RevokedMembers
    token_ttl: timedelta
    refresh_ttl: timedelta
    retry_grace: timedelta


@dataclass(frozen=True, slots=True)
class MemberToken:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    member_id: str


async def issue(t: Tokens, member_id: str, now: datetime) -> MemberToken:
    """A member token and the first refresh token of a new family, for a member who just proved
    their phone. An erased member's id is never signed in again (the same 401 as a bad code)."""
    if member_id in t.revoked:
        raise InvalidCode()
    async with t.commands() as uow:
        return _pair(t, uow, member_id, str(uuid.uuid4()), now)


async def refresh(t: Tokens, token: str, now: datetime) -> MemberToken:
    """The next pair of the family, the presented token marked used. A token used before revokes
    its family (committed before the refusal is answered), unless it is the retry of an answer
    lost moments ago (`rules.RefreshVerdict.RETRIED`): then the lost answer's refresh token is
    revoked and another pair is issued."""
    digest = rules.refresh_digest(token[:200])
    async with t.commands() as uow:
        # Locked (PostgreSQL): two refreshes with one token are one use and one retry, never two uses.
        row = await uow.session.get(MemberRefreshTokenRow, digest, with_for_update=True)
        stored = None if row is None else rules.StoredRefresh(
            expires_at=row.expires_at, used_at=row.used_at, revoked=row.revoked_at is not None,
            superseded=row.superseded_at is not None,
        )
        verdict = rules.judge_refresh(stored, now, t.retry_grace)
        if row is not None and verdict is rules.RefreshVerdict.RETRIED and await _went_on(uow, row):
            verdict = rules.RefreshVerdict.REUSED
        if row is not None and verdict is rules.RefreshVerdict.REUSED:
            await _revoke_family(uow, row.family_id, now)
        elif row is not None and verdict is rules.RefreshVerdict.RETRIED and row.member_id not in t.revoked:
            await _revoke_unused(uow, row.family_id, now)
            return _pair(t, uow, row.member_id, row.family_id, now)
        elif row is not None and verdict is rules.RefreshVerdict.VALID and row.member_id not in t.revoked:
            row.used_at = now
            uow.session.add(row)
            return _pair(t, uow, row.member_id, row.family_id, now)
    raise rules.InvalidRefreshToken()


async def logout(t: Tokens, token: str, now: datetime) -> None:
    """Ends the token's family: no refresh token of it works again. Unknown tokens change nothing
    (the answer is the same). The member token already issued lives out its hour."""
    async with t.commands() as uow:
        row = await uow.session.get(MemberRefreshTokenRow, rules.refresh_digest(token[:200]))
        if row is not None:
            await _revoke_family(uow, row.family_id, now)


async def revoke_member(uow: UnitOfWork, member_id: str, now: datetime) -> None:
    """Every refresh token of the member ends (erasure)."""
    await uow.session.exec(update(REFRESH).where(
        REFRESH.c.member_id == member_id, REFRESH.c.revoked_at.is_(None)).values(revoked_at=now))


async def forget_expired(uow: UnitOfWork, before: datetime) -> int:
    result = await uow.session.exec(REFRESH.delete().where(REFRESH.c.expires_at < before))
    return int(result.rowcount or 0)


async def _revoke_family(uow: UnitOfWork, family_id: str, now: datetime) -> None:
    await uow.session.exec(update(REFRESH).where(
        REFRESH.c.family_id == family_id, REFRESH.c.revoked_at.is_(None)).values(revoked_at=now))


async def _went_on(uow: UnitOfWork, presented: MemberRefreshTokenRow) -> bool:
    """Whether another token of the family, issued since the presented one was used, was used in
    turn: the app has the answer the retry says it lost, so the retry is someone else's."""
    row = MemberRefreshTokenRow
    found = await uow.session.exec(select(row.token_digest).where(
        row.family_id == presented.family_id, col(row.token_digest) != presented.token_digest,
        col(row.issued_at) >= presented.used_at, col(row.used_at).is_not(None)).limit(1))
    return found.first() is not None


async def _revoke_unused(uow: UnitOfWork, family_id: str, now: datetime) -> None:
    """The family's token not used yet (the one the lost answer carried) ends, as superseded: were
    the answer not lost after all, whoever presents its token is found out."""
    await uow.session.exec(update(REFRESH).where(
        REFRESH.c.family_id == family_id, REFRESH.c.used_at.is_(None), REFRESH.c.revoked_at.is_(None),
    ).values(revoked_at=now, superseded_at=now))


def _pair(t: Tokens, uow: UnitOfWork, member_id: str, family_id: str, now: datetime) -> MemberToken:
    refresh_token = rules.new_refresh_token()
    uow.session.add(MemberRefreshTokenRow(
        token_digest=rules.refresh_digest(refresh_token), family_id=family_id, member_id=member_id, issued_at=now,
        expires_at=now + t.refresh_ttl,
    ))
    access = t.issuer.mint(member_id, Role.MEMBER, member_id=member_id, ttl=t.token_ttl, now=now)
    return MemberToken(
        access_token=access, expires_in=int(t.token_ttl.total_seconds()), refresh_token=refresh_token,
        refresh_expires_in=int(t.refresh_ttl.total_seconds()), member_id=member_id,
    )
