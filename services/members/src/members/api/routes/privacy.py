"""Privacy: the admins' access log, and a member's data export and erasure."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from members.api.access import visible_member
from members.api.presenters import access_entry, present_export
from members.api.privacy_schemas import AccessLogPage, ErasureResult, MemberExport
from members.service_layer.erasure import erase_member
from members.service_layer.export import export_member
from members.service_layer.privacy import access_log_page
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.identifiers import RecordId
from shared.integers import Int64
from shared.policy import Grant
from shared.reports import member_export_file
from shared.text import NonBlankText
from shared.zones import Moment

router = APIRouter(tags=["privacy"])


@router.get("/v1/privacy/access-log")
async def access_log(
    uow: UowDep,
    _: Annotated[Grant, Allowed("members.access_log.read")],
    # An empty id names nobody: refused, not taken for "every member's" rows.
    member_id: Annotated[RecordId | None, Query()] = None,
    actor: Annotated[NonBlankText | None, Query(max_length=64, description="Token subject of the reader")] = None,
    since: Annotated[Moment | None, Query(description="Inclusive")] = None,
    until: Annotated[Moment | None, Query(description="Exclusive")] = None,
    limit: Annotated[Int64, Query(ge=1, le=500)] = 100,
    offset: Annotated[Int64, Query(ge=0)] = 0,
) -> AccessLogPage:
    if since is not None and until is not None and until <= since:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "until: must be after since")
    rows, total = await access_log_page(
        uow.session, member_id=member_id, actor=actor, since=since, until=until, limit=limit, offset=offset
    )
    return AccessLogPage(items=[access_entry(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/v1/members/{member_id}/export")
async def export(member_id: str, uow: UowDep, grant: Annotated[Grant, Allowed("members.privacy.export")], response: Response) -> MemberExport:
    member = await visible_member(uow, member_id, grant)
    body = await present_export(uow, await export_member(uow, member), grant)
    response.headers.update(member_export_file(member_id))
    return body


@router.post("/v1/members/{member_id}/erasure")
async def erase(member_id: str, uow: UowDep, grant: Annotated[Grant, Allowed("members.privacy.erase")]) -> ErasureResult:
    member = await visible_member(uow, member_id, grant)
    erasure = await erase_member(uow, member, grant.principal)
    return ErasureResult(member_id=member_id, erased_at=erasure.erased_at, requested_by=erasure.requested_by)

