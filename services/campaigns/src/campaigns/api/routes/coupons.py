"""Coupons: templates and issuing (marketing), members' wallets, and the till's validate, reserve and
release (role pos, bound to its store; the gateway forwards /pos/v1/coupons/... here)."""

from datetime import datetime, timedelta
from typing import Annotated, cast

from fastapi import APIRouter, Query, Request, Response, status

from campaigns.adapters.tables import CouponTemplateRow
from campaigns.api.coupon_schemas import (
    CodeAnswer,
    IssueIn,
    IssuePublic,
    ReleaseIn,
    ReleasePublic,
    TemplateIn,
    TemplatePublic,
    TillAnswer,
    TillIn,
    WalletCoupon,
)
from campaigns.config import Settings
from campaigns.domain.coupons import ZERO, State, Verdict, shown_state
from campaigns.service_layer.coupons import issuing, templates, till
from campaigns.service_layer.coupons import wallet as wallets
from campaigns.service_layer.create_once import CreateRequest, create_once
from shared.authorize import Allowed
from shared.deps import CommandsDep, NowDep, ReadUowDep, UowDep
from shared.errors import Invalid, InvalidBodyField
from shared.idempotency import IdempotencyKey
from shared.integers import Int64
from shared.policy import Grant
from shared.unit_of_work import UnitOfWork

router = APIRouter(tags=["coupons"])

# A till's clock may run a little ahead of ours; beyond this its time is refused (as for sales).
CLOCK_SKEW = timedelta(minutes=5)
# A basket is judged at the till's time, which may not lie further back than this.
OLDEST_BASKET = timedelta(hours=24)


def _settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def _template(row: CouponTemplateRow) -> TemplatePublic:
    return TemplatePublic(id=row.id, name=row.name, kind=row.kind, spec=templates.spec_of(row), created_by=row.created_by,
                          created_at=row.created_at)


@router.post("/v1/coupon-templates", status_code=status.HTTP_201_CREATED, summary="Create a coupon template",
             responses={409: {"description": "The generic code is another template's, or the Idempotency-Key was already used for another request"}})
async def create_template(body: TemplateIn, commands: CommandsDep, now: NowDep,
                          grant: Annotated[Grant, Allowed("campaigns.coupon_template.write")],
                          idempotency_key: IdempotencyKey, response: Response) -> TemplatePublic:
    """Every create carries an `Idempotency-Key` (422 without one): the same key with the same body
    answers the template the first request made (200, the same id) instead of making another; the
    key with another body is 409."""
    request = CreateRequest("coupon_template", grant.principal.subject, idempotency_key, body)
    made = await create_once(
        commands, request,
        lambda uow, new_id: templates.create_template(uow, body, request.created_by, now, template_id=new_id),
        lambda uow, found: templates.get_template(uow.session, found))
    if made.retry:
        response.status_code = status.HTTP_200_OK
    return _template(made.row)


@router.get("/v1/coupon-templates", summary="Coupon templates, newest first")
async def list_templates(uow: UowDep, _: Annotated[Grant, Allowed("campaigns.coupon_template.read")],
                         limit: Annotated[Int64, Query(ge=1, le=500)] = 100,
                         offset: Annotated[Int64, Query(ge=0, le=1_000_000)] = 0) -> list[TemplatePublic]:
    return [_template(row) for row in await templates.list_templates(uow.session, limit, offset)]


@router.get("/v1/coupon-templates/{template_id}", summary="One coupon template")
async def get_template(template_id: str, uow: UowDep,
                       _: Annotated[Grant, Allowed("campaigns.coupon_template.read")]) -> TemplatePublic:
    return _template(await templates.get_template(uow.session, template_id))


@router.post("/v1/coupon-templates/{template_id}/issue", summary="Issue the template's coupons to members")
async def issue(template_id: str, body: IssueIn, uow: UowDep, request: Request,
                _: Annotated[Grant, Allowed("campaigns.coupon.issue")]) -> IssuePublic:
    """One coupon per member named, each id counted once. An id that is no customer campaigns knows
    of (a typo, an erased member, or one registered a moment ago whose registration has not reached
    campaigns yet) is issued nothing and listed under `unknown_member_ids`: issued, it would be a
    coupon nobody holds, taking a place under the template's cap. Under a `campaign_id`, a member
    held out of that campaign is issued nothing either (`held_out_member_ids`): the control group
    stays untouched, or the campaign's results would measure against treated members."""
    limit = _settings(request).coupon_issue_max_members
    if len(body.member_ids) > limit:
        raise Invalid("member_ids", f"at most {limit} members per request")
    templates.ensure_usable(await templates.get_template(uow.session, template_id), uow.now(), "template_id")
    if body.campaign_id is not None:
        await issuing.ensure_issuing_by_hand(uow.session, body.campaign_id, template_id, uow.now())
    wanted = list(dict.fromkeys(body.member_ids))
    customers = await issuing.customers_of(uow.session, wanted)
    unknown = [m for m in wanted if m not in customers]
    held = await issuing.held_out_of(uow.session, body.campaign_id, wanted) if body.campaign_id else set()
    held_out = [m for m in wanted if m in customers and m in held]
    result = await issuing.issue(uow, template_id, [m for m in wanted if m in customers and m not in held], body.campaign_id)
    return IssuePublic(requested=len(wanted), issued=result.issued, already_held=result.already_held,
                       over_budget=result.over_budget, unknown=len(unknown), unknown_member_ids=unknown,
                       held_out=len(held_out), held_out_member_ids=held_out)


@router.get("/v1/members/{member_id}/coupons", summary="A member's coupons (their wallet)")
async def wallet(member_id: str, uow: ReadUowDep, _: Annotated[Grant, Allowed("campaigns.coupon.read")]) -> list[WalletCoupon]:
    return await wallet_coupons(uow, member_id)


async def wallet_coupons(uow: UnitOfWork, member_id: str) -> list[WalletCoupon]:
    out, now = [], uow.now()
    for row in await wallets.wallet(uow.session, member_id):
        spec = templates.parsed_spec(row.spec)
        out.append(WalletCoupon(
            coupon_id=row.id, code=row.code, template_id=row.template_id, name=row.name, kind=row.kind,
            campaign_id=row.campaign_id, state=shown_state(State(row.state), row.valid_until, now),
            valid_from=row.valid_from, valid_until=row.valid_until,
            issued_at=row.issued_at, redeemed_at=row.redeemed_at, discount=row.discount,
            terms=spec.model_dump(mode="json", include={"amount", "percent", "max_discount", "threshold", "repeat",
                                                        "gift_sku", "limits", "min_basket", "stacking"}),
        ))
    return out


def _till_request(body: TillIn, now: datetime, settings: Settings) -> till.TillRequest:
    at = body.occurred_at or now
    # In the shape of the body's own validation errors (`loc` ["body", "occurred_at"]): the till
    # reads every 422 of its API, a 1960 time refused by the schema included, from that one shape.
    if at > now + CLOCK_SKEW:
        raise InvalidBodyField("occurred_at", f"{at.isoformat()} is ahead of the service's clock by more than {CLOCK_SKEW}")
    if at < now - OLDEST_BASKET:
        raise InvalidBodyField("occurred_at", f"{at.isoformat()} is more than {OLDEST_BASKET} ago")
    return till.TillRequest(
        store_id=body.store_id, pos_txn_id=body.pos_txn_id, at=at, now=now,
        card_no=body.member.card_no if body.member else None, member_id=body.member.member_id if body.member else None,
        channel=body.channel,
        lines=till.basket_lines(body.lines), codes=list(dict.fromkeys(body.codes)), zone=settings.zone,
    )


def _answer(body: TillIn, verdicts: list[Verdict], reserved_until: datetime | None = None) -> TillAnswer:
    return TillAnswer(
        store_id=body.store_id, pos_txn_id=body.pos_txn_id, reserved_until=reserved_until,
        total_discount=sum((v.discount for v in verdicts), ZERO),
        codes=[CodeAnswer(code=v.code, ok=v.ok, discount=v.discount, reason=v.reason,
                          message_zh=v.message_zh, message_en=v.message_en) for v in verdicts],
    )


@router.post("/v1/coupons/validate", summary="What each code takes off the basket (changes nothing)")
async def validate(body: TillIn, uow: UowDep, now: NowDep, request: Request,
                   grant: Annotated[Grant, Allowed("campaigns.coupon.validate")]) -> TillAnswer:
    grant.ensure_store(body.store_id)
    return _answer(body, await till.validate(uow, _till_request(body, now, _settings(request))))


@router.post("/v1/coupons/reserve", summary="Hold the codes that apply for this sale")
async def reserve(body: TillIn, commands: CommandsDep, now: NowDep, request: Request,
                  grant: Annotated[Grant, Allowed("campaigns.coupon.reserve")]) -> TillAnswer:
    grant.ensure_store(body.store_id)
    ttl = timedelta(seconds=_settings(request).coupon_reservation_ttl_s)
    till_request = _till_request(body, now, _settings(request))
    # A till sending the same sale twice at once (a double click, a retry after a timeout): both
    # add the use of a generic code for the sale, and the loser hits its unique key; run again, it
    # finds the winner's hold for this sale and answers as a repeat of it.
    verdicts = await commands.run(lambda uow: till.reserve(uow, till_request, ttl), retry_on_conflict=True)
    return _answer(body, verdicts, now + ttl if any(v.ok for v in verdicts) else None)


@router.post("/v1/coupons/release", summary="The sale was voided: give its coupons back")
async def release(body: ReleaseIn, uow: UowDep,
                  grant: Annotated[Grant, Allowed("campaigns.coupon.release")]) -> ReleasePublic:
    grant.ensure_store(body.store_id)
    return ReleasePublic(released=await till.release(uow, body.store_id, body.pos_txn_id))
