"""The promotion list marketing maintains, and what one promotion is worth to one member.

A promotion is on one SKU or one category, for a validity window, and takes off either a
promotional `price` (a SKU only, with its `regular_price`), an `amount_off`, or a `percent_off`
(capped by `max_discount`, as percent coupons are). On a personal list it becomes a coupon limited to that SKU
or category (`coupon_spec`), and the member sees their own price: what they last paid for the SKU
less the discount (the regular price when they never bought it). Pure: no I/O.
"""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from campaigns.domain.coupons import Caps, Kind, Limits, Stacking, TemplateSpec, Validity, percent_off
from shared.bodies import Body
from shared.money import PositiveMoney
from shared.text import ItemCode, NonBlankText, Text
from shared.zones import Moment

CENT = Decimal("0.01")
# Each offer of a list is a coupon of its own; a member may use all of them in one sale.
MAX_OFFERS_PER_SALE = 20


class Promotion(Body):
    """A promotion as stored, and as read back: its sku or category as it was written (`PromotionIn`
    is what marketing sends, with the stricter rules), so one listed before a rule was added is still
    shown and still put on the members' lists."""

    title: NonBlankText = Field(max_length=100, description="what the member reads, e.g. 伊利纯牛奶 8折")
    sku: Text | None = Field(default=None, min_length=1, max_length=64)
    category: Text | None = Field(default=None, min_length=1, max_length=64)
    price: PositiveMoney | None = Field(default=None, description="promotional unit price (a SKU only)")
    regular_price: PositiveMoney | None = Field(default=None, description="with `price`: the usual unit price")
    amount_off: PositiveMoney | None = None
    percent_off: Decimal | None = Field(default=None, gt=0, lt=100, max_digits=5, decimal_places=2)
    max_discount: PositiveMoney | None = Field(default=None, description="with `percent_off`: the cap")
    valid_from: Moment
    valid_until: Moment
    # The general list (members who switched personalised offers off) shows promotions by it, lowest first.
    priority: int = Field(default=100, ge=0, le=1000)

    @model_validator(mode="after")
    def _rules(self) -> "Promotion":
        if (self.sku is None) == (self.category is None):
            raise ValueError("sku, category: give exactly one of them")
        given = [n for n in ("price", "amount_off", "percent_off") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("price, amount_off, percent_off: give exactly one of them")
        if self.price is not None:
            if self.sku is None:
                raise ValueError("price: a promotional price is for a SKU; a category takes amount_off or percent_off")
            if self.regular_price is None or self.regular_price <= self.price:
                raise ValueError("regular_price: give the usual unit price, above the promotional price")
        elif self.regular_price is not None:
            raise ValueError("regular_price: goes with price only")
        if (self.max_discount is not None) != (self.percent_off is not None):
            raise ValueError("max_discount: a percent_off promotion needs its cap, and only it has one")
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until: must be after valid_from")
        return self

    @property
    def item(self) -> str:
        """The prediction's key of what the promotion is on (domain/offers.py)."""
        return f"sku:{self.sku}" if self.sku is not None else f"category:{self.category}"


class PromotionIn(Promotion):
    """A promotion as marketing puts it on the list. Its sku or category becomes the limit of each
    member's offer coupon, matched against the till's sale lines, whose skus the till strips: one
    kept with its spaces would never be found in a basket, and one of spaces names no item
    (`ItemCode`: stripped, and a 422 naming the field when blank)."""

    sku: ItemCode | None = None
    category: ItemCode | None = None


Discount = Literal["price", "amount_off", "percent_off"]


def discount_of(p: Promotion) -> Discount:
    return "price" if p.price is not None else "amount_off" if p.amount_off is not None else "percent_off"


def own_price(p: Promotion, paid_last: Decimal | None) -> Decimal | None:
    """The member's price of a SKU on promotion: what they last paid per unit (or the regular price)
    less the promotion, never below a fen; None for a category, which has no one price."""
    if p.sku is None:
        return None
    usual = paid_last if paid_last is not None else p.regular_price
    if usual is None:
        return p.price
    if p.price is not None:
        assert p.regular_price is not None
        return max(CENT, usual - (p.regular_price - p.price))
    if p.amount_off is not None:
        return max(CENT, usual - p.amount_off)
    assert p.percent_off is not None
    # The till's rule for the offer's coupon (rounded down to the fen), so the price the member is
    # shown is the one they pay.
    return max(CENT, usual - percent_off(usual, p.percent_off, p.max_discount))


def coupon_spec(p: Promotion, starts: datetime, ends: datetime) -> TemplateSpec:
    """The coupon template of a promotion on one round's lists: limited to its SKU or category,
    valid for the round (within the promotion's own window), once per member, usable with the
    member's other offers in one sale."""
    limits = Limits(skus=[p.sku] if p.sku else [], categories=[p.category] if p.category else [])
    validity = Validity(valid_from=max(starts, p.valid_from), valid_until=min(ends, p.valid_until))
    stacking = Stacking(mode="joint", max_per_sale=MAX_OFFERS_PER_SALE)
    if p.percent_off is not None:
        return TemplateSpec(name=p.title, kind=Kind.PERCENT_OFF, percent=p.percent_off, max_discount=p.max_discount,
                            limits=limits, validity=validity, caps=Caps(per_member=1), stacking=stacking)
    amount = p.amount_off if p.amount_off is not None else p.regular_price - p.price  # type: ignore[operator]
    return TemplateSpec(name=p.title, kind=Kind.AMOUNT_OFF, amount=amount, limits=limits, validity=validity,
                        caps=Caps(per_member=1), stacking=stacking)
