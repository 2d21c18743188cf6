"""Communities: resolving what a customer wrote to a community and a household, and the staff's
upkeep of communities (search, aliases, renames; merges are in `community_merge`)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables import CommunityAliasRow, CommunityRow, HouseholdRow, MemberRow
from members.adapters.tables.infobase import CommunityMergeRow
from members.domain.communities import address_key, community_key
from shared.db import insert_or_skip
from shared.errors import Conflict, NotFound


async def resolve_community(session: AsyncSession, name: str, *, now: datetime) -> CommunityRow:
    """The community this name (or an alias of it) stands for; a name never seen starts a new one."""
    key = community_key(name)
    found = await _by_alias(session, key)
    if found is not None:
        return found
    community = CommunityRow(id=str(uuid.uuid4()), name=name.strip(), created_at=now)
    try:
        # A savepoint, so a concurrent registration creating the same community loses only this
        # insert and then finds the winner's row, instead of failing the whole registration.
        async with session.begin_nested():
            session.add(community)
            session.add(CommunityAliasRow(alias_key=key, alias=name.strip(), community_id=community.id))
    except IntegrityError:
        found = await _by_alias(session, key)
        if found is None:
            raise
        return found
    return community


async def _by_alias(session: AsyncSession, key: str) -> CommunityRow | None:
    return (
        await session.exec(
            select(CommunityRow).join(CommunityAliasRow, col(CommunityAliasRow.community_id) == col(CommunityRow.id))
            .where(CommunityAliasRow.alias_key == key)
        )
    ).first()


HOUSEHOLD = HouseholdRow.__table__  # type: ignore[attr-defined]


async def resolve_household(session: AsyncSession, community_id: str, address: str, *, now: datetime) -> str:
    """The id of the household at `address` in the community; an address never seen starts one."""
    key = address_key(address)
    query = select(HouseholdRow.id).where(HouseholdRow.community_id == community_id, HouseholdRow.address_key == key)
    found = (await session.exec(query)).first()
    if found is not None:
        return found
    return await add_household(session, community_id, key, now=now)


async def add_household(session: AsyncSession, community_id: str, key: str, *, now: datetime) -> str:
    """The id of a new household at the address `key` (`address_key`), or of the one a concurrent
    registration at the same address inserted first."""
    household_id = str(uuid.uuid4())
    # ON CONFLICT DO NOTHING rather than a savepoint around the ORM's insert (three statements
    # instead of one): a concurrent registration at the same address that inserted first leaves
    # nothing inserted here, and its row is the household.
    row = {"id": household_id, "community_id": community_id, "address_key": key, "created_at": now}
    if await insert_or_skip(session, HOUSEHOLD, [row], conflict_on=["community_id", "address_key"], returning="id"):
        return household_id
    query = select(HouseholdRow.id).where(HouseholdRow.community_id == community_id, HouseholdRow.address_key == key)
    found = (await session.exec(query)).first()
    if found is None:
        raise RuntimeError(f"household {key!r} of community {community_id} was neither inserted nor found")
    return found


class CommunityNotFound(NotFound):
    pass


class CommunityConflict(Conflict):
    """The change would give an alias or a merge two owners; the message names the other one."""


async def current_community(session: AsyncSession, community_id: str) -> CommunityRow:
    """The community by id; the id of a merged-away community leads to the one it was merged into."""
    found = await session.get(CommunityRow, community_id)
    if found is not None:
        return found
    merged = await session.get(CommunityMergeRow, community_id)
    if merged is not None:
        survivor = await session.get(CommunityRow, merged.into_community_id)
        if survivor is not None:
            return survivor
    raise CommunityNotFound(f"no community {community_id}")


async def add_alias(session: AsyncSession, community_id: str, alias: str) -> tuple[CommunityRow, bool]:
    """Makes `alias` name the community; returns (community, whether the alias is new)."""
    community = await current_community(session, community_id)
    key = community_key(alias)
    owner = await session.get(CommunityAliasRow, key)
    if owner is not None:
        if owner.community_id == community.id:
            return community, False
        other = await session.get(CommunityRow, owner.community_id)
        raise CommunityConflict(
            f"alias {alias!r} already belongs to community {owner.community_id}"
            + (f" ({other.name})" if other else "") + "; merge the two communities instead"
        )
    session.add(CommunityAliasRow(alias_key=key, alias=alias.strip(), community_id=community.id))
    try:
        await session.flush()
    except IntegrityError as exc:  # the same alias added concurrently elsewhere
        raise CommunityConflict(f"alias {alias!r} was just given to another community") from exc
    return community, True


async def rename(session: AsyncSession, community_id: str, name: str) -> CommunityRow:
    """A new display name; it also becomes an alias, so registrations under it find the community."""
    community, _ = await add_alias(session, community_id, name)
    community.name = name.strip()
    session.add(community)
    return community


async def aliases_of(session: AsyncSession, community_ids: list[str]) -> dict[str, list[str]]:
    rows = (await session.exec(
        select(CommunityAliasRow).where(col(CommunityAliasRow.community_id).in_(community_ids))
        .order_by(col(CommunityAliasRow.alias))
    )).all()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.community_id, []).append(row.alias)
    return found


@dataclass(frozen=True)
class CommunityListing:
    community: CommunityRow
    member_count: int
    household_count: int


async def search_communities(
    session: AsyncSession, text: str | None, limit: int, offset: int, *, only: str | None = None
) -> tuple[list[CommunityListing], int]:
    """Communities whose name or any alias contains `text` (compared as keys), most members first."""
    conditions: list[ColumnElement[bool]] = []
    if only:
        conditions.append(col(CommunityRow.id) == only)
    if text:
        conditions.append(or_(
            col(CommunityRow.name).contains(text.strip(), autoescape=True),
            exists().where(
                col(CommunityAliasRow.community_id) == col(CommunityRow.id),
                col(CommunityAliasRow.alias_key).contains(community_key(text), autoescape=True),
            ),
        ))
    members = (
        select(col(MemberRow.community_id), func.count().label("n"))
        .where(col(MemberRow.erased_at).is_(None)).group_by(col(MemberRow.community_id)).subquery()
    )
    # The households its members live in now: a household everyone moved out of (or whose one
    # member was erased) stays for the sales it made, but is no household of the community's.
    households = (
        select(col(MemberRow.community_id), func.count(func.distinct(col(MemberRow.household_id))).label("n"))
        .where(col(MemberRow.erased_at).is_(None)).group_by(col(MemberRow.community_id)).subquery()
    )
    member_count = func.coalesce(members.c.n, 0)
    listed = (
        select(CommunityRow, member_count, func.coalesce(households.c.n, 0))
        .where(*conditions)
        .outerjoin(members, members.c.community_id == CommunityRow.id)
        .outerjoin(households, households.c.community_id == CommunityRow.id)
        .order_by(member_count.desc(), col(CommunityRow.name), col(CommunityRow.id))
        .limit(limit).offset(offset)
    )
    rows = (await session.exec(listed)).all()
    total = (await session.exec(select(func.count()).select_from(CommunityRow).where(*conditions))).one()
    return [CommunityListing(r[0], int(r[1]), int(r[2])) for r in rows], total
