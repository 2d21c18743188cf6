"""The member app: me (profile, consents, export of my data, erasure). Forwarded to members with
the member's own token; the member id is the token's."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.adapters.clients import segment
from gateway.api.app_deps import AppGrant, Calls, mine
from gateway.api.app_schemas import ConsentsEdit, ProfileEdit
from gateway.service_layer import app as views
from shared.reports import member_export_file

router = APIRouter(prefix="/app/v1/me", tags=["member app"])


@router.get("", summary="My profile: card number, contact details, community, birthday, tier, consents")
async def profile(grant: AppGrant, calls: Calls) -> dict[str, Any]:
    return views.profile(await calls.get("members", f"/v1/members/{segment(mine(grant))}"))


@router.patch("", summary="Change my contact details, community or birthday (only the fields sent)")
async def edit_profile(body: ProfileEdit, grant: AppGrant, calls: Calls) -> dict[str, Any]:
    answer = await calls.send("PATCH", "members", f"/v1/members/{segment(mine(grant))}", json=body.model_dump(mode="json", exclude_unset=True))
    return views.profile(answer.body)


@router.get("/consents", summary="My consents in force: what I agreed to, when and where")
async def consents(grant: AppGrant, calls: Calls) -> dict[str, Any]:
    return await calls.get("members", f"/v1/members/{segment(mine(grant))}/consents")


@router.put("/consents", summary="Grant or withdraw consents (recorded as given in the app); answers the consents in force")
async def set_consents(body: ConsentsEdit, grant: AppGrant, calls: Calls) -> dict[str, Any]:
    return await views.set_consents(calls, mine(grant), {str(purpose): granted for purpose, granted in body.purposes.items()})


@router.post("/export", summary="A copy of everything the platform keeps about me: profile, purchases, points, coupons, "
                                  "messages, offers, complaints, surveys")
async def export(grant: AppGrant, calls: Calls) -> JSONResponse:
    # POST: the export is recorded in the access log, so it is not a cacheable read.
    member_id = mine(grant)
    return JSONResponse(await views.export(calls, member_id), headers=member_export_file(member_id))


@router.post("/erasure", summary="Erase my data; my sign-ins end and this token stops working")
async def erase(grant: AppGrant, calls: Calls, request: Request) -> dict[str, Any]:
    return await views.erase(calls, request.app.state.commands, request.app.state.revoked_members, mine(grant))
