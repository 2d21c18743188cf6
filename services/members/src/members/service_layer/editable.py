"""An erased member's record is read-only: the one check every change to it (profile, card,
account manager) makes, under the member's row lock so that a change racing the erasure waits for
it and is then refused, rather than applied after it."""

from members.adapters.tables import MemberRow
from members.config import settings_of
from shared.errors import Conflict
from shared.unit_of_work import UnitOfWork


class ProfileConflict(Conflict):
    """The edit cannot be applied: the phone belongs to someone else, or the member is erased."""


async def lock_editable(uow: UnitOfWork, member: MemberRow) -> None:
    """Reads the member again under a row lock (PostgreSQL; SQLite runs one writer at a time): of
    two changes at once (a double click, two desks), the second waits for the first and then sees
    what it saved. Raises ProfileConflict when the member is erased."""
    await uow.session.refresh(member, with_for_update=True)
    if member.erased_at is not None:
        when = member.erased_at.astimezone(settings_of(uow).zone).isoformat(timespec="minutes")
        raise ProfileConflict(f"member {member.id} was erased on {when}; the profile is read-only")
