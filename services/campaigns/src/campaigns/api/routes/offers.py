"""The promotion list marketing maintains, the rounds of personal offer lists (built by the
`offer-lists` job every period, or now on marketing's request), and a member's own list."""

from typing import Annotated, cast

from fastapi import APIRouter, Query, Response, status

from campaigns.adapters.tables import PromotionRow
from campaigns.api.offer_schemas import OfferListPublic, OfferPublic, OfferRoundPublic, PromotionPublic
from campaigns.config import Settings
from campaigns.domain.promotions import Promotion, PromotionIn
from campaigns.service_layer import offer_lists, promotions
from campaigns.service_layer.create_once import CreateRequest, create_once
from shared.authorize import Allowed
from shared.deps import CommandsDep, NowDep, SettingsDep, UowDep
from shared.idempotency import IdempotencyKey
from shared.integers import Int64
from shared.policy import Grant
from shared.zones import Moment

router = APIRouter(tags=["offers"])


def _promotion(row: PromotionRow) -> PromotionPublic:
    return PromotionPublic(id=row.id, spec=Promotion.model_validate(row.spec), created_by=row.created_by,
                           created_at=row.created_at, withdrawn_at=row.withdrawn_at)


@router.post("/v1/promotions", status_code=status.HTTP_201_CREATED, summary="Put an item on the promotion list",
             responses={409: {"description": "The Idempotency-Key was already used for another request"}})
async def create_promotion(body: PromotionIn, commands: CommandsDep,
                           grant: Annotated[Grant, Allowed("campaigns.promotion.write")],
                           idempotency_key: IdempotencyKey, response: Response) -> PromotionPublic:
    """Every create carries an `Idempotency-Key` (422 without one): the same key with the same body
    answers the promotion the first request put on the list (200, the same id) instead of listing it
    twice; the key with another body is 409."""
    request = CreateRequest("promotion", grant.principal.subject, idempotency_key, body)
    made = await create_once(commands, request,
                             lambda uow, new_id: promotions.create(uow, body, request.created_by, promotion_id=new_id),
                             promotions.get)
    if made.retry:
        response.status_code = status.HTTP_200_OK
    return _promotion(made.row)


@router.get("/v1/promotions", summary="The promotion list, newest first; with `at`, what is in force then")
async def list_promotions(
    uow: UowDep, _: Annotated[Grant, Allowed("campaigns.promotion.read")], at: Annotated[Moment | None, Query(description="in force at this time")] = None,
    limit: Annotated[Int64, Query(ge=1, le=500)] = 100, offset: Annotated[Int64, Query(ge=0, le=1_000_000)] = 0,
) -> list[PromotionPublic]:
    return [_promotion(r) for r in await promotions.listing(uow, at, limit, offset)]


@router.get("/v1/promotions/{promotion_id}", summary="One promotion")
async def one_promotion(promotion_id: str, uow: UowDep,
                        _: Annotated[Grant, Allowed("campaigns.promotion.read")]) -> PromotionPublic:
    return _promotion(await promotions.get(uow, promotion_id))


@router.post("/v1/promotions/{promotion_id}/withdraw", summary="Take a promotion off the list for the next rounds")
async def withdraw_promotion(promotion_id: str, uow: UowDep,
                             _: Annotated[Grant, Allowed("campaigns.promotion.write")]) -> PromotionPublic:
    return _promotion(await promotions.withdraw(uow, promotion_id))


@router.post("/v1/offer-lists", status_code=status.HTTP_201_CREATED,
             summary="Build this period's offer lists now, if they are not yet (the period's round, with its campaign and control group)",
             responses={200: {"description": "the period's round was there already (built, or its build finished now)"}})
async def build_lists(commands: CommandsDep, settings: SettingsDep, now: NowDep, response: Response,
                      _: Annotated[Grant, Allowed("campaigns.offer_list.build")]) -> OfferRoundPublic:
    # The round the job would build at the period's start, built early: a period has one round
    # whoever builds it, so a second click, a client's retry or the job later reach nobody again.
    row, opened = await offer_lists.build_period(commands, cast(Settings, settings), now)
    if not opened:
        response.status_code = status.HTTP_200_OK
    return OfferRoundPublic.model_validate(row)


@router.get("/v1/offer-lists", summary="Rounds of offer lists, newest first")
async def list_rounds(
    uow: UowDep, _: Annotated[Grant, Allowed("campaigns.offer_list.read")],
    limit: Annotated[Int64, Query(ge=1, le=500)] = 100, offset: Annotated[Int64, Query(ge=0, le=1_000_000)] = 0,
) -> list[OfferRoundPublic]:
    return [OfferRoundPublic.model_validate(r) for r in await offer_lists.rounds(uow, limit, offset)]


@router.get("/v1/members/{member_id}/offers", summary="A member's current offer list")
async def member_offers(member_id: str, uow: UowDep, settings: SettingsDep,
                        _: Annotated[Grant, Allowed("campaigns.offer.read")]) -> OfferListPublic:
    latest, listed = await offer_lists.member_list(uow, member_id, cast(Settings, settings))
    return OfferListPublic(
        member_id=member_id, round_id=latest.id if latest else None, as_of=latest.as_of if latest else None,
        personal=bool(listed) and listed[0].personal,
        offers=[OfferPublic(rank=o.rank, promotion_id=o.promotion_id, title=o.spec.title, sku=o.spec.sku,
                            category=o.spec.category, own_price=o.own_price, personal=o.personal,
                            coupon_code=o.coupon_code, valid_until=o.valid_until, coupon_state=o.coupon_state)
                for o in listed],
    )
