"""Account manager evaluation (客户经理考核): monthly ranking per store, quarterly flag of the
lowest-ranked manager; JSON for screens, CSV and a printable page for the store manager."""

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from members.api.deps import MembersSettingsDep
from members.api.report_words import yes_no
from members.api.staff_schemas import EvaluationReport, ManagerEvaluation
from members.config import Settings
from members.domain.evaluation import Period, month_period, quarter_period, rank_by_store
from members.service_layer import evaluation
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.identifiers import StoreId
from shared.periods import MONTH_PATTERN, QUARTER_PATTERN
from shared.policy import Grant
from shared.reports import Column, ReportFormat, render
from shared.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/evaluations/managers", tags=["tracking"])


# A month ranks the managers; only a quarter flags its lowest (`rank_by_store`), so only its
# report has the column: in a month's it would read "no" for everyone.
MONTHLY_COLUMNS = [
    Column("store_id", "门店 Store"),
    Column("rank", "排名 Rank"),
    Column("manager_name", "客户经理 Account manager"),
    Column("tracked_customers", "跟踪客户数 Customers tracked"),
    Column("purchases", "购买次数 Purchases"),
    Column("spend", "消费额 Spend (CNY)", money=True),
    Column("average_purchase", "平均购买额 Average purchase (CNY)", money=True),
    Column("new_customers", "新增客户 New customers"),
    Column("score", "排名分 Rank score"),
]
QUARTERLY_COLUMNS = [*MONTHLY_COLUMNS, Column("flagged", "末位 Lowest of quarter", lambda r: yes_no(r.flagged))]


async def _report(
    uow: UnitOfWork, settings: Settings, period: Period, kind: Literal["monthly", "quarterly"], store_id: str | None,
    fmt: ReportFormat,
) -> Response:
    start, end = period.bounds(settings.zone)
    staff = await evaluation.managers(uow, store_id)
    names = {s.id: s.name for s in staff}
    ranked = rank_by_store(await evaluation.figures(uow, staff, start, end), flag_lowest=kind == "quarterly")
    stores = {
        store: [
            ManagerEvaluation(
                rank=r.rank, manager_id=r.figures.manager_id, manager_name=names[r.figures.manager_id], store_id=store,
                tracked_customers=r.figures.tracked_customers, purchases=r.figures.purchases, spend=r.figures.spend,
                average_purchase=r.figures.average_purchase, new_customers=r.figures.new_customers,
                average_rank=r.average_rank, new_customers_rank=r.new_customers_rank, score=r.score, flagged=r.flagged,
            )
            for r in group
        ]
        for store, group in ranked.items()
    }
    body = EvaluationReport(period=period.label, kind=kind, stores=stores)
    title = ("客户经理月度考核 Monthly" if kind == "monthly" else "客户经理季度考核 Quarterly") + f" manager evaluation {period.label}"
    return render(
        fmt, title=title, subtitle=f"store {store_id}" if store_id else "all stores",
        columns=MONTHLY_COLUMNS if kind == "monthly" else QUARTERLY_COLUMNS,
        rows=[row for group in stores.values() for row in group], json_body=body,
        filename=f"manager-evaluation-{period.label}-{re.sub(r'[^A-Za-z0-9_-]', '_', store_id or 'all')}",
    )


@router.get("/monthly")
async def monthly(
    uow: UowDep, grant: Annotated[Grant, Allowed("members.evaluation.read")], settings: MembersSettingsDep,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM")],
    store_id: Annotated[StoreId | None, Query()] = None,
    format: ReportFormat = ReportFormat.JSON,
) -> Response:
    year, mon = (int(part) for part in month.split("-"))
    return await _report(uow, settings, month_period(year, mon), "monthly", grant.store_filter(store_id), format)


@router.get("/quarterly")
async def quarterly(
    uow: UowDep, grant: Annotated[Grant, Allowed("members.evaluation.read")], settings: MembersSettingsDep,
    quarter: Annotated[str, Query(pattern=QUARTER_PATTERN, description="YYYY-Qn, e.g. 2026-Q4")],
    store_id: Annotated[StoreId | None, Query()] = None,
    format: ReportFormat = ReportFormat.JSON,
) -> Response:
    year, q = quarter.split("-Q")
    return await _report(uow, settings, quarter_period(int(year), int(q)), "quarterly", grant.store_filter(store_id), format)
