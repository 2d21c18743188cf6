"""The customer information base (客户信息库), three levels, each as JSON, CSV, an Excel workbook or a printable page.

Level 1 holds no personal data and is open to all staff; a store manager always sees their own
store's figures. Level 2 lists only the customers the caller may see (`member_scope`), without
contact details. Level 3 is one customer's purchase list, for whoever may see that customer.
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from members.api.access import member_scope, visible_member
from members.api.deps import MembersSettingsDep
from members.api.infobase_schemas import (
    COMMUNITY_COLUMNS,
    COMMUNITY_TOTALS,
    CUSTOMER_TOTALS,
    PURCHASE_LINE_TOTALS,
    CommunityRankPage,
    CommunityRankPublic,
    CustomerRankPage,
    CustomerRankPublic,
    OutsideScopePublic,
    PurchaseListLinePublic,
    PurchaseListPage,
    ReportFilters,
    customer_columns,
    filters_filename,
    filters_subtitle,
    outside_subtitle,
    purchase_line_columns,
)
from members.config import Settings
from members.service_layer.communities import current_community
from members.service_layer.infobase_queries import (
    CommunityOrder,
    Period,
    community_customers,
    purchase_list,
    rank_communities,
)
from shared.authorize import Allowed
from shared.deps import UowDep
from shared.identifiers import StoreId
from shared.integers import Int64
from shared.periods import ReportDay, in_order
from shared.policy import Grant
from shared.reports import ReportFormat, render

router = APIRouter(prefix="/v1/infobase", tags=["information base"])

FormatQuery = Annotated[ReportFormat, Query(description="json for screens, csv or xlsx (a workbook) for Excel, html to print")]
# An empty store id names no store: refused, not taken for "every store".
StoreQuery = Annotated[StoreId | None, Query(description="Only sales in this store")]
FromQuery = Annotated[ReportDay | None, Query(alias="from", description="First business day (inclusive), YYYY-MM-DD")]
ToQuery = Annotated[ReportDay | None, Query(alias="to", description="Last business day (inclusive), YYYY-MM-DD")]
OffsetQuery = Annotated[Int64, Query(ge=0)]


def _period(settings: Settings, store_id: str | None, first: date | None, last: date | None) -> Period:
    """The days and store a level reads; levels 1 and 2 pass the store through `grant.store_filter`
    (a store manager sees their own store's figures), level 3 is one customer's, in every store."""
    in_order(first, last)
    return Period(settings.zone, store_id, first, last)


def _filters(period: Period) -> ReportFilters:
    return ReportFilters(store_id=period.store_id, from_day=period.first, to_day=period.last)


@router.get("/communities", response_model=CommunityRankPage, summary="Level 1: communities ranked")
async def communities_ranked(
    uow: UowDep,
    grant: Annotated[Grant, Allowed("members.infobase.read")],
    settings: MembersSettingsDep,
    format: FormatQuery = ReportFormat.JSON,
    store_id: StoreQuery = None,
    first: FromQuery = None,
    last: ToQuery = None,
    sort: Annotated[CommunityOrder, Query(description="households (buying households) or spend")] = CommunityOrder.HOUSEHOLDS,
    limit: Annotated[Int64, Query(ge=1, le=5000)] = 200,
    offset: OffsetQuery = 0,
) -> Response:
    period = _period(settings, grant.store_filter(store_id), first, last)
    ranks, total = await rank_communities(uow.session, period, sort, limit, offset)
    items = [
        CommunityRankPublic(
            rank=offset + i, community_id=r.community_id, name=r.name, households=r.households, spend=r.spend,
            spend_per_household=r.spend_per_household, member_count=r.member_count, purchases=r.purchases,
        )
        for i, r in enumerate(ranks, start=1)
    ]
    page = CommunityRankPage(items=items, total=total, limit=limit, offset=offset, filters=_filters(period))
    return render(
        format, title="小区排名 Communities ranked", columns=COMMUNITY_COLUMNS, rows=items, json_body=page,
        filename=filters_filename("infobase-communities", page.filters), subtitle=filters_subtitle(page.filters, settings.zone), totals=COMMUNITY_TOTALS,
    )


@router.get(
    "/communities/{community_id}/customers", response_model=CustomerRankPage,
    summary="Level 2: a community's customers ranked by spend",
)
async def community_customers_ranked(
    community_id: str,
    uow: UowDep,
    grant: Annotated[Grant, Allowed("members.infobase.read")],
    settings: MembersSettingsDep,
    format: FormatQuery = ReportFormat.JSON,
    store_id: StoreQuery = None,
    first: FromQuery = None,
    last: ToQuery = None,
    limit: Annotated[Int64, Query(ge=1, le=5000)] = 50,
    offset: OffsetQuery = 0,
) -> Response:
    period = _period(settings, grant.store_filter(store_id), first, last)
    community = await current_community(uow.session, community_id)
    ranks, total, outside = await community_customers(uow.session, community.id, period, member_scope(grant), limit, offset)
    items = [
        CustomerRankPublic(
            rank=offset + i, member_id=r.member_id, card_no=r.card_no, name=r.name, tier=r.tier,
            manager_id=r.manager_id, manager_name=r.manager_name, spend=r.spend, purchases=r.purchases,
            last_purchase_at=r.last_purchase_at, erased=r.erased,
        )
        for i, r in enumerate(ranks, start=1)
    ]
    page = CustomerRankPage(
        community_id=community.id, community_name=community.name, items=items, total=total, limit=limit,
        offset=offset, filters=_filters(period),
        outside_scope=OutsideScopePublic(**vars(outside)) if outside is not None else None,
    )
    return render(
        format, title=f"{community.name} 客户排名 Customers by spend", columns=customer_columns(settings.zone),
        rows=items, json_body=page, filename=filters_filename(f"infobase-community-{community.id}", page.filters),
        subtitle=filters_subtitle(page.filters, settings.zone) + outside_subtitle(page.outside_scope), totals=CUSTOMER_TOTALS,
    )


@router.get(
    "/members/{member_id}/purchases", response_model=PurchaseListPage,
    summary="Level 3: one customer's purchase list, line by line",
)
async def member_purchase_list(
    member_id: str,
    uow: UowDep,
    grant: Annotated[Grant, Allowed("members.infobase.purchases")],
    settings: MembersSettingsDep,
    format: FormatQuery = ReportFormat.JSON,
    store_id: StoreQuery = None,
    first: FromQuery = None,
    last: ToQuery = None,
    limit: Annotated[Int64, Query(ge=1, le=5000)] = 200,
    offset: OffsetQuery = 0,
) -> Response:
    period = _period(settings, store_id, first, last)
    member = await visible_member(uow, member_id, grant)
    lines, total = await purchase_list(uow.session, member.id, period, limit, offset)
    items = [PurchaseListLinePublic(**vars(line)) for line in lines]
    page = PurchaseListPage(
        member_id=member.id, member_name=member.name, card_no=member.card_no, items=items, total=total,
        limit=limit, offset=offset, filters=_filters(period),
    )
    return render(
        format, title=f"{member.name} ({member.card_no}) 购买明细 Purchase list",
        columns=purchase_line_columns(settings.zone), rows=items, json_body=page, filename=filters_filename(f"infobase-member-{member.id}", page.filters),
        subtitle=filters_subtitle(page.filters, settings.zone), totals=PURCHASE_LINE_TOTALS,
    )
