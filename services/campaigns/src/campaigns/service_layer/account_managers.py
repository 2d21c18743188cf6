"""The account manager a VIP's welcome introduces, from members' staff directory.

No names or phones travel on the bus (docs/events.md): members' request names the manager by id
(`manager_id` among its parameters), and the sender fills in `manager_name` and `manager_phone`
when it records the message, so the text it stores (the member's inbox) names them as sent. A
request published before carries the name and phone itself: they are used as they are.

Members being away does not hold the consumer up: the message is recorded unrendered, waiting,
and the dispatch job names the manager and renders it once members answers (`messages.dispatch`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from campaigns.adapters.members_api import Manager, ManagerUnavailable, StaffDirectory, UnknownManager

NAMED = ("manager_name", "manager_phone")
NO_CREDENTIAL = "account manager look-up: campaigns has no service credential to reach members"
# How long a message waiting for its manager's name waits before the dispatch job asks members
# again: each run asks once for all that are due, so an outage costs one failed call a minute.
ASK_AGAIN_AFTER = timedelta(minutes=1)


@dataclass
class Naming:
    """What became of the messages (by id) whose manager had to be looked up: `failed` cannot be
    named (members knows no such manager, or campaigns has no credential to ask), `waiting` cannot be
    named now (members away, slow, or refusing the service's token), each with the reason. The
    others have `manager_name` and `manager_phone` among their parameters."""

    failed: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)


def _unnamed(params: dict[str, str]) -> bool:
    return bool(params.get("manager_id")) and not all(name in params for name in NAMED)


async def name_managers(staff: StaffDirectory | None, params: Mapping[str, dict[str, str]]) -> Naming:
    """Sets the manager's name and work phone in each message's parameters (by message id) that
    name a `manager_id` without them, one look-up per manager. Once members cannot answer, the
    managers not asked yet wait too: one timeout per call, not one per manager."""
    wanted = {key: p for key, p in params.items() if _unnamed(p)}
    if not wanted:
        return Naming()
    if staff is None:
        return Naming(failed=dict.fromkeys(wanted, NO_CREDENTIAL))
    found: dict[str, Manager | UnknownManager | ManagerUnavailable] = {}
    away: ManagerUnavailable | None = None
    for manager_id in sorted({p["manager_id"] for p in wanted.values()}):
        if away is not None:
            found[manager_id] = away
            continue
        try:
            found[manager_id] = await staff.manager(manager_id)
        except UnknownManager as exc:
            found[manager_id] = exc
        except ManagerUnavailable as exc:
            found[manager_id] = away = exc
    naming = Naming()
    for key, p in wanted.items():
        manager = found[p["manager_id"]]
        if isinstance(manager, ManagerUnavailable):
            naming.waiting[key] = f"waiting for the account manager's name: {manager}"
        elif isinstance(manager, UnknownManager):
            naming.failed[key] = str(manager)
        else:
            p["manager_name"], p["manager_phone"] = manager.name, manager.work_phone
    return naming
