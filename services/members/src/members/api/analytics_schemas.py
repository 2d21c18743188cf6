"""Bodies of the value-analytics API (also part of the customer archive)."""

from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel

from shared.events.contracts import ChurnRisk, ValueClass


class MemberValue(BaseModel):
    member_id: str
    as_of: AwareDatetime
    window_days: int
    recency: int
    frequency: int
    monetary: int
    value_class: ValueClass
    churn_risk: ChurnRisk
    rhythm_churn_risk: ChurnRisk
    window_spend: Decimal
    window_purchase_days: int
    last_purchase_at: AwareDatetime | None
    days_since_last_purchase: int | None
    typical_interval_days: float | None
    rhythm_source: Literal["own", "population", "none"]


class ComplaintSummary(BaseModel):
    member_id: str
    filed: int
    open: int
    resolved: int
    last_filed_at: AwareDatetime | None
    by_category: dict[str, int]
