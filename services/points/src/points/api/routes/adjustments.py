"""Manual adjustments and bonuses (store managers for their store's customers, admins), one by one or in bulk."""

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from sqlmodel import select

from points.adapters.tables import BulkBonusItemRow, BulkBonusJobRow
from points.api.schemas import AdjustmentIn, BonusIn, BulkBonusIn, BulkBonusPublic, LedgerEntryPublic
from points.domain.model import EntryType
from points.service_layer import bulk
from points.service_layer.adjustments import book_manual
from shared.authorize import Allowed
from shared.commands import Commands
from shared.deps import CommandsDep, UowDep
from shared.idempotency import IdempotencyKey
from shared.integers import Int64
from shared.member_directory import member_facts
from shared.policy import Grant, Scope
from shared.reports import Column, ReportFormat, local_time, render
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1", tags=["adjustments and bonuses"])

# Points are money to the customer: a manual entry takes an Idempotency-Key, so a retry after a
# lost answer (a script, a double click) books once; without one it would book again.
MANUAL: dict[int | str, dict[str, Any]] = {
    201: {"description": "Booked"}, 200: {"description": "A retry with the same Idempotency-Key"},
    409: {"description": "The key used for another amount or reason, an adjustment below zero (NotEnoughPoints), "
                        "or the member is erased"},
}


async def _manual(
    kind: EntryType, member_id: str, points: int, reason: str, grant: Grant, key: str | None, request: Request,
    response: Response, commands: Commands,
) -> LedgerEntryPublic:
    row, replay = await commands.run(
        lambda uow: book_manual(
            uow, kind=kind, member_id=member_id, points=points, reason=reason, staff_id=grant.principal.subject,
            idempotency_key=key, now=uow.now(),
            # Whoever reaches less than the whole chain (a store manager) books within the caps.
            caps=None if grant.scope is Scope.ALL else request.app.state.settings.manual_caps,
        ),
        retry_on_conflict=True,
    )
    response.status_code = status.HTTP_200_OK if replay else status.HTTP_201_CREATED
    return LedgerEntryPublic.model_validate(row, from_attributes=True)


@router.post("/accounts/{member_id}/adjustments", status_code=status.HTTP_201_CREATED, responses=MANUAL)
async def adjust(
    member_id: str, body: AdjustmentIn, grant: Annotated[Grant, Allowed("points.manual.book")], request: Request, response: Response,
    commands: CommandsDep, idempotency_key: IdempotencyKey,
) -> LedgerEntryPublic:
    """Correct a balance up or down, with a reason; never below zero."""
    return await _manual(EntryType.ADJUST, member_id, body.points, body.reason, grant, idempotency_key, request, response,
                         commands)


@router.post("/accounts/{member_id}/bonuses", status_code=status.HTTP_201_CREATED, responses=MANUAL)
async def bonus(
    member_id: str, body: BonusIn, grant: Annotated[Grant, Allowed("points.manual.book")], request: Request, response: Response,
    commands: CommandsDep, idempotency_key: IdempotencyKey,
) -> LedgerEntryPublic:
    return await _manual(EntryType.BONUS, member_id, body.points, body.reason, grant, idempotency_key, request, response,
                         commands)


def _job_public(job, counts: dict[str, int]) -> BulkBonusPublic:
    return BulkBonusPublic(
        job_id=job.job_id, status=job.status, points=job.points, reason=job.reason, total=job.total,
        booked=counts["booked"], skipped=counts["skipped"], created_by=job.created_by, created_at=job.created_at,
        finished_at=job.finished_at,
    )


@router.post("/bulk-bonuses", status_code=status.HTTP_202_ACCEPTED)
async def start_bulk_bonus(
    body: BulkBonusIn, grant: Annotated[Grant, Allowed("points.bulk_bonus.run")], idempotency_key: IdempotencyKey, request: Request,
    commands: CommandsDep, response: Response, background: BackgroundTasks,
) -> BulkBonusPublic:
    """Book one bonus for a list of members, by member id or by card number, as one job; follow it
    at GET /v1/bulk-bonuses/{job_id}. A list of cards naming one no account holds is refused whole
    (422 naming them), so nothing is booked until the list is put right."""
    listed, field = (body.member_ids, "member_ids") if body.member_ids is not None else (body.card_nos or [], "card_nos")
    limit = request.app.state.settings.bulk_bonus_max_members
    if len(listed) > limit:
        raise RequestValidationError([{"type": "value_error", "loc": ("body", field), "input": None,
                                       "msg": f"at most {limit} members per job"}])

    async def command(uow: UnitOfWork) -> tuple[BulkBonusJobRow, dict[str, int], bool]:
        member_ids = body.member_ids if body.member_ids is not None else await bulk.holders_of(uow.session, listed)
        if grant.scope is not Scope.ALL:  # today only admins, who reach everyone; a narrower role checks each member
            for member_id in member_ids:
                grant.ensure_member(await member_facts(uow.session, member_id), member_id)
        # The same customers by card or by id are the same job: its key's digest is of the members.
        job, replay = await bulk.create_job(
            uow, idempotency_key=idempotency_key, member_ids=member_ids, points=body.points, reason=body.reason,
            staff_id=grant.principal.subject, now=uow.now(),
        )
        # A replay answers how far the job has come; a new job has booked nothing yet.
        return *await bulk.progress(uow.session, job.job_id), replay

    job, counts, replay = await commands.run(command, retry_on_conflict=True)
    # Worked through after the answer; the scheduled bulk-bonus job finishes it after a crash.
    background.add_task(bulk.run_job, commands, job.job_id)
    if replay:
        response.status_code = status.HTTP_200_OK
    return _job_public(job, counts)


# The result per member in the report's two languages, as its headings, rather than the codes stored.
OUTCOME_LABELS = {"booked": "已发放 booked", "skipped": "已跳过 skipped"}
SKIPPED_LABELS = {bulk.NO_ACCOUNT: "没有积分账户 no points account", bulk.ERASED: "资料已删除 member is erased"}


def _report_columns(zone: ZoneInfo, points: int, cards: dict[str, str | None]) -> list[Column]:
    """Times in the chain's; the points each member was booked, summed in the last row; each
    member's card as their account holds it now, which staff know them by."""
    return [
        Column("member_id", "会员 Member"),
        Column("card_no", "卡号 Card", lambda r: cards.get(r.member_id) or ""),
        Column("outcome", "结果 Outcome", lambda r: OUTCOME_LABELS.get(r.outcome, r.outcome)),
        Column("points", "积分 Points", lambda r: points if r.outcome == "booked" else 0),
        Column("detail", "说明 Detail",
               lambda r: f"{points} 积分 points" if r.outcome == "booked" else SKIPPED_LABELS.get(r.detail, r.detail)),
        Column("processed_at", "处理时间 Processed at", lambda r: local_time(r.processed_at, zone)),
    ]


@router.get("/bulk-bonuses", summary="The jobs, newest first, with their progress")
async def bulk_bonuses(
    uow: UowDep, _: Annotated[Grant, Allowed("points.bulk_bonus.run")],
    limit: Annotated[Int64, Query(ge=1, le=200)] = 50, offset: Annotated[Int64, Query(ge=0, le=1_000_000)] = 0,
) -> list[BulkBonusPublic]:
    return [_job_public(job, counts) for job, counts in await bulk.jobs(uow.session, limit, offset)]


@router.get("/bulk-bonuses/{job_id}", summary="Progress, and the result per member (JSON, CSV, Excel or HTML)")
async def bulk_bonus_report(
    job_id: str, uow: UowDep, _: Annotated[Grant, Allowed("points.bulk_bonus.run")], format: ReportFormat = ReportFormat.JSON
) -> Response:
    job, counts = await bulk.progress(uow.session, job_id)
    items = (
        await uow.session.exec(select(BulkBonusItemRow).where(BulkBonusItemRow.job_id == job_id).order_by(BulkBonusItemRow.member_id))
    ).all()
    summary = _job_public(job, counts)
    cards = await bulk.cards_of(uow.session, [i.member_id for i in items])
    return render(
        format, title=f"批量奖励积分 Bulk bonus {job_id}", columns=_report_columns(uow.settings.zone, job.points, cards), rows=items,
        json_body={**summary.model_dump(), "items": [{**i.model_dump(), "card_no": cards.get(i.member_id)} for i in items]},
        filename=f"bulk-bonus-{job_id}",
        subtitle=f"{job.points} 积分 points — {job.reason} — {summary.booked + summary.skipped}/{job.total}", totals=("points",),
    )
