"""People by name on the console. Staff: the staff account behind a token's subject or an id a
page lists (a staff id `stf_…`, or for staff in members' directory, their directory id). Pages name
everyone they list with one query (`display_names`), and the ids no account names with one read of
members' staff directory as the reader may read it (an account manager needs no console login to
be named); an id neither names, or every id the gateway does not know while members cannot answer,
is shown as the id itself. Customers: as members shows them to the reader (`customer_names`)."""

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import or_
from sqlmodel import col, select

from gateway.adapters.clients import segment
from gateway.adapters.tables import StaffAccountRow
from gateway.service_layer.console_reads import ServiceRefused, read
from shared.auth import Principal
from shared.errors import ServiceError
from shared.policy import POLICY
from shared.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# Customers a page names at most: each is one read at members (and one line of its access log).
NAMED_AT_MOST = 200


async def display_name(uow: UnitOfWork, subject: str) -> str | None:
    return (await display_names(uow, [subject])).get(subject)


@dataclass(frozen=True, slots=True)
class StaffDirectory:
    """Members' staff directory as the reader reads it: with their own token, so members decides
    whose names they see (their own store's staff, every store's for head office)."""

    members: Any
    reader: Principal
    headers: dict[str, str]


class _Listed(BaseModel):
    id: str
    name: str


_LISTING = TypeAdapter(list[_Listed])


def _may_be_staff(subject: str) -> bool:
    """Not what services record for a step no person took or for whom it waits: feedback's queues
    (`desk:S001`) and the services' own actors (`system`, `system:escalation`), which the pages
    word themselves and members' directory has no one by."""
    return subject != "system" and ":" not in subject


async def display_names(uow: UnitOfWork, subjects: Iterable[str | None],
                        directory: StaffDirectory | None = None) -> dict[str, str]:
    """id -> the person's name, for each id with a staff account (by staff id or directory id), and
    with `directory`, for each other id members' staff directory shows the reader."""
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
    unknown = {s for s in wanted - names.keys() if _may_be_staff(s)}
    if directory is not None and unknown:
        names.update(await _directory_names(directory, unknown))
    return names


async def _directory_names(directory: StaffDirectory, ids: set[str]) -> dict[str, str]:
    """The names members' staff directory gives the ids, in one read: nothing when the reader may
    not read it or members cannot answer now (the page shows the ids, as it did before)."""
    if directory.reader.role not in POLICY["members.staff.read"]:
        return {}
    try:
        if len(ids) == 1:
            # One person (a customer's account manager, most often): their own entry, not the
            # whole directory, which for head office is every store's staff.
            answer = [await read(directory.members, "members", f"/v1/staff/{segment(next(iter(ids)))}", directory.headers)]
        else:
            answer = await read(directory.members, "members", "/v1/staff", directory.headers)
        listed = _LISTING.validate_python(answer)
    except ServiceRefused:  # not theirs to read (another store's), or no one by that id
        return {}
    except (ServiceError, ValidationError) as exc:
        log.warning("staff directory not read, staff shown by id: %s", exc)
        return {}
    return {person.id: person.name for person in listed if person.id in ids}


async def own_account(uow: UnitOfWork, subject: str) -> StaffAccountRow | None:
    """The active account a token's subject names (its staff id, or for staff in members'
    directory, their directory id, which one active account holds: a deactivated one may have held
    it before); None for a token no account stands behind (`crm token`)."""
    rows = (await uow.session.exec(
        select(StaffAccountRow)
        .where(or_(col(StaffAccountRow.staff_id) == subject, col(StaffAccountRow.account_manager_id) == subject),
               col(StaffAccountRow.deactivated_at).is_(None))
    )).all()
    # A staff id is the account's own: it wins over a directory id that happens to be the same.
    return next((row for row in rows if row.staff_id == subject), rows[0] if rows else None)


async def own_login(uow: UnitOfWork, subject: str) -> str | None:
    """The login name of the account a token's subject names (`own_account`)."""
    account = await own_account(uow, subject)
    return account.login if account is not None else None


async def customer_names(members: Any, member_ids: Iterable[str | None], headers: dict[str, str],
                         named: Callable[[str], str]) -> dict[str, str]:
    """member id -> "name (card no.)" for the customers the reader may see, read from members with
    the reader's own token, so members' rules decide (its masking, its access log), each name as
    `named` words it for the reader (an erased customer's placeholder in their language). A customer
    the reader may not see is left out and shown by id: a store's lists hold walk-in customers of
    other stores too, whom a store manager sees by id only (their profiles are the other store's)."""
    ids = sorted({i for i in member_ids if i})[:NAMED_AT_MOST]
    found = await asyncio.gather(*(_profile(members, i, headers) for i in ids))
    return {m["id"]: f"{named(m['name'])} ({m['card_no']})" for m in found if m is not None}


async def _profile(members: Any, member_id: str, headers: dict[str, str]) -> dict[str, Any] | None:
    try:
        profile: dict[str, Any] = await read(members, "members", f"/v1/members/{segment(member_id)}", headers)
    except ServiceRefused as refused:
        if refused.status_code in (403, 404):
            return None
        raise
    return profile
