"""Merging two communities that turn out to be one place ("阳光花园" and "阳光花园一期" may be).

Everything of the merged community moves to the survivor in one transaction: its aliases, its
members, its households (an address both already have becomes one household), its rows in the
information base read models, and the account managers' coverage and tracking records. The merged
community is deleted and remembered in `community_merge`, so its id still resolves to the
survivor and merging it again is a no-op.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from members.adapters.tables import CommunityAliasRow, CommunityRow, HouseholdRow, MemberRow
from members.adapters.tables.infobase import CommunityMergeRow, HouseholdStoreSpendRow, MemberDaySpendRow
from members.adapters.tables.staff import CoverageRow, TrackingRecordRow
from members.domain.communities import household_moves
from members.service_layer import staff as staffing
from members.service_layer.communities import CommunityConflict, CommunityNotFound, current_community
from members.service_layer.infobase import rebuild_months
from shared.errors import Invalid
from shared.unit_of_work import UnitOfWork


class SelfMerge(Invalid):
    def __init__(self, message: str) -> None:
        super().__init__("community_id", message)


@dataclass(frozen=True)
class MergeResult:
    survivor: CommunityRow
    merged_id: str
    already_merged: bool
    members: int = 0
    households_moved: int = 0
    households_joined: int = 0
    aliases: int = 0
    read_model_rows: int = 0


async def merge(uow: UnitOfWork, into_id: str, merged_id: str, actor: str) -> MergeResult:
    session, now = uow.session, uow.now()
    if into_id == merged_id:
        raise SelfMerge("a community cannot be merged into itself")
    # Both rows locked in id order (PostgreSQL) before anything is decided, so two merges or alias
    # changes touching the same communities run one after the other, and the later one sees what
    # the earlier did: a community merged and deleted meanwhile is not among the rows locked.
    locked = {row.id: row for row in (await session.exec(
        select(CommunityRow).where(col(CommunityRow.id).in_(sorted([into_id, merged_id])))
        .order_by(col(CommunityRow.id)).with_for_update().execution_options(populate_existing=True)
    )).all()}
    survivor = locked.get(into_id) or await current_community(session, into_id)
    if survivor.id != into_id:
        raise CommunityConflict(f"community {into_id} was itself merged into {survivor.id}; merge into that one")
    merged = locked.get(merged_id)
    if merged is None:
        record = await session.get(CommunityMergeRow, merged_id)
        if record is None:
            raise CommunityNotFound(f"no community {merged_id}")
        if record.into_community_id != survivor.id:
            raise CommunityConflict(f"community {merged_id} was already merged into {record.into_community_id}")
        return MergeResult(survivor, merged_id, already_merged=True)
    # Members first: a sale being recorded for one of them holds or waits for the member row, and
    # reads the community only after that (service_layer/infobase.py), so none is left behind.
    members = await _update(session, MemberRow, col(MemberRow.community_id) == merged.id, community_id=survivor.id)
    joined, moved = await _move_households(session, merged.id, survivor.id)
    rows = await _update(session, MemberDaySpendRow, col(MemberDaySpendRow.community_id) == merged.id, community_id=survivor.id)
    # Day rows changed community and household above; their month sums are written again.
    await rebuild_months(session, [merged.id, survivor.id])
    aliases = await _update(session, CommunityAliasRow, col(CommunityAliasRow.community_id) == merged.id, community_id=survivor.id)
    await _move_staff_records(session, merged.id, survivor.id)
    await _update(session, CommunityMergeRow, col(CommunityMergeRow.into_community_id) == merged.id, into_community_id=survivor.id)
    session.add(CommunityMergeRow(
        from_community_id=merged.id, into_community_id=survivor.id, from_name=merged.name, merged_by=actor,
        merged_at=now,
    ))
    await session.delete(merged)
    await session.flush()
    # The merged community's VIPs may have waited for a manager the survivor has.
    await staffing.assign_waiting_vips(uow, [survivor.id], now)
    return MergeResult(
        survivor, merged_id, already_merged=False, members=members, households_moved=moved,
        households_joined=joined, aliases=aliases, read_model_rows=rows,
    )


async def _update(session: AsyncSession, row: type, where: ColumnElement[bool], **values: object) -> int:
    result = await session.exec(update(row).where(where).values(**values).execution_options(synchronize_session=False))
    return result.rowcount


async def _move_households(session: AsyncSession, merged_id: str, survivor_id: str) -> tuple[int, int]:
    async def households(community_id: str) -> dict[str, str]:
        rows = (await session.exec(select(HouseholdRow).where(HouseholdRow.community_id == community_id))).all()
        return {h.id: h.address_key for h in rows}

    joins, moves = household_moves(await households(merged_id), await households(survivor_id))
    for old, new in joins.items():
        await _update(session, MemberRow, col(MemberRow.household_id) == old, household_id=new)
        await _update(session, MemberDaySpendRow, col(MemberDaySpendRow.household_id) == old, household_id=new)
        await _join_rollups(session, old, new)
    if joins:
        await session.exec(delete(HouseholdRow).where(col(HouseholdRow.id).in_(list(joins))))
    if moves:
        await _update(session, HouseholdRow, col(HouseholdRow.id).in_(moves), community_id=survivor_id)
    await _update(
        session, HouseholdStoreSpendRow, col(HouseholdStoreSpendRow.community_id) == merged_id, community_id=survivor_id
    )
    return len(joins), len(moves)


async def _join_rollups(session: AsyncSession, old: str, new: str) -> None:
    """The all-time totals of a household that joins another are added to that household's."""
    rows = (await session.exec(select(HouseholdStoreSpendRow).where(HouseholdStoreSpendRow.household_id == old))).all()
    for row in rows:
        into = await session.get(HouseholdStoreSpendRow, (new, row.store_id))
        if into is None:
            into = HouseholdStoreSpendRow(household_id=new, store_id=row.store_id, community_id=row.community_id)
        into.spend += row.spend
        into.purchases += row.purchases
        session.add(into)
        await session.delete(row)
    await session.flush()


async def _move_staff_records(session: AsyncSession, merged_id: str, survivor_id: str) -> None:
    # A manager covering both keeps one coverage row; tracking records follow their community.
    covering = select(CoverageRow.manager_id).where(CoverageRow.community_id == survivor_id)
    await session.exec(delete(CoverageRow).where(
        col(CoverageRow.community_id) == merged_id, col(CoverageRow.manager_id).in_(covering)
    ))
    await _update(session, CoverageRow, col(CoverageRow.community_id) == merged_id, community_id=survivor_id)
    await _update(session, TrackingRecordRow, col(TrackingRecordRow.community_id) == merged_id, community_id=survivor_id)
