"""The chain's stores as the gateway knows them (`PUT /api/v1/stores/...`): a store id anyone sends
the platform names one of them, open for business.

The gateway is where stores are kept, so it judges every store id that comes in from outside and
is not bound by a token: the store of a sale or a return, of a staff account, the home store a
customer picks when signing up in the app and the store an app complaint is about. A customer
whose home store does not exist could never reserve a gift (there is no stock there), and a
complaint about one would sit in a queue nobody works. A report's or a list's store filter must name
a store too, closed ones included: their history is still there to read, while a store nobody has
would be answered with zeros, as if it had sold nothing.

It is also where store names live: every change is announced (`store_changed`), and the services
that name a store to customers (campaigns' messages) keep the names from there; and every change
(added, renamed, closed, reopened) is written to the store's audit trail (`store_audit`).
"""

import time
from collections.abc import Callable, Iterable
from enum import StrEnum

from sqlalchemy import bindparam, select
from sqlmodel import col
from sqlmodel import select as select_rows
from sqlmodel.ext.asyncio.session import AsyncSession

from gateway.adapters.tables import StoreAuditRow, StoreRow
from gateway.domain import audit_details as details
from gateway.domain.identity import Actor
from shared.commands import Commands
from shared.errors import Invalid, NotFound
from shared.events import contracts as c
from shared.events.registry import STORE_CHANGED
from shared.unit_of_work import UnitOfWork


class StoreAction(StrEnum):
    """What the audit trail of a store records; one save may be two (renamed and closed)."""

    CREATED = "created"
    RENAMED = "renamed"
    CLOSED = "closed"
    REOPENED = "reopened"


async def save_store(
    uow: UnitOfWork, actor: Actor, store_id: str, name: str, city: str, active: bool | None = None,
) -> StoreRow:
    """Creates or changes a store and announces it as it now is. Saving a store unchanged announces
    it again, which is how an operator hands the names to a service that missed them. `active`
    None keeps a store open or closed as it is, and opens a new one: a store closes or reopens
    only when asked to. What changed is written to the store's audit trail, as the changes of staff
    accounts and tills are (who, when, what); a save that changes nothing records nothing."""
    row = await uow.session.get(StoreRow, store_id)
    now = uow.now()
    if row is None:
        row = StoreRow(store_id=store_id, name=name, city=city, active=True if active is None else active, created_at=now)
        audit(uow, actor, StoreAction.CREATED, store_id, details.store(name, city))
        if not row.active:
            audit(uow, actor, StoreAction.CLOSED, store_id)
    else:
        if (row.name, row.city) != (name, city):
            audit(uow, actor, StoreAction.RENAMED, store_id,
                  details.account_change(details.store(row.name, row.city), details.store(name, city)))
        row.name, row.city = name, city
        if active is not None and active != row.active:
            audit(uow, actor, StoreAction.CLOSED if not active else StoreAction.REOPENED, store_id)
            row.active = active
    uow.session.add(row)
    uow.emit(STORE_CHANGED, c.StoreChangedV1(store_id=store_id, name=name, city=city, active=row.active, changed_at=now),
             key=store_id, subject=store_id)
    await uow.session.flush()
    return row


def audit(uow: UnitOfWork, actor: Actor, action: StoreAction, store_id: str, detail: str = "") -> None:
    """Writes down a change of a store: the one way every change of a store is recorded."""
    uow.session.add(StoreAuditRow(
        at=uow.now(), actor=actor.name[:200], actor_role=actor.role[:32], action=action.value, store_id=store_id,
        detail=detail[:details.MAX_DETAIL_CHARS],
    ))


async def audit_trail(uow: UnitOfWork, store_id: str) -> list[StoreAuditRow]:
    """The store's audit trail, oldest first; NotFound for a store the chain never had."""
    if await uow.session.get(StoreRow, store_id) is None:
        raise NotFound(f"no store {store_id}")
    query = (
        select_rows(StoreAuditRow).where(StoreAuditRow.store_id == store_id)
        .order_by(col(StoreAuditRow.at), col(StoreAuditRow.id))
    )
    return list((await uow.session.exec(query)).all())


def no_open_store(store_id: str, *, field: str = "store_id", kind: type[Invalid] = Invalid) -> Invalid:
    """The refusal of a store id that names no store open for business, in the caller's shape."""
    return kind(field, f"unknown or inactive store {store_id}")


# Every registration, return and app complaint checks its store: one column by key with a
# statement built once, not the ORM row (its look-up was a fifth of the gateway's CPU in forwarding
# a registration).
_ACTIVE = select(StoreRow.__table__.c.active).where(StoreRow.__table__.c.store_id == bindparam("store_id"))  # type: ignore[attr-defined]
_STORES = StoreRow.__table__  # type: ignore[attr-defined]
_OPEN_AMONG = select(_STORES.c.store_id).where(_STORES.c.store_id.in_(bindparam("store_ids", expanding=True)), _STORES.c.active)


async def is_open(session: AsyncSession, store_id: str) -> bool | None:
    """Whether the store is open for business; None for a store the chain never had."""
    active = (await session.exec(_ACTIVE, params={"store_id": store_id})).first() if store_id else None  # type: ignore[call-overload]
    return None if active is None else bool(active[0])


async def ensure_store(
    session: AsyncSession, store_id: str, *, field: str = "store_id", kind: type[Invalid] = Invalid, closed_too: bool = False,
) -> None:
    """`closed_too` for a store id that says where to look rather than where something happens now
    (a report's filter): any store the chain has had will do."""
    open_now = await is_open(session, store_id)
    if open_now is None and closed_too:
        raise kind(field, f"unknown store {store_id}" if store_id else "empty: name a store, or leave it out for every store")
    if open_now is None or not (open_now or closed_too):
        raise no_open_store(store_id, field=field, kind=kind)


async def ensure_report_stores(commands: Commands, store_ids: Iterable[str]) -> None:
    """A report's or a list's store filter (anything forwarded to a service, and the console's
    reports) names stores the chain has or had; checked in a transaction of its own, which ends
    before the service is asked (that may take a while)."""
    if store_ids := list(store_ids):
        await ensure_had(commands, [("store_id", store_id) for store_id in store_ids])


async def ensure_had(commands: Commands, named: Iterable[tuple[str, str]], *, kind: type[Invalid] = Invalid) -> None:
    """Each store of `named` ((place, store id)) is one the chain has or had, closed ones too (where
    something was, or whose customers a rule means, not where something happens now); one it never
    had is refused at its place. Read in a transaction of its own, ended before a service is asked."""
    async with commands(read_only=True) as uow:
        for place, store in named:
            await ensure_store(uow.session, store, field=place, kind=kind, closed_too=True)


class OpenStores:
    """The stores this process saw open for business in the last `ttl_s` seconds, so that a sale, a
    registration, an app sign-up or an app complaint does not read the store table every time: the
    look-up (a session, a statement, its commit) was a third of the gateway's CPU in forwarding a
    registration, and a round trip in every group of the POS writer's transaction (bench/README.md).
    A store closed here is forgotten once the closing commits; a replica that saw it open before
    (this one too, if its read raced the closing) takes it for open for at most `ttl_s` more, as
    it would have a moment earlier anyway. Unknown and closed stores are never remembered: a store
    opened a moment ago is accepted at once, and every refusal is read."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s, self._clock = ttl_s, clock
        self._seen: dict[str, float] = {}  # store id -> when it was last read open

    def seen_open(self, store_id: str) -> bool:
        seen = self._seen.get(store_id)
        return seen is not None and self._clock() - seen < self._ttl_s

    def saw_open(self, store_ids: Iterable[str]) -> None:
        now = self._clock()
        self._seen.update(dict.fromkeys(store_ids, now))

    async def ensure(self, commands: Commands, store_id: str, *, field: str = "store_id", kind: type[Invalid] = Invalid) -> None:
        """`ensure_store` (a store open for business), read only when not seen open lately."""
        if self.seen_open(store_id):
            return
        async with commands(read_only=True) as uow:
            await ensure_store(uow.session, store_id, field=field, kind=kind)
        self.saw_open([store_id])

    def unseen(self, named: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Of `named` ((place, store id), as a body names stores), the stores not seen open lately,
        each at the first place that names it, for `ensure_had`."""
        first: dict[str, str] = {}
        for place, store in named:
            if store not in first and not self.seen_open(store):
                first[store] = place
        return [(place, store) for store, place in first.items()]

    async def open_among(self, session: AsyncSession, store_ids: Iterable[str]) -> set[str]:
        """Which of `store_ids` are open for business, read with `session` (the caller's
        transaction) for those not seen open lately."""
        wanted = set(store_ids)
        known = {store_id for store_id in wanted if self.seen_open(store_id)}
        if unsure := wanted - known:
            found = set((await session.exec(_OPEN_AMONG, params={"store_ids": list(unsure)})).scalars().all())  # type: ignore[call-overload]
            self.saw_open(found)
            known |= found
        return known

    def forget(self, store_id: str) -> None:
        self._seen.pop(store_id, None)
