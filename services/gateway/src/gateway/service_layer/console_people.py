"""People by name on the console. Staff: the staff account behind a token's subject or an id a
page lists (a staff id `stf_…`, or for staff in members' directory, their directory id). Pages name
everyone they list with one query (`display_names`); an id with no account is shown as the id
itself. Customers: as members shows them to the reader (`customer_names`)."""

import asyncio
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select

from gateway.adapters.clients import segment
from gateway.adapters.tables import StaffAccountRow
from gateway.service_layer.console_reads import ServiceRefused, read
from shared.unit_of_work import UnitOfWork

# Customers a page names at most: each is one read at members (and one line of its access log).
NAMED_AT_MOST = 200


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


async def customer_names(members: Any, member_ids: Iterable[str | None], headers: dict[str, str]) -> dict[str, str]:
    """member id -> "name (card no.)" for the customers the reader may see, read from members with
    the reader's own token, so members' rules decide (its masking, its access log). A customer the
    reader may not see is left out and shown by id: a store's lists hold walk-in customers of other
    stores too, whom a store manager sees by id only (their profiles are the other store's), and an
    erased customer has no profile."""
    ids = sorted({i for i in member_ids if i})[:NAMED_AT_MOST]
    found = await asyncio.gather(*(_profile(members, i, headers) for i in ids))
    return {m["id"]: f"{m['name']} ({m['card_no']})" for m in found if m is not None}


async def _profile(members: Any, member_id: str, headers: dict[str, str]) -> dict[str, Any] | None:
    try:
        profile: dict[str, Any] = await read(members, "members", f"/v1/members/{segment(member_id)}", headers)
    except ServiceRefused as refused:
        if refused.status_code in (403, 404):
            return None
        raise
    return profile
