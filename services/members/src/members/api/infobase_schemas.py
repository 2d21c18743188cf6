"""Bodies of the information base and communities API, and the report columns of each level.

The JSON item of each level and its CSV / printable columns carry the same fields, so an export
never disagrees with the screen. Level 2 carries no phone or address: it is a ranking, not a
contact list. On paper and in CSV times are the stores' local time (JSON keeps UTC instants) and
each level ends with a totals row of its countable columns (`*_TOTALS`).
"""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator

from members.api.report_words import TIER_WORDS, worded
from shared.bodies import Body
from shared.reports import Column, local_time
from shared.text import Text, stripped_not_blank


class ReportFilters(BaseModel):
    store_id: str | None = Field(description="The store the figures are limited to; None for the whole chain")
    from_day: date | None = Field(description="First business day counted (inclusive)")
    to_day: date | None = Field(description="Last business day counted (inclusive)")


class CommunityRankPublic(BaseModel):
    rank: int
    community_id: str
    name: str
    households: int = Field(description="Buying households: households with at least one sale in the period")
    spend: Decimal = Field(description="Sales of the period net of their returns")
    spend_per_household: Decimal
    member_count: int = Field(description="Registered members living in the community (not erased), chain-wide")
    purchases: int


class CommunityRankPage(BaseModel):
    items: list[CommunityRankPublic]
    total: int
    limit: int
    offset: int
    filters: ReportFilters


class CustomerRankPublic(BaseModel):
    rank: int
    member_id: str
    card_no: str
    name: str
    tier: str
    manager_id: str | None
    manager_name: str | None
    spend: Decimal
    purchases: int
    last_purchase_at: datetime | None
    erased: bool


class OutsideScopePublic(BaseModel):
    spend: Decimal = Field(description="What customers the caller may not see spent in the community in the period")
    purchases: int = Field(description="In this many purchases")
    community_spend: Decimal = Field(description="Everyone's spend in the community in the period, as level 1 shows it")


class CustomerRankPage(BaseModel):
    community_id: str
    community_name: str
    items: list[CustomerRankPublic]
    total: int
    limit: int
    offset: int
    filters: ReportFilters
    outside_scope: OutsideScopePublic | None = Field(default=None, description=(
        "For a caller who sees only some customers (a store manager: their store's own; an account manager: "
        "their own): what the others spent, which level 1 counts and this list leaves out; null when the list "
        "leaves nothing out"))


class PurchaseListLinePublic(BaseModel):
    kind: str = Field(description="sale (a line); discount (the sale's coupons and promotions: one row, amount "
                                  "negative); return (a returned line: quantity and amount negative); return_discount "
                                  "(what a return of a discounted sale kept of its lines' amount: positive)")
    occurred_at: datetime
    store_id: str
    pos_txn_id: str
    refund_id: str | None
    line_no: int
    sku: str
    name: str
    category: str
    qty: Decimal
    unit_price: Decimal
    amount: Decimal


class PurchaseListPage(BaseModel):
    member_id: str
    member_name: str
    card_no: str
    items: list[PurchaseListLinePublic]
    total: int
    limit: int
    offset: int
    filters: ReportFilters


class CommunityPublic(BaseModel):
    id: str
    name: str
    aliases: list[str]
    member_count: int
    household_count: int


class CommunityPage(BaseModel):
    items: list[CommunityPublic]
    total: int
    limit: int
    offset: int


class _Named(Body):
    @field_validator("*")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return stripped_not_blank(value)


class AliasCreate(_Named):
    alias: Text = Field(min_length=1, max_length=100)


class CommunityRename(_Named):
    name: Text = Field(min_length=1, max_length=100)


class MergeRequest(_Named):
    community_id: Text = Field(min_length=1, max_length=36, description="The community merged into this one")


class MergeOutcome(BaseModel):
    community: CommunityPublic
    merged_id: str
    already_merged: bool = Field(description="True when the merge had been done before; nothing changed")
    members: int
    households_moved: int
    households_joined: int
    aliases: int
    read_model_rows: int


COMMUNITY_COLUMNS = [
    Column("rank", "排名 Rank"),
    Column("name", "小区 Community"),
    Column("households", "购买户数 Buying households"),
    Column("spend", "消费总额 Total spend (CNY)", money=True),
    Column("spend_per_household", "户均消费 Spend per household (CNY)", money=True),
    Column("member_count", "会员数 Members"),
    Column("purchases", "购买次数 Purchases"),
    Column("community_id", "小区编号 Community ID"),
]

COMMUNITY_TOTALS = ("households", "spend", "member_count", "purchases")


def customer_columns(zone: ZoneInfo) -> list[Column]:
    return [
        Column("rank", "排名 Rank"),
        Column("name", "姓名 Name"),
        Column("card_no", "卡号 Card no."),
        Column("spend", "消费额 Spend (CNY)", money=True),
        Column("purchases", "购买次数 Purchases"),
        Column("last_purchase_at", "最近购买 Last purchase", lambda r: local_time(r.last_purchase_at, zone)),
        Column("tier", "等级 Tier", lambda r: worded(TIER_WORDS, r.tier)),
        Column("manager_name", "客户经理 Account manager", lambda r: r.manager_name or r.manager_id),
        Column("member_id", "会员编号 Member ID"),
    ]


CUSTOMER_TOTALS = ("spend", "purchases")

_KIND = {"sale": "购买 Sale", "discount": "折扣 Discounts", "return": "退货 Return",
         "return_discount": "退货扣回折扣 Discounts kept on return"}


def purchase_line_columns(zone: ZoneInfo) -> list[Column]:
    return [
        Column("occurred_at", "时间 Time", lambda r: local_time(r.occurred_at, zone)),
        Column("kind", "类型 Type", lambda r: _KIND[r.kind]),
        Column("store_id", "门店 Store"),
        Column("pos_txn_id", "小票号 Receipt"),
        Column("refund_id", "退货单号 Refund no."),
        Column("sku", "商品编码 SKU"),
        Column("name", "商品 Item"),
        Column("category", "品类 Category"),
        Column("qty", "数量 Qty"),
        Column("unit_price", "单价 Unit price"),
        Column("amount", "金额 Amount (CNY)", money=True),
    ]


# Quantities of different items do not add up to anything a clerk checks; the amount, net of
# returns, is what the receipts add up to.
PURCHASE_LINE_TOTALS = ("amount",)


def outside_subtitle(outside: OutsideScopePublic | None) -> str:
    """The line a scoped caller's level 2 export carries under its filters: what it leaves out."""
    if outside is None:
        return ""
    return (f" · 未列出的客户（您无权查看）：¥{outside.spend:,.2f}，购买 {outside.purchases} 次，该小区合计 "
            f"¥{outside.community_spend:,.2f} · Not listed (customers not yours to see): ¥{outside.spend:,.2f}, "
            f"purchases: {outside.purchases}, of the community's ¥{outside.community_spend:,.2f}")


def filters_filename(report: str, filters: ReportFilters) -> str:
    """A download's name with its store and business days, as the other reports name theirs: two
    files of one community, one the chain's of all time and one a store's month, are told apart
    where they are saved (a CSV has no line to say it)."""
    parts = [report, re.sub(r"[^A-Za-z0-9_-]", "_", filters.store_id or "all")]
    if filters.from_day:
        parts.append(f"from-{filters.from_day.isoformat()}")
    if filters.to_day:
        parts.append(f"to-{filters.to_day.isoformat()}")
    return "-".join(parts)


def filters_subtitle(filters: ReportFilters, zone: ZoneInfo) -> str:
    store = filters.store_id or "全部 All"
    first = filters.from_day.isoformat() if filters.from_day else "…"
    last = filters.to_day.isoformat() if filters.to_day else "…"
    return f"门店 Store: {store} · 营业日 Business days: {first} – {last} · 时间 Times: {zone.key}"
