"""A promotion's rules (domain/promotions.py): what marketing may put on the list, the member's own
price, and the coupon an offer becomes."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from campaigns.domain.coupons import Basket, BasketLine, Kind, discount_of
from campaigns.domain.promotions import Promotion, PromotionIn, coupon_spec, own_price

pytestmark = pytest.mark.unit

START = datetime(2026, 12, 1, tzinfo=UTC)
WINDOW = {"valid_from": START, "valid_until": START + timedelta(days=30)}


def promotion(**fields: object) -> PromotionIn:
    return PromotionIn.model_validate({"title": "offer", **WINDOW, **fields})


@pytest.mark.parametrize(("fields", "field"), [
    ({"sku": "A", "category": "dairy", "amount_off": "1"}, "sku, category"),
    ({"amount_off": "1"}, "sku, category"),
    ({"sku": "A"}, "price, amount_off, percent_off"),
    ({"category": "dairy", "price": "9.90", "regular_price": "12.00"}, "price"),
    ({"sku": "A", "price": "9.90"}, "regular_price"),
    ({"sku": "A", "amount_off": "1", "regular_price": "12.00"}, "regular_price"),
    ({"sku": "A", "percent_off": "10"}, "max_discount"),
    ({"sku": "A", "amount_off": "1", "valid_until": START}, "valid_until"),
])
def test_a_promotion_is_refused_naming_the_field(fields: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        promotion(**fields)


def test_a_promotions_sku_or_category_is_stripped_as_the_till_strips_a_lines_sku() -> None:
    """Its offer coupon is limited to it: one kept with its spaces never matched a basket."""
    on_sku = promotion(sku=" 6901234567890 ", price="9.90", regular_price="12.00")
    assert on_sku.sku == "6901234567890" and on_sku.item == "sku:6901234567890"
    assert coupon_spec(on_sku, START, START + timedelta(days=14)).limits.skus == ["6901234567890"]
    assert promotion(category="\u3000乳品 ", amount_off="1").category == "乳品"


@pytest.mark.parametrize("field", ["sku", "category"])
@pytest.mark.parametrize("blank", ["   ", "\u3000", "\u200b"])
def test_a_blank_sku_or_category_of_a_promotion_is_refused_naming_it(field: str, blank: str) -> None:
    with pytest.raises(ValidationError) as info:
        promotion(**{field: blank, "amount_off": "1"})
    assert [(e["loc"], e["msg"]) for e in info.value.errors()] == [((field,), "Value error, must not be blank")]


def test_a_stored_promotion_is_read_back_as_written() -> None:
    """The rule is for what marketing sends: one listed before it is still shown and still offered."""
    stored = Promotion.model_validate({"title": "offer", **WINDOW, "sku": "   ", "amount_off": "1"})
    assert stored.sku == "   "


def test_the_members_own_price_is_what_they_last_paid_less_the_promotion() -> None:
    price = promotion(sku="A", price="49.90", regular_price="59.90")
    assert own_price(price, Decimal("57.50")) == Decimal("47.50")
    assert own_price(price, None) == Decimal("49.90")  # never bought: the regular price less it
    assert own_price(promotion(sku="A", amount_off="5.00"), Decimal("3.00")) == Decimal("0.01")  # never below a fen
    percent = promotion(sku="A", percent_off="20", max_discount="5.00")
    assert own_price(percent, Decimal("12.00")) == Decimal("9.60")
    assert own_price(percent, Decimal("40.00")) == Decimal("35.00")  # capped
    assert own_price(promotion(category="dairy", amount_off="2"), Decimal("12.00")) is None


def test_the_own_price_of_a_percent_promotion_is_what_the_till_then_charges() -> None:
    """10% of 20.55 is 2.055: the till's percent coupon takes 2.05 off (down to the fen), so the
    member pays 18.50, and their list must say 18.50, not 18.49."""
    percent = promotion(sku="A", percent_off="10", max_discount="50.00")
    line = BasketLine("A", "condiment", Decimal("20.55"), Decimal("20.55"))
    basket = Basket("S001", "retail", START, (line,), ("S001", "T1"), UTC, START)
    taken = discount_of(coupon_spec(percent, START, START + timedelta(days=14)), Decimal("20.55"), basket)
    assert own_price(percent, Decimal("20.55")) == Decimal("20.55") - taken == Decimal("18.50")


def test_an_offer_is_a_coupon_limited_to_its_item_for_the_round_within_the_promotion() -> None:
    ends = START + timedelta(days=45)
    spec = coupon_spec(promotion(sku="A", price="49.90", regular_price="59.90"), START + timedelta(days=2), ends)
    assert (spec.kind, spec.amount, spec.limits.skus, spec.limits.categories) == (Kind.AMOUNT_OFF, Decimal("10.00"), ["A"], [])
    # The round's start, and the promotion's own end when it comes first.
    assert (spec.validity.valid_from, spec.validity.valid_until) == (START + timedelta(days=2), START + timedelta(days=30))
    assert spec.caps.per_member == 1 and spec.stacking.mode == "joint"
    percent = coupon_spec(promotion(category="fruit", percent_off="10", max_discount="8.00"), START, ends)
    assert (percent.kind, percent.percent, percent.max_discount, percent.limits.categories) == (
        Kind.PERCENT_OFF, Decimal("10"), Decimal("8.00"), ["fruit"])
