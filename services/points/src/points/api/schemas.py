"""Request and response bodies of the points API."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from points.domain.catalogue import GiftKind, points_kept
from shared.bodies import Body
from shared.cards import CardNumber
from shared.events.contracts import Channel
from shared.identifiers import RecordId, StoreId
from shared.integers import Points, PointsChange, PositivePoints
from shared.money import Money, PositiveRate, Rate
from shared.text import NonBlankText, Text
from shared.zones import Moment

# What staff write for the record, by the shared rule (shared.text.NonBlankText): stripped, clean,
# never blank. A reason of spaces passed `min_length` when it counted them, and reached the ledger,
# which refuses an entry without a reason: a 500 instead of a 422 naming the field.
Reason = Field(min_length=3, max_length=200, description="Why; shown in the ledger and the audit trail")


class LedgerEntryPublic(BaseModel):
    id: int
    entry_type: str
    points: int
    balance_after: int
    reason: str
    source_ref: str
    source_event_id: str | None
    staff_id: str | None
    job_id: str | None
    occurred_at: datetime
    booked_at: datetime


class AccountPublic(BaseModel):
    member_id: str
    channel: str
    balance: int
    redemptions_blocked: bool = Field(description="True while a return has left the balance below zero")
    opened_at: datetime
    entries: list[LedgerEntryPublic]


class LedgerPage(BaseModel):
    member_id: str
    entries: list[LedgerEntryPublic]
    next_before_id: int | None = Field(description="Pass as before_id for the next (older) page")


# A category as the tills send it (`SaleLine.category`): never blank, which would be the key of
# every line sent without one.
Category = Annotated[NonBlankText, Field(max_length=64)]


class EarningRuleIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "effective_from": "2027-01-01T00:00:00+08:00", "points_per_yuan": "1",
                "channel_rates": {"partner": "1.2"}, "store_rates": {"S003": "0.5"},
                "category_multipliers": {"fresh": "2"}, "excluded_categories": ["tobacco"],
                "min_sale_amount": "10.00", "reason": "2027 rules approved by the board",
            }
        }
    )

    effective_from: Moment | None = Field(
        default=None, description="Not in the past: booked sales keep the rules they were booked with; left out, now")
    # As high as the other rates go: a mistyped 1000 would be in force at once, at a thousand times the points.
    points_per_yuan: PositiveRate = Field(default=Decimal(1), le=100)
    channel_rates: dict[Channel, Rate] = Field(default_factory=dict)
    store_rates: dict[StoreId, Rate] = Field(default_factory=dict)
    category_multipliers: dict[Category, Rate] = Field(default_factory=dict)
    excluded_categories: list[Category] = Field(default_factory=list, description="Categories that earn nothing")
    min_sale_amount: Money = Decimal("0.00")
    reason: NonBlankText = Reason

    @model_validator(mode="after")
    def _rates_are_sane(self) -> "EarningRuleIn":
        # A multiplier of 0 excludes a category; a rate of 0 would silently switch earning off.
        checks = (("channel_rates", self.channel_rates, False), ("store_rates", self.store_rates, False),
                  ("category_multipliers", self.category_multipliers, True))
        for name, rates, zero_ok in checks:
            for key, value in rates.items():
                if value < 0 or (value == 0 and not zero_ok) or value > 100 or value != value.quantize(Decimal("0.0001")):
                    raise ValueError(f"{name}.{key}: {value} must be {'0 or more' if zero_ok else 'above 0'}, "
                                     "at most 100, with at most 4 decimals")
        if both := sorted(set(self.category_multipliers) & set(self.excluded_categories)):
            # Excluded wins in the rule: the multiplier would be stored and never apply.
            raise ValueError(f"category_multipliers: {', '.join(both)} also in excluded_categories; "
                             "give a category a multiplier or exclude it")
        return self


class EarningRulePublic(BaseModel):
    version: int
    effective_from: datetime
    points_per_yuan: Decimal
    channel_rates: dict[str, Decimal]
    store_rates: dict[str, Decimal]
    category_multipliers: dict[str, Decimal]
    min_sale_amount: Decimal
    reason: str
    created_by: str
    created_at: datetime


class PreviewLine(Body):
    sku: Text = Field(default="", max_length=64)
    category: Text = Field(default="", max_length=64)
    amount: Money


class PreviewIn(Body):
    store_id: StoreId
    occurred_at: Moment | None = Field(default=None, description="Defaults to now")
    card_no: CardNumber | None = Field(default=None, description="The swiped points card")
    # Points keeps no phones: the gateway asks members whose phone the customer gave, and sends the member.
    member_id: RecordId | None = Field(default=None, description="The member the till found by phone, instead of a card")
    channel: Channel | None = Field(default=None, description="Used when no card is given; retail by default")
    lines: list[PreviewLine] = Field(min_length=1, max_length=500)
    # Points follow what is paid (domain/earning.py): the basket's coupons and promotions, as the
    # sale will carry them in its discounts.
    discount: Money = Field(default=Decimal("0.00"), description="What the sale's discounts take off the lines")

    @model_validator(mode="after")
    def _one_customer(self) -> "PreviewIn":
        if self.card_no is not None and self.member_id is not None:
            raise ValueError("give card_no or member_id, not both")
        return self

    @model_validator(mode="after")
    def _discount_within_the_basket(self) -> "PreviewIn":
        total = sum((ln.amount for ln in self.lines), Decimal("0.00"))
        if self.discount > total:
            raise ValueError(f"discount: {self.discount} exceeds the basket's {total}")
        return self


class PreviewOut(BaseModel):
    points: int
    eligible_amount: Decimal = Field(description=(
        "What the rule counts of the basket (its excluded categories left out), before the basket's discounts: "
        "points are earned on it scaled by what is paid, (total - discount) / total, so a 满100减20 coupon on "
        "120 yuan shows 120.00 here and earns 100 points"))
    rate: Decimal
    rule_version: int
    channel: str
    below_minimum: bool
    member_known: bool


class GiftIn(Body):
    name_zh: NonBlankText = Field(max_length=100)
    name_en: NonBlankText = Field(max_length=100)
    prices: dict[Channel, Points] = Field(min_length=1, description="Points per channel")
    active_from: Moment | None = None
    active_until: Moment | None = None
    kind: GiftKind = Field(
        default=GiftKind.GIFT, description="gift: stock per store, handed over at the desk; coupon: campaigns issues a coupon"
    )
    # validate_default: the check below must also run when the field is left out.
    coupon_template_id: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", validate_default=True,
        description="The campaigns coupon template a coupon item sells; required for kind coupon, refused otherwise",
    )

    @field_validator("coupon_template_id")
    @classmethod
    def _template_for_coupons_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind is GiftKind.COUPON and value is None:
            raise ValueError("a coupon item names the campaigns coupon template it sells")
        if kind is GiftKind.GIFT and value is not None:
            raise ValueError("only a coupon item names a coupon template")
        return value

    @model_validator(mode="after")
    def _valid(self) -> "GiftIn":
        for channel, points in self.prices.items():
            if points <= 0:
                raise ValueError(f"prices.{channel}: a gift costs a positive number of points")
        if self.active_from and self.active_until and self.active_until <= self.active_from:
            raise ValueError("active_until must be after active_from")
        return self


class GiftPublic(GiftIn):
    # An answer: pydantic's default, not the body's refusal of unknown fields.
    model_config = ConfigDict(extra="ignore")

    gift_id: str


class StockIn(Body):
    # Strict: a JSON `true` is no count of units.
    quantity: StrictInt = Field(
        ge=0, le=1_000_000,
        description="Units counted on the store's shelf, reserved gifts not yet handed over included",
    )


class StockPublic(BaseModel):
    gift_id: str
    store_id: str
    # Readers (the desk's "units left", the member catalogue) take `quantity` as what can still be
    # reserved; `reserved` and `on_hand` were added beside it.
    quantity: int = Field(description="Units free to reserve: on hand less those reserved and not yet handed over")
    reserved: int = Field(default=0, description="Gifts reserved at the store, not yet handed over or cancelled")
    on_hand: int = Field(default=0, description="Units the store holds for the register: free plus reserved")
    updated_at: datetime


class GiftChangePublic(BaseModel):
    id: int
    gift_id: str
    store_id: str | None = Field(description="The store of a stock count; null for a change of the gift itself")
    change: str = Field(description="gift (names, prices, dates, kind) or stock (a store's count)")
    staff_id: str
    at: datetime
    before: dict[str, Any] | None = Field(description="null: the gift, or the store's stock of it, was new")
    after: dict[str, Any]


class RedemptionIn(Body):
    member_id: Text = Field(min_length=1, max_length=36)
    gift_id: Text = Field(min_length=1, max_length=64)
    store_id: StoreId


class CancelIn(Body):
    reason: NonBlankText = Reason


class RedemptionPublic(BaseModel):
    redemption_id: str
    member_id: str
    gift_id: str
    kind: GiftKind
    coupon_template_id: str | None
    store_id: str
    channel: str
    points: int
    status: str
    staff_id: str
    redeemed_at: datetime
    handed_over_at: datetime | None
    handed_over_by: str | None
    cancelled_at: datetime | None
    cancelled_by: str | None
    cancel_reason: str | None

    @computed_field(description="The points the entry keeps: 0 once cancelled (they were given back)")  # type: ignore[prop-decorator]
    @property
    def points_kept(self) -> int:
        return points_kept(self.status, self.points)


class EntitlementUseIn(Body):
    used_on: date = Field(description="Date of the visit")
    store_id: StoreId


class EntitlementUsePublic(BaseModel):
    id: int
    kind: str
    used_on: date
    store_id: str
    staff_id: str
    booked_at: datetime


class EntitlementPublic(BaseModel):
    kind: str
    granted: int
    used: int
    remaining: int
    uses: list[EntitlementUsePublic]


class AdjustmentIn(Body):
    points: PointsChange = Field(description="Positive to add, negative to take away; never 0")
    reason: NonBlankText = Reason

    @model_validator(mode="after")
    def _not_zero(self) -> "AdjustmentIn":
        if self.points == 0:
            raise ValueError("points: an adjustment of zero changes nothing")
        return self


class BonusIn(Body):
    points: PositivePoints
    reason: NonBlankText = Reason


class BulkBonusIn(BonusIn):
    # Each id checked where it enters: one the member tables cannot hold would fail its chunk on
    # every run, and the job would never finish.
    member_ids: list[RecordId] | None = Field(default=None, min_length=1, description="Each member once; repeats are ignored")
    card_nos: list[CardNumber] | None = Field(
        default=None, min_length=1,
        description="Instead of member_ids: the customers' points card numbers (a column of a spreadsheet), each a "
                    "card a points account holds now; repeats are ignored")

    @model_validator(mode="after")
    def _one_list(self) -> "BulkBonusIn":
        if (self.member_ids is None) == (self.card_nos is None):
            raise ValueError("member_ids, card_nos: give one of them")
        return self


class BulkBonusPublic(BaseModel):
    job_id: str
    status: str
    points: int
    reason: str
    total: int
    booked: int
    skipped: int
    created_by: str
    created_at: datetime
    finished_at: datetime | None


# A member's own gifts in the app (api/routes/member_gifts.py).
class MemberGiftPublic(BaseModel):
    gift_id: str
    name_zh: str
    name_en: str
    kind: GiftKind
    points: int = Field(description="The price at the member's own channel")
    stock_at_home_store: int | None = Field(
        description="Units left at the member's home store; null for a coupon item, while no home store is known, "
                    "or for a store-bound caller (a desk) of another store")
    active_from: datetime | None
    active_until: datetime | None


class MemberCatalogue(BaseModel):
    member_id: str
    channel: str
    home_store_id: str | None
    home_store_closed: bool = Field(description="The home store has closed: no gift can be reserved for pick-up there "
                                                "until a service desk moves the member's home store (coupon items still can)")
    gifts: list[MemberGiftPublic]


class ReserveIn(Body):
    gift_id: Text = Field(min_length=1, max_length=64)


class ExpiringLot(BaseModel):
    expires_on: date = Field(description="The last day these points are valid (the chain's local date)")
    points: int


class ExpiringPublic(BaseModel):
    member_id: str
    balance: int
    expiring: list[ExpiringLot] = Field(
        description="The member's points by the day they expire, today or later, soonest first")
    past_date: int = Field(description="Points past their last day, still in the balance until the expiry job "
                                       "takes them (a few hours at most); they buy no gift")
