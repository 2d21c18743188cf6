"""Gift redemption at the service desk and the gift register (赠品发放登记)."""

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response, status
from sqlmodel import col, select

from points.adapters.tables import GiftRow, RedemptionRow
from points.api.schemas import CancelIn, RedemptionIn, RedemptionPublic
from points.domain.catalogue import points_kept
from points.domain.exceptions import NotFound
from points.service_layer import redemptions as svc
from shared.authorize import Allowed
from shared.deps import CommandsDep, UowDep
from shared.idempotency import IdempotencyKey
from shared.member_directory import member_facts
from shared.periods import ReportDay, in_order
from shared.policy import Grant
from shared.reports import Column, ReportFormat, local_time, render
from shared.unit_of_work import UnitOfWork
from shared.zones import end_of_day, start_of_day

router = APIRouter(prefix="/v1", tags=["gift redemption"])


def _public(row: RedemptionRow) -> RedemptionPublic:
    return RedemptionPublic.model_validate(row, from_attributes=True)


async def _entry_in_reach(uow: UnitOfWork, grant: Grant, redemption_id: str) -> None:
    """The register entry's customer must be within the caller's scope, and its gift at their store."""
    row = await uow.session.get(RedemptionRow, redemption_id)
    if row is None:
        raise NotFound(f"no gift register entry {redemption_id}")
    grant.ensure_member(await member_facts(uow.session, row.member_id), row.member_id)
    grant.ensure_store(row.store_id)


@router.post(
    "/redemptions", status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "A retry with the same Idempotency-Key: the original result"},
               409: {"description": "Too few points, negative balance, out of stock, a gift not on offer, the store closed, "
                                   "the member erased, or the key reused for another request"}},
)
async def redeem(
    body: RedemptionIn, grant: Annotated[Grant, Allowed("points.redemption.handle")], idempotency_key: IdempotencyKey,
    response: Response, commands: CommandsDep,
) -> RedemptionPublic:
    """Redeem a gift: checks balance and stock atomically, deducts the points, writes the register."""
    grant.ensure_store(body.store_id)
    req = svc.RedeemRequest(body.member_id, body.gift_id, body.store_id, grant.principal.subject, idempotency_key)

    async def command(uow: UnitOfWork) -> tuple[RedemptionRow, bool]:
        grant.ensure_member(await member_facts(uow.session, body.member_id), body.member_id)
        return await svc.redeem(uow, req, uow.now())

    row, replay = await commands.run(command, retry_on_conflict=True)
    if replay:
        response.status_code = status.HTTP_200_OK
    return _public(row)


@router.get("/redemptions/{redemption_id}")
async def get_redemption(redemption_id: str, uow: UowDep, grant: Annotated[Grant, Allowed("points.redemption.read")]) -> RedemptionPublic:
    row = await uow.session.get(RedemptionRow, redemption_id)
    if row is None:
        raise NotFound(f"no gift register entry {redemption_id}")
    grant.ensure_member(await member_facts(uow.session, row.member_id), row.member_id)
    return _public(row)


@router.post("/redemptions/{redemption_id}/hand-over", summary="The member received the gift")
async def hand_over(redemption_id: str, grant: Annotated[Grant, Allowed("points.redemption.handle")], commands: CommandsDep) -> RedemptionPublic:
    async def command(uow: UnitOfWork) -> RedemptionRow:
        await _entry_in_reach(uow, grant, redemption_id)
        return await svc.hand_over(uow, redemption_id, grant.principal.subject, uow.now())

    return _public(await commands.run(command, retry_on_conflict=True))


@router.post("/redemptions/{redemption_id}/cancel", summary="Cancel a reserved gift; points and stock come back (never a coupon)")
async def cancel(
    redemption_id: str, body: CancelIn, grant: Annotated[Grant, Allowed("points.redemption.handle")], commands: CommandsDep
) -> RedemptionPublic:
    async def command(uow: UnitOfWork) -> RedemptionRow:
        await _entry_in_reach(uow, grant, redemption_id)
        return await svc.cancel(uow, redemption_id, grant.principal.subject, body.reason, uow.now())

    return _public(await commands.run(command, retry_on_conflict=True))


STATUS_LABELS = {"reserved": "已预留 reserved", "handed_over": "已发放 handed over", "cancelled": "已取消 cancelled",
                 "completed": "已完成 completed"}


def _register_columns(zone: ZoneInfo, people: dict[str, str], gifts: dict[str, str]) -> list[Column]:
    """Names on paper, ids kept in the last column for matching against the screen."""
    return [
        Column("redeemed_at", "日期 Date", lambda r: local_time(r.redeemed_at, zone)),
        Column("member", "会员 Member", lambda r: people.get(r.member_id, r.member_id)),
        Column("gift", "赠品 Gift", lambda r: gifts.get(r.gift_id, r.gift_id)),
        Column("points", "积分 Points"),
        Column("staff_id", "经办人 Staff"),
        Column("store_id", "门店 Store"),
        Column("status", "状态 Status", lambda r: STATUS_LABELS[r.status]),
        Column("points_kept", "实扣积分 Points kept", lambda r: points_kept(r.status, r.points)),
        Column("handed_over_at", "发放时间 Handed over", lambda r: local_time(r.handed_over_at, zone)),
        Column("cancel_reason", "取消原因 Cancel reason"),
        Column("member_id", "会员编号 Member ID"),
    ]


async def _gift_names(uow: UnitOfWork) -> dict[str, str]:
    return {g.gift_id: f"{g.name_zh} {g.name_en}" for g in (await uow.session.exec(select(GiftRow))).all()}


@router.get("/gift-register", summary="The gift register of a store for a date range (JSON, CSV, Excel or printable HTML)")
async def gift_register(
    request: Request, grant: Annotated[Grant, Allowed("points.gift_register.read")], uow: UowDep, store_id: str,
    date_from: Annotated[ReportDay, Query(alias="from", description="First business day, inclusive")],
    date_to: Annotated[ReportDay, Query(alias="to", description="Last business day, inclusive")],
    format: ReportFormat = ReportFormat.JSON,
):
    grant.ensure_store(store_id)
    in_order(date_from, date_to)
    zone = uow.settings.zone
    start, end = start_of_day(date_from, zone), end_of_day(date_to, zone)
    redeemed_at = col(RedemptionRow.redeemed_at)
    rows = (
        await uow.session.exec(
            select(RedemptionRow)
            .where(RedemptionRow.store_id == store_id, redeemed_at >= start, redeemed_at < end)
            .order_by(redeemed_at)
        )
    ).all()
    people: dict[str, str] = {}
    gifts: dict[str, str] = {}
    if format != ReportFormat.JSON:  # screens name them themselves; only paper and Excel need members asked
        people = await request.app.state.member_names.names((r.member_id for r in rows), grant.principal.token)
        gifts = await _gift_names(uow)
    return render(
        format, title=f"赠品发放登记 Gift register — {store_id}", columns=_register_columns(zone, people, gifts),
        rows=rows, json_body=[_public(r) for r in rows], filename=f"gift-register-{store_id}-{date_from}-{date_to}",
        subtitle=f"{date_from} – {date_to} · 时间 Times: {zone.key}", totals=("points_kept",),
    )
