"""The customer a request names, as far as feedback knows them: refused if erased or if no member
could have that id (domain/customers.py says why the rest are accepted)."""

from sqlmodel.ext.asyncio.session import AsyncSession

from feedback.adapters.tables import ComplaintRow, MemberProfileRow
from feedback.domain.customers import check_complaint_member, check_named_member


async def recordable_member(session: AsyncSession, member_id: str) -> MemberProfileRow | None:
    """The member's profile (None while no event about them has arrived); MemberErased (409) or
    Invalid on `member_id` (422) for one nothing may be recorded about."""
    profile = await session.get(MemberProfileRow, member_id)
    check_named_member(member_id, known=profile is not None, erased_at=profile.erased_at if profile else None)
    return profile


async def ensure_complaint_recordable(session: AsyncSession, complaint: ComplaintRow) -> None:
    """MemberErased (409 on `complaint_id`) when the complaint's member is erased: by the complaint's
    own mark, or by their profile, for a complaint filed while the erasure was being applied (the
    erasure marked the complaints it found)."""
    profile = await session.get(MemberProfileRow, complaint.member_id) if complaint.member_id is not None else None
    check_complaint_member(complaint.member_id, erased_at=complaint.erased_at or (profile.erased_at if profile is not None else None))
