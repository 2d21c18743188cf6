"""Whether feedback records something new about the customer a request names (a complaint's
member, a comment book entry's), from what members' events told it about them.

- **Erased** (`member_erased` applied): refused, 409. The erasure empties the member's free text
  once, when the event arrives; a description or an entry written after it would never be
  emptied.
- **Unknown** (no event about them yet): members gives every member a UUID, so an id of another
  form can never become known, and is refused, 422 on `member_id`. A UUID feedback has not heard
  of is accepted: members registers a customer at the desk a moment before the desk files for
  them, and the registration reaches feedback over the broker a little later (seconds, longer
  while a consumer catches up). Refusing it would turn a lag the desk cannot see into an error it
  cannot act on; accepting it loses nothing, as every later event about the member (a VIP tier
  routing the complaint to their manager, an erasure emptying it) is applied to it when it comes,
  in the member's order.

Something new recorded under one of a member's complaints is about the member as much as a new
complaint naming them is: a comment book entry filed or linked under it, and its reopening (a new
round of work, deadline and escalation for a customer nothing more can be done for). Refused
once they are erased, on `complaint_id`. A complaint still open at the erasure is worked to its
end (resolved, then closed) and stays there.
"""

import re
from datetime import datetime

from shared.errors import Conflict, Invalid

# The ids members gives its members (members/service_layer/registration.py: uuid4, as text).
MEMBER_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class MemberErased(Conflict):
    """The member named was erased: nothing more is recorded about them (409)."""


def check_named_member(member_id: str, *, known: bool, erased_at: datetime | None, field: str = "member_id") -> None:
    if erased_at is not None:
        raise MemberErased(f"{field}: member is erased; nothing more is recorded about them")
    if not known and not MEMBER_ID.fullmatch(member_id):
        raise Invalid(field, f"no member {member_id}: a member's id is the UUID members gave them")


def check_complaint_member(member_id: str | None, *, erased_at: datetime | None) -> None:
    """Refuses recording anything more under a complaint whose member is erased (409 on
    `complaint_id`); an anonymous complaint names nobody."""
    if member_id is not None:
        check_named_member(member_id, known=True, erased_at=erased_at, field="complaint_id")
