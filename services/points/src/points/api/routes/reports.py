"""Finance's reports of points: the points liability (积分负债), as JSON, CSV, an Excel workbook or a printable page,
now or as a day's snapshot kept it."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from points.domain.liability import Liability, Line
from points.service_layer.liability import points_liability, snapshot, snapshot_days
from shared.authorize import Allowed
from shared.deps import ReadUowDep
from shared.identifiers import StoreId
from shared.periods import ReportDay
from shared.policy import Grant
from shared.reports import Column, ReportFormat, local_time, render

router = APIRouter(prefix="/v1/reports", tags=["reports"])

LINE_LABELS = {
    Line.REDEEMABLE: "可兑换 Redeemable",
    Line.PAST_DATE: "已过有效期，待过期作业扣除 Past its last day, not yet expired by the job",
    Line.ERASED: "已注销会员，不可兑换 Erased members, unredeemable",
}

# The accounts of the lines are not summed: an account holding points of two months counts in
# both. The accounts holding any points are in the JSON's totals and under the printed title.
COLUMNS = [
    Column("expires_month", "到期月份 Expires (month)", lambda ln: ln.expires_month or "各月 All months"),
    Column("line", "状态 Status", lambda ln: LINE_LABELS[ln.line]),
    Column("points", "积分 Points"),
    Column("accounts", "账户数 Accounts"),
]


def _subtitle(report: Liability, as_of: str, zone: str, store_id: str | None) -> str:
    parts = [
        f"截至 As of {as_of} ({zone})",
        f"门店 Store: {store_id}（本店销售所得 earned by its sales）" if store_id else "全部门店 All stores",
        f"可兑换 Redeemable: {report.outstanding.points} 积分 points, {report.outstanding.accounts} 账户 accounts",
        f"持有积分的账户 Accounts holding points: {report.held.accounts}",
    ]
    if report.in_deficit is not None and report.ledger_balance is not None:
        parts.append(f"负余额 Negative balances: {report.in_deficit.points} 积分 points, {report.in_deficit.accounts} 账户 accounts"
                     f" · 账本合计 Ledger total: {report.ledger_balance}")
    parts.append("仅以积分计，未设积分的折算金额 In points only: no yuan value of a point is set")
    return " · ".join(parts)


@router.get("/liability/snapshots", summary="The days whose liability snapshot is kept, newest first")
async def liability_snapshots(uow: ReadUowDep, _: Annotated[Grant, Allowed("points.liability.read")]) -> dict[str, Any]:
    """What `GET /v1/reports/liability?day=` can answer: the last `CRM_LIABILITY_SNAPSHOT_DAYS_KEPT`
    days' snapshots and each month's first before them, with when each was taken."""
    zone = uow.settings.zone
    return {"items": [{"business_day": day, "taken_at": taken_at.astimezone(zone).isoformat(timespec="seconds")}
                      for day, taken_at in await snapshot_days(uow.session)]}


@router.get("/liability", summary="Points outstanding by the month they expire, with totals (JSON, CSV, Excel or HTML)")
async def liability(
    uow: ReadUowDep, grant: Annotated[Grant, Allowed("points.liability.read")],
    store_id: Annotated[StoreId | None, Query(description="A store's share: the points its sales earned; all stores if absent")] = None,
    day: Annotated[ReportDay | None, Query(description=(
        "A business day: the figures its snapshot kept (taken at the day's first run of the liability-snapshot job, "
        "so the 1st of a month holds the previous month's close); now if absent"))] = None,
    format: ReportFormat = ReportFormat.JSON,
) -> Response:
    """The points members hold (earned, not yet redeemed, reversed or expired), by the month they
    expire: redeemable ones, those past their date that the expiry job has not taken yet, and
    erased members' on a line of their own; now, or as a day's snapshot kept them. A store
    manager gets their store's share."""
    store = grant.store_filter(store_id)
    settings = uow.settings
    if day is None:
        now = uow.now()
        report = await points_liability(uow.session, settings.expiry_policy, settings.zone, now, store)
    else:
        now, report = await snapshot(uow.session, day, store)
    as_of = now.astimezone(settings.zone)
    body = {
        "as_of": as_of.isoformat(timespec="seconds"), "business_day": as_of.date(), "store_id": store,
        "snapshot": day is not None, **report.as_json(),
    }
    return render(
        format, title="积分负债 Points liability" + (f" — {store}" if store else ""), columns=COLUMNS, rows=report.lines,
        json_body=body, filename=f"points-liability-{store or 'all'}-{as_of.date()}",
        subtitle=_subtitle(report, local_time(now, settings.zone), settings.zone.key, store), totals=("points",),
    )
