"""A member's own gifts and expiring points, for the member app (reached through the gateway's
`/app/v1`): the catalogue at their channel's prices with their home store's stock, their gift
reservations (reserve with an Idempotency-Key, list, cancel while reserved) and when their points
expire. Every route names the member in its path, so the access policy checks it is the caller."""

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from points.adapters.tables import RedemptionRow
from points.api.schemas import (
    ExpiringLot,
    ExpiringPublic,
    MemberCatalogue,
    MemberGiftPublic,
    RedemptionPublic,
    ReserveIn,
)
from points.domain.catalogue import RegisterStatus
from points.service_layer import member_gifts as svc
from shared.authorize import Allowed
from shared.deps import CommandsDep, UowDep
from shared.events.contracts import Channel
from shared.idempotency import IdempotencyKey
from shared.identifiers import RecordId, StoreId
from shared.integers import Int64
from shared.policy import Grant
from shared.store_directory import is_closed
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/members/{member_id}", tags=["member's gifts"])


def _public(row: RedemptionRow) -> RedemptionPublic:
    return RedemptionPublic.model_validate(row, from_attributes=True)


@router.get("/gifts", summary="The catalogue at the member's channel's prices, with stock at their home store")
async def catalogue(
    member_id: str, uow: UowDep, grant: Annotated[Grant, Allowed("points.account.read")],
    channel: Annotated[Channel | None, Query(description="For a member points has no account of yet (just signed up): "
                                                         "their channel, as members has it; ignored once the account exists")] = None,
    home_store_id: Annotated[StoreId | None, Query(description="With `channel`: their home store, as members has it")] = None,
) -> MemberCatalogue:
    newcomer = svc.Newcomer(channel, home_store_id) if channel is not None else None
    channel_in_force, store, gifts = await svc.catalogue_for(uow.session, member_id, uow.now(), newcomer)
    if not grant.acts_for_store(store):  # a store-bound token sees no other store's stock, whoever the customer
        gifts = [replace(g, stock_at_home_store=None) for g in gifts]
    return MemberCatalogue(
        member_id=member_id, channel=channel_in_force, home_store_id=store,
        home_store_closed=store is not None and await is_closed(uow.session, store),
        gifts=[MemberGiftPublic.model_validate(g, from_attributes=True) for g in gifts],
    )


@router.get("/expiring", summary="The member's balance and their points by the day they expire")
async def expiring(member_id: str, uow: UowDep, _: Annotated[Grant, Allowed("points.account.read")]) -> ExpiringPublic:
    settings = uow.settings
    found = await svc.expiring(uow.session, member_id, settings.expiry_policy, settings.zone, uow.now())
    return ExpiringPublic(member_id=member_id, balance=found.account.balance, past_date=found.past_date,
                          expiring=[ExpiringLot(expires_on=d, points=p) for d, p in found.lots])


@router.get("/redemptions", summary="The member's gift reservations and redemptions, newest first")
async def reservations(
    member_id: str, uow: UowDep, _: Annotated[Grant, Allowed("points.redemption.read")],
    limit: Annotated[Int64, Query(ge=1, le=200)] = 50,
    offset: Annotated[Int64, Query(ge=0, le=1_000_000, description=(
        "Entries to skip: from the top of the list, or with `before_id` from the entry after it (then normally 0)"))] = 0,
    # The desk lists the gifts waiting to be handed over however many redemptions came after them.
    status: Annotated[RegisterStatus | None, Query(description="Only the entries in this state")] = None,
    # The app's next page: a reservation made while the member scrolls shifts every offset by one.
    before_id: Annotated[RecordId | None, Query(description=(
        "The next page: the `redemption_id` of the last entry of the previous page; only the entries after it in "
        "this order are listed (older, or as old with a greater id), whatever was reserved since. Any of the "
        "member's entries, matching `status` or not (it may have been handed over or cancelled since); "
        "422 for an id that is not one of the member's"))] = None,
) -> list[RedemptionPublic]:
    return [_public(r) for r in await svc.reservations(uow.session, member_id, limit, offset, status, before_id)]


@router.post(
    "/redemptions", status_code=status.HTTP_201_CREATED,
    summary="Reserve a gift for pick-up at the member's home store",
    responses={200: {"description": "A retry with the same Idempotency-Key: the original reservation"},
               409: {"description": "Too few points, out of stock at the home store, no home store known, "
                                    "the home store closed, or the key reused for another request"}},
)
async def reserve(
    member_id: str, body: ReserveIn, idempotency_key: IdempotencyKey, response: Response, commands: CommandsDep,
    _: Annotated[Grant, Allowed("points.redemption.reserve")],
) -> RedemptionPublic:
    async def command(uow: UnitOfWork) -> tuple[RedemptionRow, bool]:
        return await svc.reserve(uow, member_id, body.gift_id, idempotency_key, uow.now())

    row, replay = await commands.run(command, retry_on_conflict=True)
    if replay:
        response.status_code = status.HTTP_200_OK
    return _public(row)


@router.post("/redemptions/{redemption_id}/cancel", summary="Cancel the member's own reserved gift; points and stock come back")
async def cancel(
    member_id: str, redemption_id: str, commands: CommandsDep, _: Annotated[Grant, Allowed("points.redemption.cancel_own")],
) -> RedemptionPublic:
    async def command(uow: UnitOfWork) -> RedemptionRow:
        return await svc.cancel_own(uow, member_id, redemption_id, uow.now())

    return _public(await commands.run(command, retry_on_conflict=True))
