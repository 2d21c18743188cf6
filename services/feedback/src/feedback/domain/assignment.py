"""Who handles a complaint: a VIP's account manager, otherwise the store's service desk queue.

An assignee takes one of three forms, each matched to queues by `api/access.py`:
- `desk:<store_id>`: the store's service desk queue;
- `store_manager:<store_id>`: handed up to the store's manager (the desk and the store manager
  share their store's queue, and only staff bound to that store may handle its complaints);
- a staff id: an account manager, who handles what is assigned to them whatever the store.

A store queue of another store than the complaint's would put it in a queue whose staff are
refused when they open it, and an id nobody's token carries in no queue at all; both are refused
when staff reassign by hand (`check_reassignment`).
"""

import re
from dataclasses import dataclass

from shared.errors import Invalid
from shared.identifiers import STORE_ID_PATTERN

DESK, STORE_MANAGER = "desk", "store_manager"
# A staff id as the staff directory and the gateway's accounts give it (its token's subject): no
# colon, which marks a store queue.
STAFF_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_STORE_ID = re.compile(STORE_ID_PATTERN)


def desk_queue(store_id: str) -> str:
    return f"{DESK}:{store_id}"


def store_manager_queue(store_id: str) -> str:
    return f"{STORE_MANAGER}:{store_id}"


def assignee_for(store_id: str, tier: str | None, manager_id: str | None) -> str:
    if tier == "vip" and manager_id:
        return manager_id
    return desk_queue(store_id)


@dataclass(frozen=True)
class Assignee:
    """A parsed assignee: a store's queue (`store_id` set) or a person (`staff_id` set)."""

    text: str
    store_id: str | None = None
    staff_id: str | None = None


def parse_assignee(text: str) -> Assignee:
    """ValueError, saying which forms there are, for anything else (the API answers 422)."""
    queue, colon, store = text.partition(":")
    if colon:
        if queue not in (DESK, STORE_MANAGER) or not _STORE_ID.fullmatch(store) or len(store) > 32:
            raise ValueError(f"{text!r} is no queue: desk:<store_id> or store_manager:<store_id>")
        return Assignee(text, store_id=store)
    if not STAFF_ID.fullmatch(text):
        raise ValueError(
            f"{text!r} is neither a queue (desk:<store_id>, store_manager:<store_id>) nor a staff id "
            "(letters, digits and . _ @ -, at most 64)"
        )
    return Assignee(text, staff_id=text)


def assignee_form(text: str) -> str:
    """The API's check of the form alone (the schema's validator)."""
    return parse_assignee(text).text


def check_reassignment(assignee: Assignee, complaint_store_id: str, *, known_account_manager: bool) -> None:
    """Invalid on `assignee` unless the assignee can handle a complaint lodged at `complaint_store_id`:
    a queue of that very store, or an account manager feedback knows (one members assigned
    customers to; feedback has no other list of staff)."""
    if assignee.store_id is not None:
        if assignee.store_id != complaint_store_id:
            raise Invalid(
                "assignee",
                f"{assignee.text} is a queue of store {assignee.store_id}, whose staff cannot handle a complaint lodged at "
                f"{complaint_store_id}: use desk:{complaint_store_id} or store_manager:{complaint_store_id}",
            )
        return
    if not known_account_manager:
        raise Invalid(
            "assignee",
            f"no account manager {assignee.text} is known here (feedback learns them when members assigns them "
            f"customers): assign to an account manager, desk:{complaint_store_id} or store_manager:{complaint_store_id}",
        )
