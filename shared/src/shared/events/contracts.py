"""Event payloads (the `data` of the envelope), one pydantic model per versioned type.

Rules: payloads carry ids and amounts, never names, phones or addresses; inside a version
fields are only ever added (optional ones), so consumers ignore what they do not know.
"""

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from shared.money import Money, Quantity

StoreId = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
TxnId = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/-]+$")
Channel = Literal["retail", "partner"]


class Contract(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SaleLine(Contract):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=64)
    qty: Quantity
    unit_price: Money
    amount: Money


class CustomerRef(Contract):
    """How the POS identified the customer. `phone_hmac` is HMAC-SHA256(phone, pepper) in hex."""

    card_no: str | None = Field(default=None, min_length=4, max_length=32, pattern=r"^[0-9A-Za-z]+$")
    phone_hmac: str | None = Field(default=None, min_length=64, max_length=64, pattern=r"^[0-9a-f]+$")

    @model_validator(mode="after")
    def _one_reference(self) -> "CustomerRef":
        if (self.card_no is None) == (self.phone_hmac is None):
            raise ValueError("give exactly one of card_no or phone_hmac")
        return self

    @property
    def key(self) -> str:
        return f"card:{self.card_no}" if self.card_no else f"phone:{self.phone_hmac}"


def lines_add_up(total: Decimal, info: ValidationInfo) -> Decimal:
    """Field validator for a total declared after `lines`: reported on the total's own field."""
    lines = info.data.get("lines")
    if lines is None:  # the lines themselves were invalid and are reported on their own
        return total
    line_sum = sum((line.amount for line in lines), Decimal("0.00"))
    if line_sum != total:
        raise ValueError(f"{info.field_name} {total} does not equal the sum of line amounts {line_sum}")
    return total


class PurchaseMadeV1(Contract):
    store_id: str = StoreId
    pos_txn_id: str = TxnId
    occurred_at: AwareDatetime
    customer: CustomerRef | None = None
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    total: Money
    payment: str = Field(default="", max_length=32)

    _total_matches_lines = field_validator("total")(lines_add_up)


class PurchaseRefundedV1(Contract):
    store_id: str = StoreId
    refund_id: str = TxnId
    pos_txn_id: str = TxnId
    occurred_at: AwareDatetime
    customer: CustomerRef | None = None
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    amount: Money

    _amount_matches_lines = field_validator("amount")(lines_add_up)


class MemberRegisteredV1(Contract):
    member_id: str
    card_no: str
    channel: Channel
    home_store_id: str | None = None
    registered_at: AwareDatetime


class AttributedLine(Contract):
    sku: str
    category: str = ""
    qty: Quantity
    amount: Money


class PurchaseAttributedV1(Contract):
    """A POS sale matched to a member: what points and analytics act on."""

    member_id: str
    sale_event_id: str
    store_id: str
    pos_txn_id: str
    occurred_at: AwareDatetime
    total: Money
    lines: list[AttributedLine]
    # True when the sale arrived before the card or phone was registered and was matched later.
    late_match: bool = False
    business_date: date | None = None
