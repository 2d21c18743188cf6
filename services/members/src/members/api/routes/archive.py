"""The customer archive (客户档案) of one member, for the staff who serve that customer."""

from typing import Annotated

from fastapi import APIRouter, Query

from members.api.access import visible_member
from members.api.presenters import present_archive
from members.api.privacy_schemas import MemberArchive
from members.service_layer.archive import build_archive
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.integers import Int64
from shared.policy import Grant

router = APIRouter(prefix="/v1/members", tags=["archive"])


@router.get("/{member_id}/archive")
async def member_archive(
    member_id: str,
    uow: UowDep,
    grant: Annotated[Grant, Allowed("members.archive.read")],
    purchases: Annotated[Int64, Query(ge=0, le=200, description="How many recent purchases to include")] = 20,
) -> MemberArchive:
    member = await visible_member(uow, member_id, grant)
    return await present_archive(uow, await build_archive(uow, member, purchases), grant)
