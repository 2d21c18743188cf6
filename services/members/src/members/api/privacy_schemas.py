"""Bodies of the privacy routes: consents, the access log, erasure and the member's data export."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from members.api.analytics_schemas import ComplaintSummary, MemberValue
from members.api.schemas import ConsentsInForce, MemberPublic, PurchaseLinePublic, PurchasePublic
from shared.bodies import Body
from shared.events.contracts import ConsentChannel
from shared.strict import StrictBool


class ConsentChange(Body):
    # JSON true / false only: "yes" or 1 taken for true would record a consent never given.
    granted: StrictBool = Field(
        description="true grants the purpose, false withdraws it (at once); for personalised_offers false opts out"
    )
    channel: ConsentChannel | None = Field(
        default=None,
        description="Where the customer answered. Members: app (default) or web. Staff: default service_desk.",
    )


class ConsentRecord(BaseModel):
    purpose: str
    granted: bool
    channel: str
    recorded_by: str
    changed_at: datetime


class ConsentsView(BaseModel):
    member_id: str
    in_force: ConsentsInForce
    history: list[ConsentRecord] = Field(description="Oldest first")


class ConsentChangeResult(BaseModel):
    member_id: str
    purpose: str
    changed: bool = Field(description="false when that answer was already in force (nothing recorded)")
    in_force: ConsentsInForce


class AccessLogEntry(BaseModel):
    id: int
    actor: str
    role: str
    member_id: str
    fields: list[str]
    purpose: str
    at: datetime


class AccessLogPage(BaseModel):
    items: list[AccessLogEntry]
    total: int
    limit: int
    offset: int


class ErasureResult(BaseModel):
    member_id: str
    erased_at: datetime
    requested_by: str


class ReturnPublic(BaseModel):
    store_id: str
    refund_id: str
    pos_txn_id: str
    occurred_at: datetime
    amount: Decimal
    lines: list[PurchaseLinePublic]


class TrackingContact(BaseModel):
    """One line of an account manager's tracking feedback form about this member."""

    tracked_on: date
    manager_id: str
    store_id: str
    contact: str
    method: str
    rating: int = Field(description="Effect evaluation 1-5")
    notes: str
    next_follow_up_on: date | None = Field(default=None, description="The next contact the manager planned")
    recorded_at: datetime


class ComplaintRecord(BaseModel):
    complaint_id: str
    store_id: str
    category: str
    severity: str
    channel: str | None
    filed_at: datetime | None
    resolved_at: datetime | None


class MemberExport(BaseModel):
    """Everything the members service holds about one member (数据导出)."""

    exported_at: datetime
    profile: MemberPublic
    consents: list[ConsentRecord]
    purchases: list[PurchasePublic]
    returns: list[ReturnPublic]
    tracking_contacts: list[TrackingContact]
    complaints: list[ComplaintRecord]
    access_log: list[AccessLogEntry] = Field(description="Who read this member's personal data in clear")
    value: MemberValue | None = Field(
        default=None, description="How value analytics rates the member (RFM, value class, churn risk); None before the first run")


class ManagerRef(BaseModel):
    id: str
    name: str | None = Field(description="None when the manager is not in the staff directory")
    work_phone: str | None
    store_id: str | None
    active: bool | None


class SpendSummary(BaseModel):
    lifetime_spend: Decimal = Field(description="Net of returns")
    purchase_count: int
    average_purchase: Decimal | None
    returned_total: Decimal
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None


class EvaluationSummary(BaseModel):
    """The account managers' effect evaluations of their contacts with this customer."""

    contacts: int
    average_rating: Decimal | None
    last_tracked_on: date | None


class MemberArchive(BaseModel):
    """The customer archive (客户档案): profile, what they bought, evaluations, complaints, contacts."""

    generated_at: datetime
    profile: MemberPublic
    community_name: str | None = Field(description="The community entity the profile resolved to")
    tier: str
    tier_since: datetime | None
    manager: ManagerRef | None
    spend: SpendSummary
    value: MemberValue | None = Field(description="Latest value analytics (RFM, value class, churn risk); None before the first run")
    complaints: ComplaintSummary = Field(description="From feedback's complaint events: filed, open, resolved, by category")
    evaluation: EvaluationSummary
    tracking_contacts: list[TrackingContact] = Field(description="Every tracking contact, most recent first")
    recent_purchases: list[PurchasePublic] = Field(description="Most recent first, item by item")
