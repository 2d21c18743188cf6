"""Staff accounts: admins create, change, deactivate and reactivate them and set their passwords;
every change is written to `staff_audit` (who, when, what; never a password)."""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from gateway.adapters.passwords import hash_password, verify_password
from gateway.adapters.tables import StaffAccountRow, StaffAuditRow, StaffSessionRow
from gateway.domain import audit_details as details
from gateway.domain.sessions import RevokedBecause
from gateway.domain.staff import (
    SECOND_FACTOR_ROLES,
    STAFF_ID,
    Assignment,
    StaffAction,
    assignment,
    check_login,
    check_password,
)
from gateway.service_layer.identity import Actor
from gateway.service_layer.stores import ensure_store
from shared.auth import Role
from shared.errors import Conflict, NotFound
from shared.policy import POLICY
from shared.unit_of_work import UnitOfWork

# A generated first password: 96 random bits in 16 characters, typed once and then changed.
GENERATED_PASSWORD_BYTES = 12


@dataclass(frozen=True, slots=True)
class StaffChange:
    """An admin's change of an account; None leaves a field as it is, `clear_*` empties it."""

    name: str | None = None
    role: Role | None = None
    store_id: str | None = None
    clear_store: bool = False
    account_manager_id: str | None = None
    clear_account_manager: bool = False


async def create(
    uow: UnitOfWork, actor: Actor, *, login: str, name: str, role: Role, store_id: str | None = None,
    account_manager_id: str | None = None, password: str | None = None, key: str | None = None,
) -> tuple[StaffAccountRow, str | None, bool]:
    """A new account, its generated password when none was given (the only time it is seen), and
    whether this was a retry of the creation made under `key` (the Idempotency-Key): the account
    comes back rather than "login taken", see `_created_already`."""
    normal = check_login(login)
    bound = assignment(role, store_id, account_manager_id)
    digest = _creation_digest(normal, name, bound, typed=password is not None)
    if key is not None and (made := await _created_already(uow, actor, key, digest, password)) is not None:
        return made[0], made[1], True
    await _check_store(uow, bound)
    generated = None
    if password is None:
        password = generated = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    check_password(password)
    if (await uow.session.exec(select(StaffAccountRow).where(StaffAccountRow.login == normal))).first():
        raise Conflict(f"login {normal} is taken")
    await _check_directory_id(uow, bound.account_manager_id)
    now = uow.now()
    row = StaffAccountRow(
        staff_id=f"stf_{secrets.token_hex(8)}", login=normal, name=name, role=bound.role.value,
        store_id=bound.store_id, account_manager_id=bound.account_manager_id,
        password_hash=await hash_password(password, uow.settings.password_hashing), created_at=now, changed_at=now,
        creation_key=key, creation_digest=digest if key is not None else None,
    )
    uow.session.add(row)
    audit(uow, actor, StaffAction.CREATED, row.staff_id, _describe(row))
    try:
        await uow.session.flush()
    except IntegrityError as exc:  # the same login or key at the same moment: the unique indexes decide
        under_way = "" if key is None else ", or a creation under this Idempotency-Key is under way: send it again"
        raise Conflict(f"login {normal} is taken{under_way}") from exc
    return row, generated, False


# How long a creation may be retried under its key: long enough for any client's retries after a
# lost answer, short enough that an old key never resets the password of an account long in use.
CREATION_RETRY_WINDOW = timedelta(hours=24)


def _creation_digest(login: str, name: str, bound: Assignment, *, typed: bool) -> str:
    """What a creation asked for, as the key's retry must ask it again: never the password itself,
    only whether one was typed (a typed one is checked against the account's hash)."""
    asked = [login, name, bound.role.value, bound.store_id, bound.account_manager_id, typed]
    return hashlib.sha256(json.dumps(asked, ensure_ascii=False).encode()).hexdigest()


async def _created_already(
    uow: UnitOfWork, actor: Actor, key: str, digest: str, password: str | None,
) -> tuple[StaffAccountRow, str | None] | None:
    """The account created under `key`, as the retry of its creation answers it; None for a new key.

    A typed password comes back as the account (the password stands: it is checked, not set again).
    A generated one was shown only in the answer that was lost, so the retry generates another and
    shows that (the first, never seen, stops working), as long as nobody can have used the account:
    within a day of its creation, with no login and no change since. Otherwise, or for a key sent
    again with another account, 409 saying what to do."""
    row = (await uow.session.exec(select(StaffAccountRow).where(StaffAccountRow.creation_key == key))).first()
    if row is None:
        return None
    if row.creation_digest != digest:
        raise Conflict(f"the Idempotency-Key was used to create account {row.login}, not this one: send a new key")
    if password is not None:
        if not await verify_password(password, row.password_hash, uow.settings.password_hashing):
            raise Conflict(f"account {row.login} was created with this key and another password, or its password "
                           "was set since: send a new key, or set the password on the account")
        return row, None
    if uow.now() - row.created_at > CREATION_RETRY_WINDOW or await _touched_since_creation(uow, row.staff_id):
        raise Conflict(f"account {row.login} was created with this key and is in use or was changed since: "
                       "set a new password on the account if its first one was lost")
    generated = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    row.password_hash, row.changed_at = await hash_password(generated, uow.settings.password_hashing), uow.now()
    uow.session.add(row)
    audit(uow, actor, StaffAction.CREATION_RETRIED, row.staff_id)
    await uow.session.flush()
    return row, generated


async def _touched_since_creation(uow: UnitOfWork, staff_id: str) -> bool:
    """Whether anyone has logged in to the account, or anything was recorded of it beyond its creation."""
    login = select(StaffSessionRow.family_id).where(StaffSessionRow.staff_id == staff_id).limit(1)
    creation = (StaffAction.CREATED.value, StaffAction.CREATION_RETRIED.value)
    changed = select(StaffAuditRow.id).where(StaffAuditRow.staff_id == staff_id,
                                             col(StaffAuditRow.action).not_in(creation)).limit(1)
    return (await uow.session.exec(login)).first() is not None or (await uow.session.exec(changed)).first() is not None


async def change(uow: UnitOfWork, actor: Actor, staff_id: str, what: StaffChange) -> StaffAccountRow:
    """Name, role, store or directory id; the result must make sense as a whole (a store manager
    moved to marketing loses their store in the same change). Effective at the next refresh, within
    a minute: the access tokens already out carry the old role until they expire."""
    row = await get(uow, staff_id)
    role = what.role or Role(row.role)
    store_id = None if what.clear_store else (what.store_id or row.store_id)
    manager_id = None if what.clear_account_manager else (what.account_manager_id or row.account_manager_id)
    bound = assignment(role, store_id, manager_id)
    if bound.role.value not in MANAGE_ACCOUNTS:
        await _keep_an_admin(uow, row)
    if what.store_id is not None:
        await _check_store(uow, bound)
    if bound.account_manager_id != row.account_manager_id:
        await _check_directory_id(uow, bound.account_manager_id, staff_id)
    before = _describe(row)
    row.name = what.name or row.name
    row.role, row.store_id, row.account_manager_id = bound.role.value, bound.store_id, bound.account_manager_id
    dropped_factor = Role(row.role) not in SECOND_FACTOR_ROLES and row.totp_enabled
    if Role(row.role) not in SECOND_FACTOR_ROLES:
        # The second factor belongs to the roles that have one; a role without it drops the seed
        # (one in use says so in the audit, as a removal by hand does; one never confirmed was not
        # a factor yet): back in such a role, the person logs in with the password alone until
        # they set one up again.
        row.totp_secret, row.totp_enabled, row.totp_last_step = None, False, None
    after = _describe(row)
    if after != before:
        row.changed_at = uow.now()
        uow.session.add(row)
        audit(uow, actor, StaffAction.CHANGED, staff_id, details.account_change(before, after))
        if dropped_factor:
            audit(uow, actor, StaffAction.SECOND_FACTOR_REMOVED, staff_id)
        await uow.session.flush()
    return row


async def set_password(uow: UnitOfWork, actor: Actor, staff_id: str, password: str | None) -> str | None:
    """A new password (the given one, or a generated one returned once); every session of the
    account ends, as a reset after a suspected leak must."""
    row = await get(uow, staff_id)
    generated = None
    if password is None:
        password = generated = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    check_password(password)
    row.password_hash, row.changed_at = await hash_password(password, uow.settings.password_hashing), uow.now()
    uow.session.add(row)
    ended = await end_sessions(uow, staff_id, RevokedBecause.PASSWORD_SET)
    audit(uow, actor, StaffAction.PASSWORD_SET, staff_id, details.password_set(generated is not None, ended))
    await uow.session.flush()
    return generated


async def deactivate(uow: UnitOfWork, actor: Actor, staff_id: str) -> StaffAccountRow:
    """No more logins or refreshes; every session ends. Deactivating twice changes nothing."""
    row = await get(uow, staff_id)
    if row.deactivated_at is None:
        await _keep_an_admin(uow, row)
        row.deactivated_at = row.changed_at = uow.now()
        uow.session.add(row)
        ended = await end_sessions(uow, staff_id, RevokedBecause.DEACTIVATED)
        audit(uow, actor, StaffAction.DEACTIVATED, staff_id, details.sessions_ended(ended))
        await uow.session.flush()
    return row


async def reactivate(uow: UnitOfWork, actor: Actor, staff_id: str) -> StaffAccountRow:
    row = await get(uow, staff_id)
    if row.deactivated_at is not None:
        if row.store_id is not None:
            await _check_store(uow, Assignment(Role(row.role), row.store_id, row.account_manager_id))
        await _check_directory_id(uow, row.account_manager_id, staff_id)
        row.deactivated_at, row.changed_at = None, uow.now()
        uow.session.add(row)
        audit(uow, actor, StaffAction.REACTIVATED, staff_id)
        await uow.session.flush()
    return row


async def end_sessions(uow: UnitOfWork, staff_id: str, because: RevokedBecause) -> int:
    """Revokes every live session of the account; the number revoked."""
    result = await uow.session.exec(
        update(StaffSessionRow)
        .where(col(StaffSessionRow.staff_id) == staff_id, col(StaffSessionRow.revoked_at).is_(None))
        .values(revoked_at=uow.now(), revoked_because=because.value)
    )
    return int(result.rowcount or 0)


async def get(uow: UnitOfWork, staff_id: str) -> StaffAccountRow:
    row = await uow.session.get(StaffAccountRow, staff_id) if STAFF_ID.match(staff_id) else None
    if row is None:
        raise NotFound(f"no staff account {staff_id}")
    return row


async def listing(
    uow: UnitOfWork, *, role: Role | None = None, store_id: str | None = None, include_deactivated: bool = False,
) -> list[StaffAccountRow]:
    query = select(StaffAccountRow).order_by(col(StaffAccountRow.login))
    if role is not None:
        query = query.where(StaffAccountRow.role == role.value)
    if store_id is not None:
        query = query.where(StaffAccountRow.store_id == store_id)
    if not include_deactivated:
        query = query.where(col(StaffAccountRow.deactivated_at).is_(None))
    return list((await uow.session.exec(query)).all())


async def audit_trail(uow: UnitOfWork, staff_id: str) -> list[StaffAuditRow]:
    await get(uow, staff_id)
    query = (
        select(StaffAuditRow).where(StaffAuditRow.staff_id == staff_id)
        .order_by(col(StaffAuditRow.at), col(StaffAuditRow.id))
    )
    return list((await uow.session.exec(query)).all())


async def _check_store(uow: UnitOfWork, bound: Assignment) -> None:
    if bound.store_id is not None:
        await ensure_store(uow.session, bound.store_id)


# The roles the policy lets manage staff accounts: the chain keeps an active account of one of them.
MANAGE_ACCOUNTS = frozenset(role.value for role in POLICY["gateway.staff.write"])


async def _keep_an_admin(uow: UnitOfWork, row: StaffAccountRow) -> None:
    """Refuses to deactivate, or move to another role, the last active account that may manage
    accounts: without one nobody could but whoever holds the signing key. Those accounts are locked
    in one order, so two admins ending each other's accounts at once leave the second to find
    itself the last."""
    if row.role not in MANAGE_ACCOUNTS or row.deactivated_at is not None:
        return
    managers = (await uow.session.exec(
        select(StaffAccountRow.staff_id)
        .where(col(StaffAccountRow.role).in_(MANAGE_ACCOUNTS), col(StaffAccountRow.deactivated_at).is_(None))
        .order_by(col(StaffAccountRow.staff_id)).with_for_update()
    )).all()
    if not set(managers) - {row.staff_id}:
        raise Conflict(f"{row.login} is the last active admin account; make another admin first")


async def _check_directory_id(uow: UnitOfWork, directory_id: str | None, staff_id: str | None = None) -> None:
    """One person a staff-directory id: it is the subject of their tokens, so two active accounts
    holding it would be one identity in every service's records and access log."""
    if directory_id is None:
        return
    holder = (await uow.session.exec(select(StaffAccountRow.login).where(
        StaffAccountRow.account_manager_id == directory_id, col(StaffAccountRow.deactivated_at).is_(None),
        StaffAccountRow.staff_id != (staff_id or "")))).first()
    if holder is not None:
        raise Conflict(f"account_manager_id: {directory_id} is the staff-directory id of the active account {holder}")


def _describe(row: StaffAccountRow) -> str:
    return details.account(row.login, row.name, row.role, row.store_id, row.account_manager_id)


def audit(uow: UnitOfWork, actor: Actor, action: StaffAction, staff_id: str, detail: str = "") -> None:
    """Writes down a change of an account: the one way every change of a staff account is recorded."""
    uow.session.add(StaffAuditRow(
        at=uow.now(), actor=actor.name[:200], actor_role=actor.role[:32], action=action.value, staff_id=staff_id,
        detail=detail[:details.MAX_DETAIL_CHARS],
    ))
