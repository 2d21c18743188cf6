"""What a sale with discounts counts in spend, and what its returns give back of it."""

from decimal import Decimal

import pytest

from members.domain.spend import paid_part, paid_returned

D = Decimal


@pytest.mark.parametrize(("total", "discount", "gross", "paid"), [
    ("120.00", "20.00", "120.00", "100.00"),  # all of the sale: exactly what was paid
    ("120.00", "20.00", "60.00", "50.00"),
    ("100.00", "0.00", "37.45", "37.45"),  # no discount: the amount itself
    ("100.00", "100.00", "40.00", "0.00"),  # paid wholly by coupons
    ("99.99", "10.00", "33.33", "30.00"),  # 33.33 x 89.99 / 99.99 = 29.9966...
])
def test_the_paid_part_of_some_goods_spreads_the_discount_over_the_sale(total, discount, gross, paid) -> None:
    assert paid_part(D(total), D(discount), D(gross)) == D(paid)


def test_returns_in_parts_give_back_exactly_what_was_paid() -> None:
    total, discount = D("100.00"), D("15.00")
    parts = [D("33.33"), D("33.33"), D("33.34")]
    returned, given_back = D("0.00"), []
    for amount in parts:
        given_back.append(paid_returned(total, discount, returned, amount))
        returned += amount
    # Each part rounded on its own would give 28.33 three times (84.99); on the running sum they add up.
    assert given_back == [D("28.33"), D("28.33"), D("28.34")]
    assert sum(given_back) == total - discount
