"""What point-of-sale systems publish: sales and returns."""

from pydantic import AwareDatetime, Field, field_validator, model_validator

from shared.cards import CardNumber
from shared.events.contracts.common import Contract, StoreId, TxnId, lines_add_up
from shared.money import Money, Quantity
from shared.text import Text


class SaleLine(Contract):
    # Clean text: a NUL in a line's name would be refused by PostgreSQL in every consumer that
    # stores the line, turning one bad sale into a dead letter downstream.
    sku: Text = Field(min_length=1, max_length=64)
    name: Text = Field(default="", max_length=200)
    category: Text = Field(default="", max_length=64)
    qty: Quantity
    unit_price: Money
    amount: Money


class CustomerRef(Contract):
    """How the POS identified the customer. `phone_hmac` is HMAC-SHA256(phone, pepper) in hex."""

    card_no: CardNumber | None = None
    phone_hmac: str | None = Field(default=None, min_length=64, max_length=64, pattern=r"^[0-9a-f]+$")

    @model_validator(mode="after")
    def _one_reference(self) -> "CustomerRef":
        if (self.card_no is None) == (self.phone_hmac is None):
            raise ValueError("give exactly one of card_no or phone_hmac")
        return self

    @property
    def key(self) -> str:
        return f"card:{self.card_no}" if self.card_no else f"phone:{self.phone_hmac}"


class PurchaseMadeV1(Contract):
    store_id: StoreId
    pos_txn_id: TxnId
    occurred_at: AwareDatetime
    customer: CustomerRef | None = None
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    total: Money
    payment: str = Field(default="", max_length=32)

    _total_matches_lines = field_validator("total")(lines_add_up)


class PurchaseRefundedV1(Contract):
    store_id: StoreId
    refund_id: TxnId
    pos_txn_id: TxnId
    occurred_at: AwareDatetime
    customer: CustomerRef | None = None
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    amount: Money

    _amount_matches_lines = field_validator("amount")(lines_add_up)
