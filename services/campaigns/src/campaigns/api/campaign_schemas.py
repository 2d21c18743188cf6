"""Request and response bodies of the campaigns API (the request body is the domain's CampaignIn)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from campaigns.domain.campaigns import Budget, State


class CampaignPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    kind: str
    trigger: str | None
    segment_id: str | None
    coupon_template_id: str | None
    message: dict[str, Any] | None
    control_share: Decimal
    marketing: bool
    personalised: bool
    channel: str
    starts_at: datetime | None
    ends_at: datetime | None
    budget: Budget | None
    budget_template_id: str | None = Field(
        description="with a budget: the template the campaign issues from, the chosen one with its caps narrowed to the budget")
    state: State
    treatment_size: int
    control_size: int
    created_by: str
    created_at: datetime
    launched_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


class LaunchPreviewPublic(BaseModel):
    audience: int
    treatment: int
    control: int
    coupons_needed: int
    issue_cap: int | None
    fits_budget: bool


class GroupPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    members: int
    buyers: int
    spend_per_member: Decimal
    visits_per_member: Decimal


class UpliftPublic(BaseModel):
    """Treatment minus control per member, with its confidence interval (Welch)."""

    model_config = ConfigDict(from_attributes=True)

    treatment_mean: Decimal
    control_mean: Decimal
    difference: Decimal
    low: Decimal | None
    high: Decimal | None
    relative: Decimal | None
    confidence: Decimal
    significant: bool


class StoreResultsPublic(BaseModel):
    """One store's part: each group's spend there per member (the whole group counted, so the
    stores' differences add up to the campaign's), the uplift there, the coupons redeemed there."""

    model_config = ConfigDict(from_attributes=True)

    store_id: str
    treatment_spend_per_member: Decimal
    control_spend_per_member: Decimal | None
    spend_uplift: UpliftPublic | None
    redeemed: int
    discount_cost: Decimal


class ResultsPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    campaign_id: str
    state: str
    window_start: datetime | None
    window_end: datetime
    treatment: GroupPublic
    control: GroupPublic
    issued: int
    withdrawn: int
    redeemed: int
    redemption_rate: Decimal | None
    discount_cost: Decimal
    spend_uplift: UpliftPublic | None
    visits_uplift: UpliftPublic | None
    by_store: list[StoreResultsPublic]
