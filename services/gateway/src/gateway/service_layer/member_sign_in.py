"""Members sign in to the app, or sign up in it, with a one-time code sent by SMS to their phone
(the rules of the code: gateway.domain.member_codes).

Asking for a code answers the same whether or not the phone is a member's: the code is sent either
way, since signing up needs it too. The code is sent by campaigns' sender before it is stored, so
no database transaction waits on the SMS provider; a code that could not be sent is never stored
(and the one it would have replaced still stands). Redeeming a code is judged and, if wrong,
counted in one transaction. Signing in marks the code used only once members has answered, so a
phone that is no member's keeps its code for signing up. Signing up marks it used before members
records anything (the customer's consents among it), so that of sign-ups sent at once with one
code only one takes effect; if members refuses the form or cannot be reached, the code is given
back: a corrected form, or a members outage, costs the customer no code.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update

from gateway.adapters.member_accounts import MemberAccounts
from gateway.adapters.member_revocations import RevokedMembers
from gateway.adapters.member_tables import MemberSignInCodeRow, RevokedMemberRow
from gateway.domain import member_codes as rules
from gateway.domain.throttle import SignInGuard
from gateway.service_layer import member_tokens
from gateway.service_layer.member_tokens import MemberToken, Tokens
from gateway.service_layer.stores import OpenStores
from shared.commands import Commands
from shared.db import insert_into
from shared.errors import InvalidBodyField, TooManyRequests
from shared.pseudonyms import phone_hmac
from shared.unit_of_work import UnitOfWork

CODES = MemberSignInCodeRow.__table__  # type: ignore[attr-defined]
REVOKED = RevokedMemberRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SignIn:
    """What every sign-in step needs: the services, the throttles, the phone pepper, and what
    issues the tokens."""

    commands: Commands
    accounts: MemberAccounts
    guard: SignInGuard
    pepper: str
    tokens: Tokens
    stores: OpenStores


async def ask_code(s: SignIn, *, phone: str, address: str, now: datetime, language: str | None = None) -> int:
    """Sends a new code to `phone` and stores it, replacing the phone's code before; answers the
    code's lifetime in seconds. Throttled per phone and per address, whoever the phone belongs to."""
    phone_key = phone_hmac(phone, s.pepper)
    if wait := s.guard.code_wait(phone_key, address, now):
        raise TooManyRequests("too many codes asked for; retry later", retry_after_s=wait)
    s.guard.code_requested(phone_key, address, now)
    code = rules.new_code()
    minutes = int(rules.CODE_TTL.total_seconds() // 60)
    await s.accounts.send_code(phone, code, minutes, language)
    async with s.commands() as uow:
        await _store(uow, phone_key, rules.code_digest(s.pepper, phone_key, code), now)
    return int(rules.CODE_TTL.total_seconds())


async def sign_in(s: SignIn, *, phone: str, code: str, address: str, now: datetime) -> MemberToken:
    """A member token for the member whose phone the code proves. `NotAMember` (the code stays
    usable, for signing up) when the phone is nobody's; `InvalidCode` for every bad code."""
    phone_key, digest = await _accepted(s, phone, code, address, now)
    member_id = await s.accounts.member_with_phone(phone)
    if member_id is None:
        raise rules.NotAMember()
    await _use(s, phone_key, digest, now)
    return await member_tokens.issue(s.tokens, member_id, now)


async def sign_up(s: SignIn, *, registration: dict[str, Any], code: str, address: str, now: datetime) -> MemberToken:
    """Registers the customer whose phone the code proves (with channel `app` for the consents),
    and answers their member token. A phone that is a member's already answers that member's token,
    the same as a sign-in: nothing tells a new member from an existing one (members records the
    consents the form answers as that member's)."""
    phone = str(registration["phone"])
    phone_key, digest = await _accepted(s, phone, code, address, now)
    if home := registration.get("home_store_id"):  # before the code is used: a corrected sign-up may use it
        await s.stores.ensure(s.commands, str(home), field="home_store_id", kind=InvalidBodyField)
    await _use(s, phone_key, digest, now)
    try:
        member_id = await s.accounts.sign_up(registration)
    except Exception:
        await _give_back(s, phone_key, digest, now)
        raise
    return await member_tokens.issue(s.tokens, member_id, now)


async def on_member_erased(uow: UnitOfWork, member_id: str, erased_at: datetime, revoked: RevokedMembers) -> None:
    """No more tokens for an erased member, and those they hold are refused from now on."""
    await uow.session.exec(insert_into(uow.session, REVOKED).values(
        member_id=member_id, erased_at=erased_at, recorded_at=uow.now(),
    ).on_conflict_do_nothing(index_elements=["member_id"]))
    await member_tokens.revoke_member(uow, member_id, uow.now())
    # At once on this replica (a redelivery adds it again, which changes nothing); the others
    # reload the table with the member-revocations job.
    revoked.add(member_id, erased_at)


async def revoked_members_since(uow: UnitOfWork, since: datetime) -> set[str]:
    """Members erased after `since`: those who may still hold a token issued before."""
    found = await uow.session.exec(
        REVOKED.select().with_only_columns(REVOKED.c.member_id).where(REVOKED.c.erased_at > since))
    return set(found.scalars().all())


async def forget_expired_codes(uow: UnitOfWork, before: datetime) -> int:
    """Deletes codes that expired before `before`: they can only ever be refused."""
    result = await uow.session.exec(CODES.delete().where(CODES.c.expires_at < before))
    return int(result.rowcount or 0)


async def _store(uow: UnitOfWork, phone_key: str, digest: str, now: datetime) -> None:
    fresh = {"code_digest": digest, "created_at": now, "expires_at": now + rules.CODE_TTL,
             "tries_left": rules.MAX_TRIES, "used_at": None}
    # An upsert: two requests for one phone at once each store theirs, the later one stands.
    await uow.session.exec(insert_into(uow.session, CODES).values(
        phone_digest=phone_key, **fresh,
    ).on_conflict_do_update(index_elements=["phone_digest"], set_=fresh))


async def _accepted(s: SignIn, phone: str, code: str, address: str, now: datetime) -> tuple[str, str]:
    """The phone's digest and the code's, when the code is right; else one try is counted (for a
    wrong code) and `InvalidCode` raised, after the count is committed. The address's count of
    wrong codes takes this one before the code is judged, and gives it back if it was right."""
    if wait := s.guard.guess_wait(address, now):
        raise TooManyRequests("too many wrong codes; retry later", retry_after_s=wait)
    s.guard.guessing(address, now)
    phone_key = phone_hmac(phone, s.pepper)
    digest = rules.code_digest(s.pepper, phone_key, code)
    async with s.commands() as uow:
        # Locked (PostgreSQL) so that concurrent attempts at one code count every try.
        row = await uow.session.get(MemberSignInCodeRow, phone_key, with_for_update=True)
        stored = None if row is None else rules.StoredCode(
            digest=row.code_digest, expires_at=row.expires_at, tries_left=row.tries_left, used=row.used_at is not None,
        )
        verdict = rules.judge(stored, digest, now)
        if verdict is rules.Verdict.WRONG and row is not None:
            row.tries_left -= 1
            uow.session.add(row)
    if verdict is not rules.Verdict.ACCEPTED:
        raise rules.InvalidCode()
    s.guard.right_code(address, now)
    return phone_key, digest


async def _use(s: SignIn, phone_key: str, digest: str, now: datetime) -> None:
    """Marks the code used; a code used (or replaced) meanwhile by a concurrent request is refused."""
    async with s.commands() as uow:
        result = await uow.session.exec(update(CODES).where(
            CODES.c.phone_digest == phone_key, CODES.c.code_digest == digest, CODES.c.used_at.is_(None),
        ).values(used_at=now))
        used = result.rowcount == 1
    if not used:
        raise rules.InvalidCode()


async def _give_back(s: SignIn, phone_key: str, digest: str, now: datetime) -> None:
    """The code usable again, unless a new one replaced it meanwhile. Its tries are not given back."""
    async with s.commands() as uow:
        await uow.session.exec(update(CODES).where(
            CODES.c.phone_digest == phone_key, CODES.c.code_digest == digest, CODES.c.used_at == now,
        ).values(used_at=None))

