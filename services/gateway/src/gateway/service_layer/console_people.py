"""Staff by name on the console: the staff account behind a token's subject or an id a page lists
(a staff id `stf_…`, or for staff in members' directory, their directory id). Pages name everyone
they list with one query (`display_names`); an id with no account is shown as the id itself."""

from collections.abc import Iterable

from sqlalchemy import or_
from sqlmodel import col, select

from gateway.adapters.tables import StaffAccountRow
from shared.unit_of_work import UnitOfWork


async def display_name(uow: UnitOfWork, subject: str) -> str | None:
    return (await display_names(uow, [subject])).get(subject)


async def display_names(uow: UnitOfWork, subjects: Iterable[str | None]) -> dict[str, str]:
    """id -> the person's name, for each id with a staff account (by staff id or directory id)."""
    wanted = {s for s in subjects if s}
    if not wanted:
        return {}
    rows = (await uow.session.exec(
        select(StaffAccountRow.staff_id, StaffAccountRow.account_manager_id, StaffAccountRow.name)
        .where(or_(col(StaffAccountRow.staff_id).in_(wanted), col(StaffAccountRow.account_manager_id).in_(wanted)))
    )).all()
    names = {directory_id: name for _, directory_id, name in rows if directory_id in wanted}
    # A staff id is the account's own: it wins over a directory id that happens to be the same.
    names.update((staff_id, name) for staff_id, _, name in rows if staff_id in wanted)
    return names


async def own_login(uow: UnitOfWork, subject: str) -> str | None:
    """The login name of the active account a token's subject names (its staff id, or for staff in
    members' directory, their directory id, which one active account holds: a deactivated one may
    have held it before); None for a token no account stands behind (`crm token`)."""
    rows = (await uow.session.exec(
        select(StaffAccountRow.staff_id, StaffAccountRow.login)
        .where(or_(col(StaffAccountRow.staff_id) == subject, col(StaffAccountRow.account_manager_id) == subject),
               col(StaffAccountRow.deactivated_at).is_(None))
    )).all()
    # A staff id is the account's own: it wins over a directory id that happens to be the same.
    return next((login for staff_id, login in rows if staff_id == subject), rows[0][1] if rows else None)
