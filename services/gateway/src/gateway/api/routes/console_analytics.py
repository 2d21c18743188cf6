"""Staff pages of the console: value analytics (the 80/20 curve, value classes, RFM distribution,
churn bands) and the account managers' monthly evaluation and quarterly flag. Members' own API
decides, with the person's token (the figures cover the person's scope)."""

import asyncio
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from gateway.api.console.render import page, refused_query_page, today, value_class
from gateway.api.console.session import Console, ConsoleUser
from gateway.domain.page_figures import bars, pareto
from gateway.service_layer.console_reads import read
from gateway.service_layer.stores import ensure_report_stores
from shared.errors import Invalid, NotOneOf
from shared.periods import MONTH_PATTERN, QUARTER_PATTERN
from shared.query_params import QUERY_CHECKED_ELSEWHERE

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False, dependencies=[QUERY_CHECKED_ELSEWHERE])
RISKS = ("low", "medium", "high", "lost", "unknown")
# Customers drawn on the 80/20 curve at most (pages of 500, the most members answers at once).
CURVE_PAGES = 10


@router.get("/analytics")
async def analytics(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    members, headers = request.app.state.downstream.members, user.bearer()
    first = await read(members, "members", "/v1/analytics/value-classes", headers, {"limit": "500"})
    items = list(first["items"])
    pages = min(CURVE_PAGES, -(-first["total"] // 500))
    rest = await asyncio.gather(*(
        read(members, "members", "/v1/analytics/value-classes", headers, {"limit": "500", "offset": str(n * 500)})
        for n in range(1, pages)
    ))
    for more in rest:
        items += more["items"]
    rfm = await read(members, "members", "/v1/analytics/rfm", headers)
    churn = await asyncio.gather(*(
        read(members, "members", "/v1/analytics/churn", headers, {"risk": risk, "limit": "1"}) for risk in RISKS
    ))
    bands = [{"risk": risk, "customers": answer["total"]} for risk, answer in zip(RISKS, churn, strict=True)]
    classes = [{"value_class": value_class(k), "customers": v} for k, v in sorted(first["counts"].items())]
    curve = pareto([Decimal(str(i["window_spend"])) for i in items], _top_fraction(first["summary"]))
    return page(
        request, "staff/analytics.html", user, summary=first["summary"], curve=curve,
        curve_customers=len(items), total=first["total"], class_bars=bars(classes, "value_class", "customers"),
        churn_bars=bars(bands, "risk", "customers"), rfm=rfm,
        rfm_bars={name: bars([{"score": k, "customers": v} for k, v in sorted(rfm[name].items())], "score", "customers")
                  for name in ("recency", "frequency", "monetary")},
    )


@router.get("/evaluations")
async def evaluations(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """Account managers ranked for a month, or for a quarter with each store's lowest flagged."""
    kind = request.query_params.get("kind", "monthly")
    refused_query_page(request, "staff/evaluations.html", user, report=None, kind=kind,
                       period=request.query_params.get("period", "").strip(), store=request.query_params.get("store_id", "").strip())
    if kind not in ("monthly", "quarterly"):
        raise NotOneOf("kind", ("monthly", "quarterly"))
    period = _period(kind, request.query_params.get("period", "").strip(), today(request))
    params = {"month" if kind == "monthly" else "quarter": period}
    if store := request.query_params.get("store_id", "").strip():
        await ensure_report_stores(request.app.state.commands, [store])
        params["store_id"] = store
    report: dict[str, Any] = await read(request.app.state.downstream.members, "members",
                                        f"/v1/evaluations/managers/{kind}", user.bearer(), params)
    return page(request, "staff/evaluations.html", user, report=report, kind=kind, period=period, store=store)


def _top_fraction(summary: dict[str, Any] | None) -> Decimal:
    """The run's own fraction (before any run, the setting's default)."""
    return Decimal(str(summary["top_fraction"])) if summary else Decimal("0.20")


def _period(kind: str, asked: str, this_day: date) -> str:
    """The period to rank, of the kind chosen. The form shows the period it ranked, so a person who
    switches the kind and presses Show sends the other kind's period: a month becomes its quarter,
    a quarter its latest month up to today (its first, for a quarter still to come). Anything else
    is refused here naming the form's field, not members' `month` or `quarter` parameter."""
    if not asked:
        asked = f"{this_day.year}-{this_day.month:02d}"
    if re.fullmatch(MONTH_PATTERN, asked):
        year, month = (int(part) for part in asked.split("-"))
        return asked if kind == "monthly" else f"{year}-Q{(month - 1) // 3 + 1}"
    if re.fullmatch(QUARTER_PATTERN, asked):
        if kind == "quarterly":
            return asked
        year, quarter = (int(part) for part in asked.split("-Q"))
        first, now = 3 * quarter - 2, (this_day.year, this_day.month)
        if (year, first + 2) <= now:  # a quarter gone by: its last month
            return f"{year}-{first + 2:02d}"
        return f"{year}-{this_day.month if (year, first) <= now else first:02d}"  # this quarter: this month
    raise Invalid("period", "YYYY-MM for a month or YYYY-Qn for a quarter, of the years 1000 to 9998")
