"""How many points a return takes back."""

from decimal import Decimal

from points.domain.returns import SaleEarned, points_earned_by, points_to_reverse

D = Decimal


def test_a_full_return_reverses_everything_the_sale_earned() -> None:
    assert points_to_reverse(SaleEarned(218, D("218.80")), D("218.80")) == 218


def test_a_partial_return_reverses_in_proportion_to_the_returned_amount() -> None:
    # 100.00 of 218.80 -> 218 * 100 / 218.80 = 99.6 -> 100
    assert points_to_reverse(SaleEarned(218, D("218.80")), D("100.00")) == 100


def test_partial_returns_add_up_to_exactly_what_the_sale_earned() -> None:
    sale = SaleEarned(100, D("100.99"))
    first = points_to_reverse(sale, D("33.33"))
    sale = SaleEarned(100, D("100.99"), D("33.33"), first)
    second = points_to_reverse(sale, D("33.33"))
    sale = SaleEarned(100, D("100.99"), D("66.66"), first + second)
    third = points_to_reverse(sale, D("34.33"))
    assert first + second + third == 100


def test_never_more_than_the_sale_earned_even_if_more_comes_back() -> None:
    sale = SaleEarned(50, D("50.00"), D("40.00"), 40)
    assert points_to_reverse(sale, D("30.00")) == 10


def test_a_sale_that_earned_nothing_reverses_nothing() -> None:
    assert points_to_reverse(SaleEarned(0, D("0.00")), D("200.00")) == 0
    assert points_to_reverse(SaleEarned(0, D("9.00")), D("9.00")) == 0


def test_returning_a_line_that_earned_nothing_reverses_nothing() -> None:
    # tobacco (multiplier 0) weighs 0 in the returned eligible amount
    assert points_to_reverse(SaleEarned(50, D("50.50")), D("0.00")) == 0


def test_a_return_never_takes_back_points_of_the_sale_that_already_expired() -> None:
    # 10,000 points, all expired by the job: the full return takes nothing (it took 10,000 valid ones).
    assert points_to_reverse(SaleEarned(10_000, D("10000.00"), expired_points=10_000), D("10000.00")) == 0
    # 6,000 expired, 4,000 spent or still held: at most those 4,000 come back.
    sale = SaleEarned(10_000, D("10000.00"), expired_points=6_000)
    assert sale.open_points == 4_000
    assert points_to_reverse(sale, D("10000.00")) == 4_000
    # Half the goods earned 5,000: capped at the 4,000 still open, and the other half then takes nothing.
    first = points_to_reverse(sale, D("5000.00"))
    assert first == 4_000
    assert points_to_reverse(SaleEarned(10_000, D("10000.00"), D("5000.00"), first, 6_000), D("5000.00")) == 0


def test_the_cap_counts_what_earlier_returns_took_and_leaves_smaller_returns_alone() -> None:
    # 3,000 reversed before the job expired 5,000 of the rest: 2,000 remain open.
    sale = SaleEarned(10_000, D("10000.00"), D("3000.00"), 3_000, 5_000)
    assert sale.open_points == 2_000
    assert points_to_reverse(sale, D("1000.00")) == 1_000  # the goods earned less than is open: as before
    assert points_to_reverse(sale, D("7000.00")) == 2_000
    assert points_earned_by(sale, D("7000.00")) == 7_000
    # More expired than the rest: never a negative reversal.
    assert points_to_reverse(SaleEarned(100, D("100.00"), D("50.00"), 50, 80), D("50.00")) == 0
