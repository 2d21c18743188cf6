"""Service entitlements (free home visits to collect leftover materials): what is left, and uses."""

from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from sqlmodel import col, select

from points.adapters.tables import EntitlementRow, EntitlementUseRow
from points.api.schemas import EntitlementPublic, EntitlementUseIn, EntitlementUsePublic
from points.domain.entitlements import EntitlementKind, used_in_future
from points.service_layer.entitlements import UseRequest, book_use
from shared.authorize import Allowed
from shared.deps import CommandsDep, NowDep, UowDep
from shared.idempotency import IdempotencyKey
from shared.policy import Grant

router = APIRouter(prefix="/v1/entitlements", tags=["service entitlements"])


@router.get("/{member_id}", summary="Granted, used and remaining, with every use")
async def get_entitlements(member_id: str, uow: UowDep, _: Annotated[Grant, Allowed("points.account.read")]) -> list[EntitlementPublic]:
    rows = (await uow.session.exec(select(EntitlementRow).where(EntitlementRow.member_id == member_id).order_by(EntitlementRow.kind))).all()
    uses = (
        await uow.session.exec(select(EntitlementUseRow).where(EntitlementUseRow.member_id == member_id).order_by(col(EntitlementUseRow.id)))
    ).all()
    return [
        EntitlementPublic(
            kind=r.kind, granted=r.granted, used=r.used, remaining=max(0, r.granted - r.used),
            uses=[EntitlementUsePublic.model_validate(u, from_attributes=True) for u in uses if u.kind == r.kind],
        )
        for r in rows
    ]


@router.post("/{member_id}/{kind}/uses", status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "A retry with the same Idempotency-Key: the use it booked"},
                        409: {"description": "No use left, or the member is erased"}})
async def use_entitlement(
    member_id: str, kind: EntitlementKind, body: EntitlementUseIn, grant: Annotated[Grant, Allowed("points.entitlement.use")],
    commands: CommandsDep, request: Request, response: Response, now: NowDep, idempotency_key: IdempotencyKey,
) -> EntitlementUsePublic:
    """Book one use at the service desk (date of the visit, the booking staff member)."""
    grant.ensure_store(body.store_id)
    settings = request.app.state.settings
    today = now.astimezone(settings.zone).date()  # the stores' date, as the desk's calendar shows it
    if used_in_future(body.used_on, today):
        raise RequestValidationError([{
            "type": "value_error", "loc": ("body", "used_on"), "input": body.used_on.isoformat(),
            "msg": f"must not be after today ({today.isoformat()} in {settings.business_timezone}): a use records a visit that took place",
        }])
    req = UseRequest(member_id, kind, body.used_on, body.store_id, grant.principal.subject, idempotency_key)
    use, replay = await commands.run(lambda uow: book_use(uow, req), retry_on_conflict=True)
    if replay:
        response.status_code = status.HTTP_200_OK
    return EntitlementUsePublic.model_validate(use, from_attributes=True)
