"""What the access policy needs to know about a customer, read from feedback's own projection of
members' events (`MemberProfileRow`): their home store, account manager and erasure."""

from sqlmodel.ext.asyncio.session import AsyncSession

from feedback.adapters.tables import MemberProfileRow
from shared.policy import MemberFacts


async def member_facts(session: AsyncSession, member_id: str) -> MemberFacts | None:
    """None for a member feedback has not heard of yet (no event reached it): the policy then lets
    only callers whose scope needs no facts (ALL, or the member themself) act on them."""
    row = await session.get(MemberProfileRow, member_id)
    if row is None:
        return None
    return MemberFacts(
        member_id=row.member_id, home_store_id=row.home_store_id, manager_id=row.manager_id, erased_at=row.erased_at,
    )
