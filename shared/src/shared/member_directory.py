"""What a service needs to know about each customer to apply the access policy, learnt from events.

Members owns customers; the other services keep a small `member_directory` table (home store,
account manager, erasure) fed by members' events, and answer `ServiceSpec.member_facts` from it.
A service lists `TABLE` among the tables it migrates and merges `handlers()` into its event map.

Every upsert is idempotent and tolerates any order of arrival: a manager assignment may arrive
before the registration, so each event writes only its own columns and never blanks another's.
- the home store is a fact with the time it was true at (`home_store_at`): the registration's,
  the value analytics' `as_of` (when the job read it) or the time staff moved the customer. An
  event changes it only with a newer one, so attributes the job read before a move by staff, and
  published after it, do not move the customer back; attributes without a store say nothing of it;
- an assignment sets the manager, also to none (the manager left, or the community has none);
- erasure records when; nothing clears it, so a late event cannot revive an erased customer.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, Table, func, or_
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.columns import UtcDateTime
from shared.consumer import BatchHandler, Delivery, Handler, in_turn
from shared.db import insert_into, insert_many
from shared.events import contracts as c
from shared.events.registry import (
    ACCOUNT_MANAGER_ASSIGNED,
    MEMBER_ATTRIBUTES,
    MEMBER_ERASED,
    MEMBER_PROFILE_CHANGED,
    MEMBER_REGISTERED,
)
from shared.policy import MemberFacts
from shared.unit_of_work import UnitOfWork

TABLE = "member_directory"


class MemberDirectoryRow(SQLModel, table=True):
    __tablename__ = TABLE

    member_id: str = Field(primary_key=True, max_length=36)
    home_store_id: str | None = Field(default=None, max_length=32)
    # When `home_store_id` was true (NULL: before the directory kept it; any event then sets it).
    home_store_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    manager_id: str | None = Field(default=None, max_length=64)
    erased_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


DIRECTORY = MemberDirectoryRow.__table__  # type: ignore[attr-defined]


async def _upsert(session: AsyncSession, member_id: str, values: dict[str, Any], on_conflict: dict[str, Any]) -> None:
    """INSERT the member with `values`; if the row exists, SET `on_conflict` (built from `excluded`)."""
    insert = insert_into(session, DIRECTORY)
    statement = insert.values(member_id=member_id, **values)
    await session.exec(statement.on_conflict_do_update(index_elements=[DIRECTORY.c.member_id], set_=on_conflict))


async def move_home_stores(session: AsyncSession, rows: list[dict[str, Any]], table: Table = DIRECTORY,
                           *, also: tuple[str, ...] = ()) -> None:
    """Sets each row's `home_store_id` as of its `home_store_at` (and the columns `also` names),
    unless `table` knows a store as of a later time (of two facts of one instant, the one read
    last stands, as its partition ordered them). A member new to `table` is inserted with the row
    as it is. For the directory and for a service's own table of members keyed by `member_id`
    with the same two columns."""
    statement, params = insert_many(session, table, rows)
    known_at = table.c.home_store_at
    await session.exec(statement.on_conflict_do_update(
        index_elements=[table.c.member_id],
        set_={name: statement.excluded[name] for name in ("home_store_id", "home_store_at", *also)},
        where=or_(known_at.is_(None), known_at <= statement.excluded.home_store_at),
    ), params=params)


async def on_member_registered(uow: UnitOfWork, delivery: Delivery) -> None:
    await on_members_registered(uow, [delivery])


async def on_members_registered(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
    """The home stores of a run of registrations, in one upsert (a member registered twice in
    the run: as one event after the other would leave it)."""
    rows: dict[str, dict[str, Any]] = {}
    for delivery in deliveries:
        member = cast(c.MemberRegisteredV1, delivery.payload)
        known = rows.get(member.member_id)
        if known is None or member.registered_at >= known["home_store_at"]:
            rows[member.member_id] = {"member_id": member.member_id, "home_store_id": member.home_store_id,
                                      "home_store_at": member.registered_at}
    if rows:
        await move_home_stores(uow.session, list(rows.values()))


async def on_account_manager_assigned(uow: UnitOfWork, delivery: Delivery) -> None:
    assigned = cast(c.AccountManagerAssignedV1, delivery.payload)
    await _upsert(uow.session, assigned.member_id, {"manager_id": assigned.manager_id}, {"manager_id": assigned.manager_id})


async def on_member_attributes(uow: UnitOfWork, delivery: Delivery) -> None:
    attributes = cast(c.MemberAttributesV1, delivery.payload)
    if attributes.home_store_id is None:
        return
    await move_home_stores(uow.session, [{"member_id": attributes.member_id, "home_store_id": attributes.home_store_id,
                               "home_store_at": attributes.as_of}])


async def on_member_profile_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    changed = cast(c.MemberProfileChangedV1, delivery.payload)
    # Staff may also take the home store away: none then.
    await move_home_stores(uow.session, [{"member_id": changed.member_id, "home_store_id": changed.home_store_id,
                               "home_store_at": changed.changed_at}])


async def on_member_erased(uow: UnitOfWork, delivery: Delivery) -> None:
    erased = cast(c.MemberErasedV1, delivery.payload)
    await _upsert(
        uow.session, erased.member_id, {"erased_at": erased.erased_at},
        {"erased_at": func.coalesce(DIRECTORY.c.erased_at, erased.erased_at)},
    )


HANDLERS: Mapping[str, Handler] = {
    MEMBER_REGISTERED: on_member_registered,
    ACCOUNT_MANAGER_ASSIGNED: on_account_manager_assigned,
    MEMBER_ATTRIBUTES: on_member_attributes,
    MEMBER_PROFILE_CHANGED: on_member_profile_changed,
    MEMBER_ERASED: on_member_erased,
}


def with_directory(own: Mapping[str, Handler]) -> dict[str, Handler]:
    """The service's event map plus the directory's. A type both handle runs the directory's handler
    first, then the service's, in the same transaction: the service's handler sees the facts as
    updated by this event (e.g. an erasure is recorded before the service purges its own data)."""
    merged = dict(own)
    for event_type, directory_handler in HANDLERS.items():
        service_handler = merged.get(event_type)
        merged[event_type] = directory_handler if service_handler is None else in_turn(directory_handler, service_handler)
    return merged


def with_directory_batches(own: Mapping[str, BatchHandler]) -> dict[str, BatchHandler]:
    """The service's batch handlers, those taking registrations also keeping the directory: a batch
    handler replaces the single handlers `with_directory` merged for its type. Registrations go
    to the directory first, then the run to the service's handler, as `with_directory` orders
    them per event (the directory and the service's own tables do not read each other). Types
    sharing a handler keep sharing one (the consumer hands them to it in one run)."""
    registering = own.get(MEMBER_REGISTERED)
    if registering is None:
        return dict(own)

    async def keeping(uow: UnitOfWork, deliveries: list[Delivery]) -> None:
        await on_members_registered(uow, [d for d in deliveries if d.envelope.type == MEMBER_REGISTERED])
        await registering(uow, deliveries)

    return {event_type: keeping if handler is registering else handler for event_type, handler in own.items()}


async def member_facts(session: AsyncSession, member_id: str) -> MemberFacts | None:
    """The facts about one customer, or None for a customer no event has told this service about."""
    row = (await session.exec(select(MemberDirectoryRow).where(MemberDirectoryRow.member_id == member_id))).first()
    if row is None:
        return None
    return MemberFacts(member_id=row.member_id, home_store_id=row.home_store_id, manager_id=row.manager_id, erased_at=row.erased_at)


async def erased_among(session: AsyncSession, member_ids: Iterable[str]) -> set[str]:
    """Those of the members whose erasure this service has recorded: what a late or replayed event
    about them must not bring back (a card number, a name)."""
    ids = list(member_ids)
    if not ids:
        return set()
    found = await session.exec(select(MemberDirectoryRow.member_id).where(
        col(MemberDirectoryRow.member_id).in_(ids), col(MemberDirectoryRow.erased_at).is_not(None)))
    return set(found.all())
