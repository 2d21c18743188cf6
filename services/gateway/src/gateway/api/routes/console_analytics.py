"""Staff pages of the console: value analytics (the 80/20 curve, value classes, RFM distribution,
churn bands) and the account managers' monthly evaluation and quarterly flag. Members' own API
decides, with the person's token (the figures cover the person's scope)."""

import asyncio
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from gateway.api.console.render import page, today
from gateway.api.console.session import Console, ConsoleUser
from gateway.domain.page_figures import bars, pareto
from gateway.service_layer.console_reads import read
from gateway.service_layer.stores import ensure_report_stores
from shared.errors import Invalid

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
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
    classes = [{"value_class": k, "customers": v} for k, v in sorted(first["counts"].items())]
    return page(
        request, "staff/analytics.html", user, summary=first["summary"], curve=pareto([Decimal(str(i["window_spend"])) for i in items]),
        curve_customers=len(items), total=first["total"], class_bars=bars(classes, "value_class", "customers"),
        churn_bars=bars(bands, "risk", "customers"), rfm=rfm,
        rfm_bars={name: bars([{"score": k, "customers": v} for k, v in sorted(rfm[name].items())], "score", "customers")
                  for name in ("recency", "frequency", "monetary")},
    )


@router.get("/evaluations")
async def evaluations(request: Request, user: Annotated[ConsoleUser, Console("gateway.console.use")]) -> HTMLResponse:
    """Account managers ranked for a month, or for a quarter with each store's lowest flagged."""
    kind = request.query_params.get("kind", "monthly")
    if kind not in ("monthly", "quarterly"):
        raise Invalid("kind", "monthly or quarterly")
    this_day = today(request)
    default = f"{this_day.year}-{this_day.month:02d}" if kind == "monthly" else f"{this_day.year}-Q{(this_day.month - 1) // 3 + 1}"
    period = request.query_params.get("period", "").strip() or default
    params = {"month" if kind == "monthly" else "quarter": period}
    if store := request.query_params.get("store_id", "").strip():
        await ensure_report_stores(request.app.state.commands, [store])
        params["store_id"] = store
    report: dict[str, Any] = await read(request.app.state.downstream.members, "members",
                                        f"/v1/evaluations/managers/{kind}", user.bearer(), params)
    return page(request, "staff/evaluations.html", user, report=report, kind=kind, period=period, store=store)
