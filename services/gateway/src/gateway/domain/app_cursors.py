"""The member app's list cursors: each names the last item of the page it ends (a purchase by its
store and transaction, a ledger entry, message, coupon, reservation or complaint by its id), and
the next page lists what follows that item in the list's order.

A cursor is a position in the list, not a count: an item added while the member scrolls (a sale at
the till, a message sent, a coupon issued) comes before the position, at the top, so no item shows
twice on the next page and none is skipped, which an offset could not promise. The ids are wrapped
(base64url of a JSON list) so that the app treats the cursor as the opaque token the API documents
rather than building one of its own.
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

from shared.errors import Invalid
from shared.integers import INT64_MAX

NOT_OURS = "not a cursor of this list: pass the next_cursor of its previous page"
GONE = "names an item no longer in this list: start again from its first page"
# Longer than any cursor the gateway hands out (a store id and a transaction id, each bounded by its
# type, wrapped), short enough that a made-up one is refused before anything is decoded.
MAX_CURSOR_CHARS = 400


def cursor_of(*ids: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(ids, ensure_ascii=False, separators=(",", ":")).encode()).decode().rstrip("=")


def position(cursor: str, arity: int) -> tuple[str, ...]:
    """The ids a cursor of this list wraps; 422 naming `cursor` for one this list never handed out
    (kept from another list, mangled or made up), which tells the app's developer what is wrong
    where an empty page would look like the end of the list."""
    try:
        ids = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        ids = None
    if not (isinstance(ids, list) and len(ids) == arity and all(isinstance(i, str) and i for i in ids)):
        raise Invalid("cursor", NOT_OURS)
    return tuple(ids)


def entry_position(cursor: str) -> int:
    """The ledger entry id a ledger cursor wraps (points pages its ledger by entry id)."""
    [entry] = position(cursor, 1)
    if not (entry.isascii() and entry.isdigit() and 1 <= int(entry) <= INT64_MAX):
        raise Invalid("cursor", NOT_OURS)
    return int(entry)


def next_page(items: Sequence[Any], limit: int, ids: Callable[[Any], tuple[str, ...]]) -> dict[str, Any]:
    """One page from a read of up to `limit + 1` items (the extra one tells whether another page
    follows), its cursor naming its last item by `ids(item)`."""
    shown = list(items[:limit])
    more = len(items) > limit
    return {"items": shown, "next_cursor": cursor_of(*ids(shown[-1])) if more else None}


def after(items: Sequence[dict[str, Any]], wanted: str | None, key: str) -> Sequence[dict[str, Any]]:
    """The items following the one of id `wanted` (the cursor's, `position`), of a list read whole
    (coupons, complaints). One no longer listed is a 422 naming `cursor`, as the services answer for
    the lists they page themselves."""
    if wanted is None:
        return items
    for index, item in enumerate(items):
        if item[key] == wanted:
            return items[index + 1:]
    raise Invalid("cursor", GONE)
