"""Enrolling and removing the TOTP second factor of an admin's or a store manager's account."""

from gateway.adapters.tables import StaffAccountRow
from gateway.domain.second_factor import new_seed, provisioning_uri
from gateway.domain.staff import SECOND_FACTOR_ROLES, StaffAction
from gateway.service_layer import staff
from gateway.service_layer.identity import Actor
from shared.auth import Role
from shared.errors import Conflict
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
    row = await staff.get(uow, staff_id)
    if row.totp_secret is not None:
        row.totp_secret, row.totp_enabled, row.totp_last_step, row.changed_at = None, False, None, uow.now()
        uow.session.add(row)
        staff.audit(uow, actor, StaffAction.SECOND_FACTOR_REMOVED, staff_id)
        await uow.session.flush()
    return row
