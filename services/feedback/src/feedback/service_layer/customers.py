"""The customer a request names, as far as feedback knows them: refused if erased or if no member
could have that id (domain/customers.py says why the rest are accepted)."""

from sqlmodel.ext.asyncio.session import AsyncSession

from feedback.adapters.tables import MemberProfileRow
from feedback.domain.customers import check_named_member


async def recordable_member(session: AsyncSession, member_id: str) -> MemberProfileRow | None:
    """The member's profile (None while no event about them has arrived); MemberErased (409) or
    Invalid on `member_id` (422) for one nothing may be recorded about."""
    profile = await session.get(MemberProfileRow, member_id)
    check_named_member(member_id, known=profile is not None, erased_at=profile.erased_at if profile else None)
    return profile
