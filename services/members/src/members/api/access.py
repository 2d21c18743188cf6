"""How the members service applies the shared access policy (`shared.policy`) to its own rows.

Members owns the facts the policy decides on (a customer's home store and account manager), so
`member_facts` is also what the shared dependency uses to check every `{member_id}` route.
"""

from sqlalchemy import ColumnElement, bindparam, select
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables import MemberRow
from shared.policy import Grant, MemberFacts, NotCustomer
from shared.unit_of_work import UnitOfWork


def facts(member: MemberRow) -> MemberFacts:
    return MemberFacts(member.id, member.home_store_id, member.manager_id, member.erased_at)


_M = MemberRow.__table__.c  # type: ignore[attr-defined]


# The four columns alone, not the member's row: a route that only checks access has no use for
# the rest of the profile. Built once: building and keying it cost more CPU than running it.
_FACTS = select(_M.id, _M.home_store_id, _M.manager_id, _M.erased_at).where(_M.id == bindparam("member_id"))


async def member_facts(session: AsyncSession, member_id: str) -> MemberFacts | None:
    row = (await session.exec(_FACTS, params={"member_id": member_id})).first()  # type: ignore[call-overload]
    return None if row is None else MemberFacts(*row)


def member_scope(grant: Grant) -> list[ColumnElement[bool]]:
    """WHERE conditions limiting a member query to the customers the caller may see."""
    return grant.where(MemberRow.id, MemberRow.home_store_id, MemberRow.manager_id)


async def ensure_visible(uow: UnitOfWork, member_id: str, grant: Grant) -> None:
    """As `visible_member`, for a route that reads the member's other records, not the profile."""
    found = await member_facts(uow.session, member_id)
    grant.ensure_member(found, member_id)
    if found is None:
        raise NotCustomer(f"no member {member_id}")


async def visible_member(uow: UnitOfWork, member_id: str, grant: Grant) -> MemberRow:
    """The member, if it exists and the caller may act on it (404 / 403 otherwise)."""
    member = await uow.session.get(MemberRow, member_id)
    grant.ensure_member(None if member is None else facts(member), member_id)
    if member is None:
        raise NotCustomer(f"no member {member_id}")
    return member
