"""Value analytics for staff: one member's value and complaints, the 80/20 classes, the at-risk
list and the RFM distribution, as JSON for screens, CSV for Excel or a printable page.

Every list is limited to the customers the caller may see (`member_scope`): an account manager
gets their own customers, a store manager their store's. The chain-wide run summary (boundaries,
top-20% share) is the same for everyone. Lists carry names but never contact details.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response
from sqlalchemy import ColumnElement, func
from sqlmodel import col, select

from members.adapters.tables import CommunityRow, MemberRow
from members.adapters.tables.analytics import MemberValueRow, ValueAnalyticsRunRow
from members.api.access import member_scope, visible_member
from members.api.analytics_schemas import ComplaintSummary, MemberValue
from members.api.deps import MembersSettingsDep
from members.api.report_words import CHURN_RISK_WORDS, TIER_WORDS, VALUE_CLASS_WORDS, worded
from members.service_layer.complaints import complaint_summary
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.events.contracts import ChurnRisk, ValueClass
from shared.integers import Int64
from shared.policy import Grant
from shared.reports import Column, ReportFormat, local_time, render
from shared.unit_of_work import UnitOfWork

router = APIRouter(tags=["analytics"])

Limit = Annotated[Int64, Query(ge=1, le=500)]
Offset = Annotated[Int64, Query(ge=0)]
Format = Annotated[ReportFormat, Query(alias="format")]


COLUMNS = [
    Column("member_id", "会员编号 Member ID"),
    Column("name", "姓名 Name"),
    Column("community", "小区 Community"),
    Column("tier", "等级 Tier", lambda r: worded(TIER_WORDS, r["tier"])),
    Column("value_class", "价值等级 Value class", lambda r: worded(VALUE_CLASS_WORDS, r["value_class"])),
    Column("churn_risk", "流失风险 Churn risk", lambda r: worded(CHURN_RISK_WORDS, r["churn_risk"])),
    Column("window_spend", "期内消费 Spend in window"),
    Column("window_purchase_days", "购物天数 Purchase days"),
    Column("days_since_last_purchase", "距上次购物天数 Days since last purchase"),
    Column("typical_interval_days", "常规间隔天数 Typical interval (days)"),
    Column("rfm", "RFM", lambda r: f"{r['recency']}{r['frequency']}{r['monetary']}"),
]


@router.get("/v1/members/{member_id}/value")
async def member_value(member_id: str, uow: UowDep, grant: Annotated[Grant, Allowed("members.analytics.read")]) -> MemberValue:
    await visible_member(uow, member_id, grant)
    row = await uow.session.get(MemberValueRow, member_id)
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"no value analytics for member {member_id} yet: the value-analytics job has not run since they joined",
        )
    return MemberValue.model_validate(row, from_attributes=True)


@router.get("/v1/members/{member_id}/complaints")
async def member_complaints(member_id: str, uow: UowDep, grant: Annotated[Grant, Allowed("members.analytics.read")]) -> ComplaintSummary:
    await visible_member(uow, member_id, grant)
    return ComplaintSummary.model_validate(await complaint_summary(uow, member_id))


@router.get("/v1/analytics/value-classes")
async def value_classes(
    uow: UowDep, grant: Annotated[Grant, Allowed("members.analytics.read")], settings: MembersSettingsDep,
    value_class: Annotated[ValueClass | None, Query(description="Only this class; all classes if absent")] = None,
    limit: Limit = 50, offset: Offset = 0, fmt: Format = ReportFormat.JSON,
) -> Response:
    filters = [MemberValueRow.value_class == value_class] if value_class else []
    counts = await _counts(uow, grant, MemberValueRow.value_class)
    total, items = await _page(uow, grant, filters, limit, offset)
    summary = await _latest_summary(uow)
    return render(
        fmt, title="客户价值分级 Customer value classes (80/20)", columns=COLUMNS, rows=items,
        subtitle=_subtitle(summary, settings.zone), filename="value-classes",
        json_body={"summary": summary, "counts": counts, "total": total, "limit": limit, "offset": offset,
                   "items": items},
    )


@router.get("/v1/analytics/churn")
async def churn_list(
    uow: UowDep, grant: Annotated[Grant, Allowed("members.analytics.read")], settings: MembersSettingsDep,
    risk: Annotated[list[ChurnRisk], Query(description="Risk levels to list (repeatable)")] = ["high", "lost"],  # noqa: B006
    value_class: Annotated[ValueClass | None, Query()] = None,
    limit: Limit = 50, offset: Offset = 0, fmt: Format = ReportFormat.JSON,
) -> Response:
    """Customers at risk, most valuable first (spend in the window, then the longest absence): the
    customers to win back, so not those erased, who can be neither told apart nor contacted (the
    counts of the value classes keep them, as the analytics' totals do)."""
    filters: list[ColumnElement[bool]] = [col(MemberValueRow.churn_risk).in_(risk), col(MemberRow.erased_at).is_(None)]
    if value_class:
        filters.append(col(MemberValueRow.value_class) == value_class)
    total, items = await _page(uow, grant, filters, limit, offset)
    summary = await _latest_summary(uow)
    return render(
        fmt, title="流失风险客户 Customers at risk of churning", columns=COLUMNS, rows=items,
        subtitle=_subtitle(summary, settings.zone), filename="churn-risk",
        json_body={"as_of": summary.get("as_of"), "risk": risk, "total": total, "limit": limit, "offset": offset,
                   "items": items},
    )


@router.get("/v1/analytics/rfm")
async def rfm_distribution(
    uow: UowDep, grant: Annotated[Grant, Allowed("members.analytics.read")], settings: MembersSettingsDep,
    fmt: Format = ReportFormat.JSON,
) -> Response:
    """How many customers (and how much spend) sit in each R-F-M cell; 0 means no purchase in the window."""
    v = MemberValueRow
    query = (
        select(col(v.recency), col(v.frequency), col(v.monetary), func.count(), func.sum(v.window_spend))  # type: ignore[call-overload]  # sqlmodel's select is typed for at most four columns
        .join(MemberRow, col(MemberRow.id) == col(v.member_id))
        .where(*member_scope(grant))
        .group_by(v.recency, v.frequency, v.monetary)
        .order_by(col(v.recency).desc(), col(v.frequency).desc(), col(v.monetary).desc())
    )
    cells = [
        {"recency": r, "frequency": f, "monetary": m, "members": n, "window_spend": spend or Decimal("0.00")}
        for r, f, m, n, spend in (await uow.session.exec(query)).all()
    ]
    dimensions = {
        name: {str(score): sum(c["members"] for c in cells if c[name] == score) for score in range(6)}
        for name in ("recency", "frequency", "monetary")
    }
    summary = await _latest_summary(uow)
    columns = [
        Column("recency", "最近一次 R"), Column("frequency", "频率 F"), Column("monetary", "金额 M"),
        Column("members", "客户数 Customers"), Column("window_spend", "期内消费 Spend in window"),
    ]
    return render(
        fmt, title="RFM 分布 RFM distribution", columns=columns, rows=cells, subtitle=_subtitle(summary, settings.zone),
        filename="rfm", json_body={"as_of": summary.get("as_of"), **dimensions, "cells": cells},
    )


async def _page(
    uow: UnitOfWork, grant: Grant, filters: list[Any], limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    v = MemberValueRow
    # The community by the name the chain gives it (as the information base lists it), not as each
    # customer typed it: an export pivoted by community would otherwise split one into several.
    community = func.coalesce(CommunityRow.name, MemberRow.community)
    base = select(v, MemberRow.name, community, MemberRow.tier).join(
        MemberRow, col(MemberRow.id) == v.member_id
    ).outerjoin(CommunityRow, col(CommunityRow.id) == MemberRow.community_id).where(*member_scope(grant), *filters)
    total = (await uow.session.exec(select(func.count()).select_from(base.subquery()))).one()
    rows = (
        await uow.session.exec(
            base.order_by(col(v.window_spend).desc(), col(v.days_since_last_purchase).desc(), col(v.member_id))
            .offset(offset).limit(limit)
        )
    ).all()
    items = [
        {**MemberValue.model_validate(value, from_attributes=True).model_dump(), "name": name,
         "community": community, "tier": tier}
        for value, name, community, tier in rows
    ]
    return total, items


async def _counts(uow: UnitOfWork, grant: Grant, column: Any) -> dict[str, int]:
    query = (
        select(column, func.count()).join(MemberRow, col(MemberRow.id) == MemberValueRow.member_id)
        .where(*member_scope(grant)).group_by(column)
    )
    return {key: n for key, n in (await uow.session.exec(query)).all()}


async def _latest_summary(uow: UnitOfWork) -> dict[str, Any]:
    run = (
        await uow.session.exec(select(ValueAnalyticsRunRow).order_by(col(ValueAnalyticsRunRow.id).desc()).limit(1))
    ).first()
    return run.summary if run else {}


def _subtitle(summary: dict[str, Any], zone: ZoneInfo) -> str:
    """The run the lists come from, at the stores' time, and its top-20% share: the chain's, which
    defines the classes, whatever part of the chain the caller's lines are."""
    if not summary:
        return "尚未计算 Not computed yet"
    as_of = local_time(datetime.fromisoformat(str(summary["as_of"])), zone)
    return (
        f"截至 As of {as_of} ({zone.key}) · 窗口 Window {summary['window_days']} 天 days · "
        f"全连锁前20%客户消费占比 Top 20% share, whole chain {summary['top_share']}"
    )
