"""Points earned on a sale with coupons follow what the customer paid, and returns take back their
share of what was earned: a return's `amount` and `sale_total` are both undiscounted, so the
share returned is the same whether or not the sale had a discount."""

import pytest

pytestmark = pytest.mark.integration


async def test_a_discounted_sale_earns_on_what_was_paid(pts) -> None:
    await pts.apply(pts.sale("d1", "120.00", discount="20.00"))
    acc = await pts.account("d1")
    assert acc["balance"] == 100
    assert acc["entries"][0]["points"] == 100


async def test_a_partial_return_of_a_discounted_sale_takes_back_its_share_of_the_points_earned(pts) -> None:
    # 200 before discounts, 40 off: 160 points. Returning half the goods takes back half of them.
    sale = pts.sale("d2", [("grain", "100.00"), ("appliances", "100.00")], discount="40.00")
    await pts.apply(sale)
    assert await pts.balance("d2") == 160
    await pts.apply(pts.ret(sale, [("appliances", "100.00")], refund="RD2"))
    assert await pts.balance("d2") == 80


async def test_returning_everything_of_a_discounted_sale_in_parts_takes_back_exactly_what_it_earned(pts) -> None:
    sale = pts.sale("d3", [("grain", "33.33"), ("dairy", "33.33"), ("fresh", "33.34")], discount="15.00")
    await pts.apply(sale)
    assert await pts.balance("d3") == 85
    await pts.apply(pts.ret(sale, [("grain", "33.33")]), pts.ret(sale, [("dairy", "33.33")]))
    assert await pts.balance("d3") == 85 - 57  # two thirds of 85, rounded half up
    await pts.apply(pts.ret(sale, [("fresh", "33.34")]))
    assert await pts.balance("d3") == 0
    assert await pts.ledger_sum("d3") == 0
