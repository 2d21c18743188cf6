"""The names customer messages give stores, kept from the gateway's `store_changed`: the gateway
is where the chain's stores live, so a store renamed there is named anew in the next message.

A message request names its store by id (`store_id` among its parameters); the sender fills in
`store_name` from here when it records the message. A store the gateway has not announced yet is
called by the name the request brought, if any, else by its id.
"""

from collections.abc import Iterable
from typing import cast

from sqlalchemy import select

from campaigns.adapters.tables import StoreNameRow
from shared.consumer import Delivery
from shared.db import insert_into, one_of
from shared.events import contracts as c
from shared.unit_of_work import UnitOfWork

STORE_NAMES = StoreNameRow.__table__  # type: ignore[attr-defined]


async def on_store_changed(uow: UnitOfWork, delivery: Delivery) -> None:
    """Keeps the store's name, unless a later change is known already (an old event replayed from
    the dead letters must not bring an old name back)."""
    store = cast(c.StoreChangedV1, delivery.payload)
    insert = insert_into(uow.session, STORE_NAMES).values(
        store_id=store.store_id, name=store.name, changed_at=store.changed_at)
    await uow.session.exec(insert.on_conflict_do_update(
        index_elements=[STORE_NAMES.c.store_id],
        set_={"name": insert.excluded.name, "changed_at": insert.excluded.changed_at},
        where=STORE_NAMES.c.changed_at <= insert.excluded.changed_at,
    ))


async def names(uow: UnitOfWork, store_ids: Iterable[str]) -> dict[str, str]:
    """The known names of `store_ids`, in one query."""
    wanted = set(store_ids)
    if not wanted:
        return {}
    found = await uow.session.exec(select(STORE_NAMES.c.store_id, STORE_NAMES.c.name).where(  # type: ignore[call-overload]
        one_of(uow.session, STORE_NAMES.c.store_id, wanted)))
    return {store_id: name for store_id, name in found.all()}


async def name_stores(uow: UnitOfWork, params: Iterable[dict[str, str]]) -> None:
    """Sets `store_name` in each message's parameters that name a `store_id`."""
    params = [p for p in params if p.get("store_id")]
    known = await names(uow, {p["store_id"] for p in params})
    for p in params:
        p["store_name"] = known.get(p["store_id"]) or p.get("store_name") or p["store_id"]
