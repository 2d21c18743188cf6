"""The account manager a VIP's welcome introduces, from members' staff directory.

No names or phones travel on the bus (docs/events.md): members' request names the manager by id
(`manager_id` among its parameters), and the sender fills in `manager_name` and `manager_phone`
when it records the message, so the text it stores (the member's inbox) names them as sent. A
request published before carries the name and phone itself: they are used as they are.
"""

from collections.abc import Mapping

from campaigns.adapters.members_api import Manager, StaffDirectory, UnknownManager

NAMED = ("manager_name", "manager_phone")
NO_CREDENTIAL = "account manager look-up: campaigns has no service credential to reach members"


def _unnamed(params: dict[str, str]) -> bool:
    return bool(params.get("manager_id")) and not all(name in params for name in NAMED)


async def name_managers(staff: StaffDirectory | None, params: Mapping[str, dict[str, str]]) -> dict[str, str]:
    """Sets the manager's name and work phone in each message's parameters (by message id) that
    name a `manager_id` without them, one look-up per manager. Answers the messages that cannot
    have them, with the reason: members knows no such manager, or campaigns has no credential to
    ask. `ManagerUnavailable` when members cannot answer now: nothing is recorded, and the consumer
    redelivers the request."""
    wanted = {key: p for key, p in params.items() if _unnamed(p)}
    if not wanted:
        return {}
    if staff is None:
        return dict.fromkeys(wanted, NO_CREDENTIAL)
    found: dict[str, Manager | str] = {}
    for manager_id in sorted({p["manager_id"] for p in wanted.values()}):
        try:
            found[manager_id] = await staff.manager(manager_id)
        except UnknownManager as exc:
            found[manager_id] = str(exc)
    failures: dict[str, str] = {}
    for key, p in wanted.items():
        manager = found[p["manager_id"]]
        if isinstance(manager, str):
            failures[key] = manager
        else:
            p["manager_name"], p["manager_phone"] = manager.name, manager.work_phone
    return failures
