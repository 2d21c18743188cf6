"""The stores a segment rule names: the values of its `home_store` conditions, at any depth of its
`and`, `or` and `not`.

Campaigns checks a rule's shape and each store id's format, but cannot tell a store of the chain
from a typo: the gateway keeps the stores. A segment of "S999" or "s001" would be saved, previewed
as nobody and launched to nobody, without a word. So the gateway checks the stores a rule names as
it checks every store a body names (`api.routes.passthrough`, `service_layer.stores`)."""

from typing import Any

from pydantic import TypeAdapter, ValidationError

from shared.identifiers import StoreId

# Campaigns refuses a rule of more nodes, or a condition of more values, long before; the walk stops
# here whatever it is sent.
MAX_NODES = 2_000


def rule_stores(rule: Any, where: str = "rule") -> list[tuple[str, str]]:
    """(place, store id) of each value of a `home_store` condition of `rule`, the upper levels
    first, `place` as a refusal names it under the body (`rule.and.0.value.1`). A value that is no
    store id at all is left out, for campaigns to refuse with its reason; anything not shaped as a
    rule names none."""
    found: list[tuple[str, str]] = []
    queue: list[tuple[str, Any]] = [(where, rule)]
    for place, node in queue:  # breadth first; the queue grows to MAX_NODES at most
        if not isinstance(node, dict):
            continue
        if node.get("field") == "home_store":
            if isinstance(values := node.get("value"), list):
                found.extend((f"{place}.value.{i}", store) for i, value in enumerate(values[:MAX_NODES])
                             if (store := _store_id(value)) is not None)
            continue
        for key in ("and", "or"):
            if isinstance(children := node.get(key), list):
                queue.extend((f"{place}.{key}.{i}", child) for i, child in enumerate(children[:MAX_NODES - len(queue)]))
        if "not" in node and len(queue) < MAX_NODES:
            queue.append((f"{place}.not", node["not"]))
    return found


_STORE_ID = TypeAdapter(StoreId)


def _store_id(value: Any) -> str | None:
    try:
        return _STORE_ID.validate_python(value)
    except ValidationError:
        return None
