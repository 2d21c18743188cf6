"""Communities as entities: find them, give them aliases, rename and merge them.

Staff may look communities up; changing them (aliases, names, merges) is for store managers and
admins, because it moves customers between communities in every report.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from members.adapters.tables import CommunityRow
from members.api.infobase_schemas import (
    AliasCreate,
    CommunityPage,
    CommunityPublic,
    CommunityRename,
    MergeOutcome,
    MergeRequest,
)
from members.service_layer.communities import (
    add_alias,
    aliases_of,
    current_community,
    rename,
    search_communities,
)
from members.service_layer.community_merge import merge
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.integers import Int64
from shared.policy import Grant
from shared.text import NonBlankText
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/communities", tags=["communities"])

EditorDep = Annotated[Grant, Allowed("members.community.edit")]
ReaderDep = Annotated[Grant, Allowed("members.community.read")]


async def _public(uow: UnitOfWork, community: CommunityRow) -> CommunityPublic:
    listings, _ = await search_communities(uow.session, None, 1, 0, only=community.id)
    [listing] = listings
    aliases = await aliases_of(uow.session, [community.id])
    return CommunityPublic(
        id=community.id, name=community.name, aliases=aliases.get(community.id, []),
        member_count=listing.member_count, household_count=listing.household_count,
    )


async def _current(uow: UnitOfWork, community_id: str) -> CommunityRow:
    return await current_community(uow.session, community_id)


@router.get("")
async def find_communities(
    uow: UowDep,
    _: ReaderDep,
    # A term of spaces says nothing: taken as asked, every community contains it.
    q: Annotated[NonBlankText | None, Query(max_length=100, description="Part of the name or of any alias")] = None,
    limit: Annotated[Int64, Query(ge=1, le=500)] = 50,
    offset: Annotated[Int64, Query(ge=0)] = 0,
) -> CommunityPage:
    listings, total = await search_communities(uow.session, q, limit, offset)
    aliases = await aliases_of(uow.session, [lst.community.id for lst in listings])
    items = [
        CommunityPublic(
            id=lst.community.id, name=lst.community.name, aliases=aliases.get(lst.community.id, []),
            member_count=lst.member_count, household_count=lst.household_count,
        )
        for lst in listings
    ]
    return CommunityPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{community_id}", description="A merged-away community's id answers with the community it joined.")
async def get_community(community_id: str, uow: UowDep, _: ReaderDep) -> CommunityPublic:
    return await _public(uow, await _current(uow, community_id))


@router.post("/{community_id}/aliases", responses={200: {"description": "The alias already named this community"}})
async def create_alias(
    community_id: str, body: AliasCreate, uow: UowDep, grant: EditorDep, response: Response
) -> CommunityPublic:
    await _current(uow, community_id)
    community, added = await add_alias(uow.session, community_id, body.alias)
    response.status_code = status.HTTP_201_CREATED if added else status.HTTP_200_OK
    return await _public(uow, community)


@router.patch("/{community_id}")
async def rename_community(community_id: str, body: CommunityRename, uow: UowDep, grant: EditorDep) -> CommunityPublic:
    await _current(uow, community_id)
    community = await rename(uow.session, community_id, body.name)
    return await _public(uow, community)


@router.post("/{community_id}/merge", description="Merges the body's community into this one; repeating it changes nothing.")
async def merge_community(community_id: str, body: MergeRequest, uow: UowDep, grant: EditorDep) -> MergeOutcome:
    result = await merge(uow, community_id, body.community_id, grant.principal.subject)
    return MergeOutcome(
        community=await _public(uow, result.survivor), merged_id=result.merged_id,
        already_merged=result.already_merged, members=result.members, households_moved=result.households_moved,
        households_joined=result.households_joined, aliases=result.aliases, read_model_rows=result.read_model_rows,
    )
