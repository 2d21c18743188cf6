"""The chain's stores as a service needs to know them (name, city, open for business), learnt from
the gateway's `store_changed`.

The gateway is where stores are kept; a service that names stores to customers (campaigns'
messages) or must not send a customer to a closed one (points: a gift is picked up at a store)
keeps a small `store_directory` table from its events. A service lists `TABLE` among the tables
it migrates and maps `STORE_CHANGED` to `on_store_changed`.

Each event is the store as it is now, so the latest `changed_at` wins: an old event replayed from
the dead letters must not reopen a closed store or bring an old name back. A store no event has
told the service about is not known to be closed: the gateway admits only the stores it has, and
saving a store unchanged announces it again (how an operator hands the stores to a service that
missed them).
"""

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Column, select
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.columns import UtcDateTime
from shared.consumer import Delivery
from shared.db import insert_into, one_of
from shared.events import contracts as c
from shared.unit_of_work import UnitOfWork

TABLE = "store_directory"


class StoreDirectoryRow(SQLModel, table=True):
    __tablename__ = TABLE

    store_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    city: str = Field(default="", max_length=50)
    active: bool = True
    changed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


STORES = StoreDirectoryRow.__table__  # type: ignore[attr-defined]


async def on_store_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    """Keeps the store as the event has it, unless a later change is known already."""
    store = cast(c.StoreChangedV1, delivery.payload)
    insert = insert_into(uow.session, STORES).values(
        store_id=store.store_id, name=store.name, city=store.city, active=store.active, changed_at=store.changed_at)
    await uow.session.exec(insert.on_conflict_do_update(
        index_elements=[STORES.c.store_id],
        set_={name: insert.excluded[name] for name in ("name", "city", "active", "changed_at")},
        where=STORES.c.changed_at <= insert.excluded.changed_at,
    ))


async def names(session: AsyncSession, store_ids: Iterable[str]) -> dict[str, str]:
    """The known names of `store_ids`, in one query."""
    wanted = set(store_ids)
    if not wanted:
        return {}
    found = await session.exec(select(STORES.c.store_id, STORES.c.name).where(  # type: ignore[call-overload]
        one_of(session, STORES.c.store_id, wanted)))
    return {store_id: name for store_id, name in found.all()}


async def is_closed(session: AsyncSession, store_id: str) -> bool:
    """Whether the gateway has announced `store_id` closed (not open for business). A store it has
    not announced is not known to be closed."""
    active = (await session.exec(select(STORES.c.active).where(STORES.c.store_id == store_id))).first()  # type: ignore[call-overload]
    return active is not None and not active[0]
