"""Enrolling and removing the TOTP second factor of an admin's or a store manager's account: by
an admin (in force at once, the seed answered to the admin), or by the person themself.

Enrolling oneself is two steps. The first, proven by the password as a login is, makes a seed and
keeps it pending (`totp_secret` set, `totp_enabled` false: logins do not ask for a code yet); the
second turns it on only with a code of it, so a seed the app never took locks nobody out. Only an
account without a factor in force enrols itself: a lost or replaced phone is an admin's removal
first, as a code from the old phone would otherwise be all it takes to move the factor away.
"""

from gateway.adapters.tables import StaffAccountRow
from gateway.domain.second_factor import matching_step, new_seed, provisioning_uri
from gateway.domain.staff import SECOND_FACTOR_ROLES, StaffAction
from gateway.domain.throttle import ExchangeGuard
from gateway.service_layer import staff, staff_sessions
from gateway.service_layer.identity import Actor
from shared.auth import Role
from shared.errors import Conflict, Invalid
from shared.unit_of_work import UnitOfWork


async def enroll(uow: UnitOfWork, actor: Actor, staff_id: str) -> str:
    """A new seed, in force at once; the otpauth URI holding it, the only time it leaves the gateway."""
    row = await staff.get(uow, staff_id)
    if Role(row.role) not in SECOND_FACTOR_ROLES:
        raise Conflict(f"a {row.role} has no second factor; only {', '.join(sorted(SECOND_FACTOR_ROLES))} do")
    if row.deactivated_at is not None:
        raise Conflict(f"staff account {staff_id} is deactivated")
    seed = new_seed()
    row.totp_secret, row.totp_enabled, row.totp_last_step, row.changed_at = seed, True, None, uow.now()
    uow.session.add(row)
    staff.audit(uow, actor, StaffAction.SECOND_FACTOR_ENROLLED, staff_id)
    await uow.session.flush()
    return provisioning_uri(seed, row.login)


async def remove(uow: UnitOfWork, actor: Actor, staff_id: str) -> StaffAccountRow:
    """Removes the factor, or a pending seed; the trail records the removal of a factor in force
    only, as a pending one never asked anybody for a code."""
    row = await staff.get(uow, staff_id)
    if row.totp_secret is not None:
        if row.totp_enabled:
            staff.audit(uow, actor, StaffAction.SECOND_FACTOR_REMOVED, staff_id)
        row.totp_secret, row.totp_enabled, row.totp_last_step, row.changed_at = None, False, None, uow.now()
        uow.session.add(row)
        await uow.session.flush()
    return row


def _can_enrol_self(row: StaffAccountRow) -> None:
    if Role(row.role) not in SECOND_FACTOR_ROLES:
        raise Conflict(f"a {row.role} has no second factor; only {', '.join(sorted(SECOND_FACTOR_ROLES))} do")
    if row.totp_enabled:
        raise Conflict("a second factor is enrolled already; for a lost or new phone an admin removes it first")


async def start_own(uow: UnitOfWork, guard: ExchangeGuard, staff_id: str, *, password: str, address: str) -> str:
    """A pending seed for the person's own account, once their password proves it is them (counted
    with the logins' failures); the otpauth URI holding it, for their authenticator app. Asked
    again, a new seed replaces the pending one."""
    row = await staff.get(uow, staff_id)
    _can_enrol_self(row)
    await staff_sessions.proven(uow, guard, login=row.login, password=password, totp_code=None, address=address)
    seed = new_seed()
    row.totp_secret, row.totp_last_step, row.changed_at = seed, None, uow.now()
    uow.session.add(row)
    await uow.session.flush()
    return provisioning_uri(seed, row.login)


async def confirm_own(uow: UnitOfWork, staff_id: str, code: str) -> StaffAccountRow:
    """Turns the pending seed on with a code of it; that code is spent, as a login's is."""
    row = await staff.get(uow, staff_id)
    _can_enrol_self(row)
    if row.totp_secret is None:
        raise Conflict("no second factor is being set up: start again")
    step = matching_step(row.totp_secret, code.strip(), uow.now())
    if step is None:
        raise Invalid("totp_code", "is not the code the app shows now (check the phone's clock)")
    row.totp_enabled, row.totp_last_step, row.changed_at = True, step, uow.now()
    uow.session.add(row)
    staff.audit(uow, Actor(row.staff_id, row.role), StaffAction.SECOND_FACTOR_ENROLLED, staff_id)
    await uow.session.flush()
    return row
