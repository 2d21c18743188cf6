"""Campaigns: marketing creates, launches, pauses, resumes and ends them, and reads their results
(JSON, or CSV or an Excel workbook for a spreadsheet)."""

from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, status
from fastapi.responses import Response

from campaigns.api.campaign_schemas import CampaignPublic, LaunchPreviewPublic, ResultsPublic
from campaigns.domain.campaigns import CampaignIn, State
from campaigns.service_layer import campaigns
from campaigns.service_layer.create_once import CreateRequest, create_once
from shared.authorize import Allowed
from shared.deps import CommandsDep, UowDep
from shared.idempotency import IdempotencyKey
from shared.integers import Int64
from shared.policy import Grant
from shared.reports import XLSX_MEDIA_TYPE, Column, ReportFormat, local_time, render
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


def _cell(value: object) -> object:
    """A figure in the CSV: empty only when there is none. `or ""` would blank a measured zero too
    (Decimal("0.0000") is false), and a rate of nothing redeemed is not a missing rate."""
    return "" if value is None else value


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a campaign (a draft until launched)",
             responses={409: {"description": "The Idempotency-Key was already used for another request"}})
async def create(body: CampaignIn, commands: CommandsDep, grant: Annotated[Grant, Allowed("campaigns.campaign.write")],
                 idempotency_key: IdempotencyKey, response: Response) -> CampaignPublic:
    """Every create carries an `Idempotency-Key` (422 without one): the same key with the same body
    answers the campaign the first request made (200, the same id) instead of making another; the
    key with another body is 409."""
    request = CreateRequest("campaign", grant.principal.subject, idempotency_key, body)
    made = await create_once(commands, request, lambda uow, new_id: campaigns.create(uow, body, request.created_by, campaign_id=new_id),
                             campaigns.get)
    if made.retry:
        response.status_code = status.HTTP_200_OK
    return CampaignPublic.model_validate(made.row)


@router.get("", summary="Campaigns, newest first")
async def listing(
    uow: UowDep, _: Annotated[Grant, Allowed("campaigns.campaign.read")], state: State | None = None,
    limit: Annotated[Int64, Query(ge=1, le=500)] = 100, offset: Annotated[Int64, Query(ge=0, le=1_000_000)] = 0,
) -> list[CampaignPublic]:
    return [CampaignPublic.model_validate(r) for r in await campaigns.listing(uow, state, limit, offset)]


@router.get("/{campaign_id}", summary="One campaign")
async def one(campaign_id: str, uow: UowDep, _: Annotated[Grant, Allowed("campaigns.campaign.read")]) -> CampaignPublic:
    return CampaignPublic.model_validate(await campaigns.get(uow, campaign_id))


@router.get("/{campaign_id}/preview", summary="What a launch now would reach: audience after consent, split, budget")
async def preview(campaign_id: str, uow: UowDep, _: Annotated[Grant, Allowed("campaigns.campaign.read")]) -> LaunchPreviewPublic:
    return LaunchPreviewPublic.model_validate(await campaigns.preview(uow, campaign_id), from_attributes=True)


@router.post("/{campaign_id}/launch", summary="Launch: a one-off campaign reaches its audience now (or at its start)")
async def launch(campaign_id: str, uow: UowDep, _: Annotated[Grant, Allowed("campaigns.campaign.launch")]) -> CampaignPublic:
    return CampaignPublic.model_validate(await campaigns.launch(uow, campaign_id))


@router.post("/{campaign_id}/{action}", summary="Pause, resume or end")
async def change(
    campaign_id: str, action: Literal["pause", "resume", "end"], uow: UowDep,
    _: Annotated[Grant, Allowed("campaigns.campaign.launch")],
) -> CampaignPublic:
    return CampaignPublic.model_validate(await campaigns.change(uow, campaign_id, action))


@router.get("/{campaign_id}/results", summary="Redemption, spend and visits against the control group")
async def results(campaign_id: str, uow: UowDep, _: Annotated[Grant, Allowed("campaigns.campaign.read")]) -> ResultsPublic:
    found = await campaigns.results(uow, campaign_id)
    body = ResultsPublic.model_validate(found)
    return body


# One row per measure, its key first (stable for a spreadsheet's formulas), the headings in both
# languages like every report; written by the shared writer (a byte-order mark for Excel).
RESULT_COLUMNS = [
    Column("measure", "指标 Measure"), Column("treatment", "触达组 Treatment"), Column("control", "对照组 Control"),
    Column("difference", "差值 Difference"), Column("ci_low", "95%置信下限 95% CI low"),
    Column("ci_high", "95%置信上限 95% CI high"), Column("relative", "相对变化 Relative"),
]

# The campaign's state as the file shows it: bilingual like its headings, for a reader who never
# saw the API's codes.
STATE_LABELS = {
    State.DRAFT: "草稿 Draft",
    State.SCHEDULED: "待开始 Scheduled",
    State.RUNNING: "进行中 Running",
    State.PAUSED: "已暂停 Paused",
    State.ENDED: "已结束 Ended",
}


def _result_rows(r: ResultsPublic, zone: ZoneInfo) -> list[dict[str, object]]:
    def row(measure: str, treatment: object = "", control: object = "", *uplift: object) -> dict[str, object]:
        return dict(zip([c.key for c in RESULT_COLUMNS], (measure, treatment, control, *(uplift or ("", "", "", ""))), strict=True))

    # The window measured, in the chain's local time: a file passed on to management without it
    # says neither when the figures were taken nor whether the campaign was still running.
    rows = [row("state", STATE_LABELS[State(r.state)]), row("window_start", local_time(r.window_start, zone)),
            row("window_end", local_time(r.window_end, zone)),
            row("members", r.treatment.members, r.control.members), row("buyers", r.treatment.buyers, r.control.buyers)]
    held_out = r.control.members > 0
    for name, u in (("spend_per_member", r.spend_uplift), ("visits_per_member", r.visits_uplift)):
        # Nobody held out: a control group of none spent nothing per member only as a division by
        # zero would have it; the cell stays empty rather than showing a 0.00 to compare with.
        rows.append(row(name, getattr(r.treatment, name), getattr(r.control, name) if held_out else "",
                        *((u.difference, _cell(u.low), _cell(u.high), _cell(u.relative)) if u else ())))
    rows += [row("coupons_issued", r.issued), row("coupons_withdrawn", r.withdrawn), row("coupons_redeemed", r.redeemed),
             row("redemption_rate", _cell(r.redemption_rate)), row("discount_cost", r.discount_cost)]
    # Each store's part, keyed by the measure and the store: the spend there per member of each
    # whole group, and the coupons redeemed there with their cost.
    for s in r.by_store:
        u = s.spend_uplift
        rows += [row(f"spend_per_member@{s.store_id}", s.treatment_spend_per_member, _cell(s.control_spend_per_member),
                     *((u.difference, _cell(u.low), _cell(u.high), _cell(u.relative)) if u else ())),
                 row(f"coupons_redeemed@{s.store_id}", s.redeemed), row(f"discount_cost@{s.store_id}", s.discount_cost)]
    return rows


@router.get("/{campaign_id}/results.csv", summary="The results as CSV: one row per measure",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def results_csv(campaign_id: str, uow: UowDep, _: Annotated[Grant, Allowed("campaigns.campaign.read")]) -> Response:
    return await _results_file(ReportFormat.CSV, campaign_id, uow)


@router.get("/{campaign_id}/results.xlsx", summary="The results as an Excel workbook: one row per measure",
            response_class=Response, responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}})
async def results_xlsx(campaign_id: str, uow: UowDep, _: Annotated[Grant, Allowed("campaigns.campaign.read")]) -> Response:
    return await _results_file(ReportFormat.XLSX, campaign_id, uow)


async def _results_file(fmt: ReportFormat, campaign_id: str, uow: UnitOfWork) -> Response:
    r = ResultsPublic.model_validate(await campaigns.results(uow, campaign_id))
    return render(fmt, title="活动效果 Campaign results", columns=RESULT_COLUMNS, rows=_result_rows(r, uow.settings.zone), json_body=None,
                  filename=f"campaign-{campaign_id}-results")
