"""What point-of-sale systems publish: sales and returns."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from pydantic import ConfigDict, Field, field_validator, model_validator

from shared.cards import CardNumber
from shared.coupon_codes import CouponCode
from shared.events.contracts.common import Contract, SaleTime, StoreId, TxnId, lines_add_up
from shared.money import Money, PositiveMoney, Quantity
from shared.text import Text, stripped_not_blank


class SaleLine(Contract):
    # Clean text: a NUL in a line's name would be refused by PostgreSQL in every consumer that
    # stores the line, turning one bad sale into a dead letter downstream.
    sku: Text = Field(min_length=1, max_length=64)
    name: Text = Field(default="", max_length=200)
    category: Text = Field(default="", max_length=64)
    qty: Quantity
    unit_price: Money
    amount: Money


class SaleLineIn(SaleLine):
    """A line as a till or an import sends it. An event's line ignores fields it does not know, so
    that a consumer reads events of a newer producer; what a sender writes is read exactly: a
    misspelt `category` would leave the line uncategorised, earning points a category rule
    excludes, so an unknown field is refused."""

    model_config = ConfigDict(extra="forbid")

    # A sku is a code the line is known by, to a return naming it and a coupon's rule: " A1" and
    # "A1" are one item, and a sku of spaces names none.
    _sku = field_validator("sku")(stripped_not_blank)


def quantities_by_sku(lines: Iterable[SaleLine]) -> dict[str, Decimal]:
    """How much of each sku the lines hold; a sku on several lines counts once, summed."""
    by_sku: dict[str, Decimal] = {}
    for line in lines:
        by_sku[line.sku] = by_sku.get(line.sku, Decimal(0)) + line.qty
    return by_sku


@dataclass(frozen=True)
class SoldSku:
    """What a sale's lines of one sku came to beyond their quantity: the category they named (one
    in practice; a till that listed the sku under two categories on one sale gets either accepted
    on its returns) and their amounts summed."""

    categories: tuple[str, ...]
    amount: Decimal


def sold_skus(lines: Iterable[SaleLine]) -> dict[str, SoldSku]:
    """Of each sku the lines hold, its categories and what its lines came to."""
    categories: dict[str, list[str]] = {}
    amounts: dict[str, Decimal] = {}
    for line in lines:
        named = categories.setdefault(line.sku, [])
        if line.category not in named:
            named.append(line.category)
        amounts[line.sku] = amounts.get(line.sku, Decimal(0)) + line.amount
    return {sku: SoldSku(tuple(named), amounts[sku]) for sku, named in categories.items()}


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


class Discount(Contract):
    """Money taken off the sale's total: by a coupon (`code`) or by the till's own promotion."""

    code: CouponCode | None = None
    amount: PositiveMoney
    label: Text = Field(default="", max_length=64)


class DiscountIn(Discount):
    """A discount as a till sends it: unknown fields refused (`SaleLineIn`)."""

    model_config = ConfigDict(extra="forbid")


class DiscountedSale(Protocol):
    """What `discounts_fit` reads: the event and the gateway's till body both have it."""

    @property
    def total(self) -> Decimal: ...

    @property
    def coupons(self) -> Sequence[str]: ...

    @property
    def discounts(self) -> Sequence[Discount]: ...

    @property
    def discount_total(self) -> Decimal: ...


_Sale = TypeVar("_Sale", bound=DiscountedSale)


def sum_of_discounts(discounts: Sequence[Discount]) -> Decimal:
    return sum((d.amount for d in discounts), Decimal("0.00"))


def within_the_total(taken_off: Decimal, total: Decimal, field: str) -> None:
    """What a sale's discounts take off is at most its total: nobody is paid to buy. `field` names
    what the caller sent (a till's `discounts`, an import's `discount`)."""
    if taken_off > total:
        raise ValueError(f"{field}: {taken_off} is more than the total {total}")


def discounts_fit(purchase: _Sale) -> _Sale:
    """The rules a sale's coupons and discounts obey, in the till's body and in the event alike."""
    if len(set(purchase.coupons)) != len(purchase.coupons):
        raise ValueError("coupons: a code is listed twice")
    unknown = {d.code for d in purchase.discounts if d.code is not None} - set(purchase.coupons)
    if unknown:
        raise ValueError(f"discounts: code {sorted(unknown)[0]} is not among the sale's coupons")
    within_the_total(purchase.discount_total, purchase.total, "discounts")
    return purchase


class PurchaseMadeV1(Contract):
    store_id: StoreId
    pos_txn_id: TxnId
    occurred_at: SaleTime
    customer: CustomerRef | None = None
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    # Before discounts: the sum of the lines.
    total: Money
    payment: str = Field(default="", max_length=32)
    # Coupons redeemed by this sale (campaigns marks them used) and what was taken off the total.
    coupons: list[CouponCode] = Field(default_factory=list, max_length=20)
    discounts: list[Discount] = Field(default_factory=list, max_length=50)

    _total_matches_lines = field_validator("total")(lines_add_up)
    _discounts_fit = model_validator(mode="after")(discounts_fit)

    @property
    def discount_total(self) -> Decimal:
        return sum_of_discounts(self.discounts)

    @property
    def paid(self) -> Decimal:
        """What the customer paid: points are earned on this."""
        return self.total - self.discount_total


class ReturnOfASale(Protocol):
    """What names the sale a return takes goods back from: the till's body and the event alike."""

    @property
    def store_id(self) -> str: ...

    @property
    def sale_store_id(self) -> str | None: ...


_Return = TypeVar("_Return", bound=ReturnOfASale)


def sale_store_of(ret: ReturnOfASale) -> str:
    """The store whose sale the return's `pos_txn_id` is: the one it names, else its own."""
    return ret.sale_store_id or ret.store_id


def own_store_unnamed(ret: _Return) -> _Return:
    """A return naming its own store as the sale's is a same-store return, written one way (no
    `sale_store_id`), so that it reads, fingerprints and is stored like one sent without the field."""
    if ret.sale_store_id == ret.store_id:
        ret.sale_store_id = None  # type: ignore[misc]
    return ret


class PurchaseRefundedV1(Contract):
    store_id: StoreId  # the store taking the goods back: its till's credential, its refund_id
    refund_id: TxnId
    pos_txn_id: TxnId
    occurred_at: SaleTime
    customer: CustomerRef | None = None
    lines: list[SaleLine] = Field(min_length=1, max_length=500)
    amount: Money
    # Added inside v1 (optional): the store of the sale when the goods come back at another store
    # of the chain; absent, the sale is the return's own store's, as it always was.
    sale_store_id: StoreId | None = None

    _amount_matches_lines = field_validator("amount")(lines_add_up)
    _own_store_unnamed = model_validator(mode="after")(own_store_unnamed)

    @property
    def sale_store(self) -> str:
        """What the sale is looked up by, with `pos_txn_id`."""
        return sale_store_of(self)
