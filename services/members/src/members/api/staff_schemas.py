"""Request and response bodies of the staff directory, tracking and evaluation APIs."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from shared.bodies import Body
from shared.identifiers import StaffDirectoryId, StoreId
from shared.integers import Rating
from shared.strict import StrictBool, StrictDate
from shared.text import Text, stripped_not_blank

StaffRole = Literal["account_manager", "store_manager", "service_desk"]
# Digits and dashes, an optional leading +; at most the 20 characters its column holds.
WorkPhone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9-]{4,19}$", max_length=20)]


class StaffCreate(Body):
    id: StaffDirectoryId = Field(description="The subject of this person's bearer token")
    name: Text = Field(min_length=1, max_length=50)
    work_phone: WorkPhone = Field(description="Work phone, given to customers")
    store_id: StoreId | None = Field(default=None, description="Defaults to the caller's store")
    role: StaffRole = "account_manager"

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return stripped_not_blank(value)


class StaffUpdate(Body):
    name: Text | None = Field(default=None, min_length=1, max_length=50)
    work_phone: WorkPhone | None = None
    active: StrictBool | None = Field(default=None, description="false: the person left; their customers are reassigned")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else stripped_not_blank(value)


class StaffPublic(BaseModel):
    id: str
    name: str
    work_phone: str
    store_id: str
    role: str
    active: bool
    communities: list[str]
    customers: int
    created_at: datetime
    updated_at: datetime


class StaffChange(BaseModel):
    staff: StaffPublic
    reassigned: int = Field(description="Customers moved to another manager by this change")
    unassigned: int = Field(description="Customers left without a manager (nobody else covers them)")
    assigned: int = Field(description="Waiting VIPs who got this manager")


class CoverageChange(BaseModel):
    manager_id: str
    community_id: str
    assigned: int = 0
    reassigned: int = 0
    unassigned: int = 0


class ManagerAssignment(Body):
    manager_id: StaffDirectoryId


class Method(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    WECHAT = "wechat"
    HOME_VISIT = "home_visit"
    IN_STORE = "in_store"


METHOD_LABELS = {
    Method.PHONE: "电话 Phone", Method.SMS: "短信 SMS", Method.WECHAT: "微信 WeChat",
    Method.HOME_VISIT: "上门 Home visit", Method.IN_STORE: "到店 In store",
}


class TrackingCreate(Body):
    tracked_on: StrictDate = Field(
        description="The day of the contact (YYYY-MM-DD, the chain's local date): not in the future, "
        "nor more than CRM_TRACKING_LATE_DAYS (31) days ago",
    )
    member_id: Text = Field(min_length=1, max_length=36)
    contact: Text = Field(min_length=1, max_length=50, description="Who was reached, e.g. 本人 / 家属")
    method: Method
    rating: Rating = Field(description="Effect evaluation, 1 (poor) to 5 (very good)")
    notes: Text = Field(default="", max_length=500)
    next_follow_up_on: StrictDate | None = Field(
        default=None,
        description="The day to contact the customer again (YYYY-MM-DD, optional): after tracked_on, not before "
        "today, within a year; the queue shows the customer as due from that day",
    )

    @field_validator("contact")
    @classmethod
    def _strip(cls, value: str) -> str:
        return stripped_not_blank(value)


class TrackingPublic(BaseModel):
    id: int
    tracked_on: date
    manager_id: str
    store_id: str
    member_id: str
    community_id: str | None
    contact: str
    method: Method
    rating: int
    notes: str
    next_follow_up_on: date | None
    recorded_at: datetime


class QueueItem(BaseModel):
    member_id: str
    card_no: str
    name: str
    phone: str
    phone_masked: bool
    community: str
    lifetime_spend: Decimal
    vip_since: datetime | None
    last_purchase_at: datetime | None
    days_since_last_purchase: int | None
    churn_risk: str = Field(description="From the latest value analytics run; unknown before the first")
    last_tracked_on: date | None
    next_follow_up_on: date | None = Field(description="The next contact planned by the manager's latest record")
    follow_up_due: bool = Field(description="The planned contact is today or overdue")
    birthday_in_days: int | None = Field(
        description="Days to the customer's birthday (0: today) when within CRM_BIRTHDAY_NOTICE_DAYS, else null"
    )


class TrackingQueue(BaseModel):
    manager_id: str
    as_of: datetime
    items: list[QueueItem]


class UnassignedVip(BaseModel):
    member_id: str
    card_no: str
    name: str
    community: str
    community_id: str | None
    home_store_id: str | None
    lifetime_spend: Decimal
    vip_since: datetime | None


class ManagerEvaluation(BaseModel):
    rank: int
    manager_id: str
    manager_name: str
    store_id: str
    tracked_customers: int
    purchases: int
    spend: Decimal
    average_purchase: Decimal
    new_customers: int
    average_rank: int
    new_customers_rank: int
    score: int
    flagged: bool


class EvaluationReport(BaseModel):
    period: str
    kind: Literal["monthly", "quarterly"]
    stores: dict[str, list[ManagerEvaluation]]
