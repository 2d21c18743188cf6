"""The names customer messages give stores, from the store directory (`shared.store_directory`,
kept from the gateway's `store_changed`): a store renamed at the gateway is named anew in the next
message.

A message request names its store by id (`store_id` among its parameters); the sender fills in
`store_name` from the directory when it records the message. A store the gateway has not announced
yet is called by the name the request brought, if any, else by its id.
"""

from collections.abc import Iterable

from shared.store_directory import names
from shared.unit_of_work import UnitOfWork


async def name_stores(uow: UnitOfWork, params: Iterable[dict[str, str]]) -> None:
    """Sets `store_name` in each message's parameters that name a `store_id`."""
    params = [p for p in params if p.get("store_id")]
    known = await names(uow.session, {p["store_id"] for p in params})
    for p in params:
        p["store_name"] = known.get(p["store_id"]) or p.get("store_name") or p["store_id"]
