"""Who is logged in to the console, by name: the staff account behind a token's subject (its staff
id, or for staff in members' directory, their directory id)."""

from sqlalchemy import or_
from sqlmodel import col, select

from gateway.adapters.tables import StaffAccountRow
from shared.unit_of_work import UnitOfWork


async def display_name(uow: UnitOfWork, subject: str) -> str | None:
    row = (await uow.session.exec(
        select(StaffAccountRow.name).where(or_(col(StaffAccountRow.staff_id) == subject,
                                               col(StaffAccountRow.account_manager_id) == subject)).limit(1)
    )).first()
    return row
