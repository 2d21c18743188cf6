"""What a till sends: a sale or a return, read exactly as sent (unknown fields are refused)."""

from decimal import Decimal

from pydantic import ConfigDict, Field, field_validator, model_validator

from shared.bodies import Body
from shared.cards import CardNumber
from shared.coupon_codes import CouponCode
from shared.events.contracts import (
    DiscountIn,
    SaleLineIn,
    SaleTime,
    discounts_fit,
    lines_add_up,
    own_store_unnamed,
    sale_store_of,
    sum_of_discounts,
)
from shared.identifiers import StoreId, TxnId
from shared.money import Money
from shared.phones import Phone
from shared.text import Text


class TillCustomer(Body):
    """Who the customer is at the till: the member card they show, or the phone number they give
    when they have no card with them; never both. The one rule for every request that names the
    customer at the till (a sale's `member`, the points preview, the coupons' validate and reserve),
    so each takes what the others take.
    Unknown fields refused: `phone_number` for `phone` must not pass as no phone."""

    card_no: CardNumber | None = Field(default=None, description="The member card, swiped or typed")
    phone: Phone | None = Field(default=None, description="Mainland mobile number, for a customer without their card")

    @model_validator(mode="after")
    def _not_both(self) -> "TillCustomer":
        if self.card_no is not None and self.phone is not None:
            raise ValueError("give exactly one of card_no or phone")
        return self

    @property
    def named(self) -> bool:
        return self.card_no is not None or self.phone is not None


class PosMember(TillCustomer):
    """A sale's customer, and that of the coupons checked and held for it: a `member` sent names one
    (a sale without a customer leaves it out)."""

    @model_validator(mode="after")
    def _named(self) -> "PosMember":
        if not self.named:
            raise ValueError("give exactly one of card_no or phone")
        return self


class PosPurchaseIn(Body):
    # A till's misspelled field (e.g. `customer` for `member`) would otherwise pass as an anonymous
    # sale and the customer would silently lose the points: unknown fields are a 422 (Body).
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "store_id": "S001", "pos_txn_id": "S001-T03-000123", "occurred_at": "2026-11-23T10:15:00+08:00",
                "member": {"card_no": "8800000012345"},
                "lines": [{"sku": "6901234567890", "name": "金龙鱼大米 5kg", "category": "grain", "qty": 2,
                           "unit_price": "39.90", "amount": "79.80"}],
                "total": "79.80", "payment": "wechat",
                "coupons": ["K7QM2XWD9P"],
                "discounts": [{"code": "K7QM2XWD9P", "amount": "10.00", "label": "满50减10"}],
            }
        }
    )

    store_id: StoreId
    pos_txn_id: TxnId
    occurred_at: SaleTime = Field(description="Time of sale with its UTC offset")
    member: PosMember | None = Field(default=None, description="Absent for an anonymous sale")
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500)
    total: Money = Field(description="Before discounts: the sum of the lines")
    payment: Text = Field(default="", max_length=32)
    coupons: list[CouponCode] = Field(
        default_factory=list, max_length=20,
        description="Codes this sale redeems, as validated and reserved with /pos/v1/coupons/*",
    )
    discounts: list[DiscountIn] = Field(
        default_factory=list, max_length=50,
        description="What was taken off `total`: per coupon (`code`) or the till's own promotions (no code)",
    )

    _total_matches_lines = field_validator("total")(lines_add_up)
    # The event's own rule (shared.events.contracts.pos), so the till hears a 422 for a sale the
    # event would refuse, instead of a 202 for a sale that could never be published.
    _discounts_fit = model_validator(mode="after")(discounts_fit)

    @property
    def discount_total(self) -> Decimal:
        return sum_of_discounts(self.discounts)


class PosRefundIn(Body):
    store_id: StoreId
    refund_id: TxnId
    pos_txn_id: TxnId  # the original sale
    occurred_at: SaleTime
    lines: list[SaleLineIn] = Field(min_length=1, max_length=500, description="The returned lines")
    amount: Money
    sale_store_id: StoreId | None = Field(
        default=None, description="The store of the sale, when the goods come back at another store of the chain; "
        "absent: the sale is this store's (`store_id`)",
    )

    _amount_matches_lines = field_validator("amount")(lines_add_up)
    _own_store_unnamed = model_validator(mode="after")(own_store_unnamed)

    @property
    def sale_store(self) -> str:
        """The store whose sale `pos_txn_id` is."""
        return sale_store_of(self)
