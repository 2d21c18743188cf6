"""A return line is held to the category its sale recorded for the sku and to the pro-rata amount of
what it takes back, with the sale's earlier returns (`gateway.domain.pos.return_lines_problem`)."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from gateway.adapters.tables import amounts_of, amounts_text, sold_skus_of, sold_skus_text
from gateway.domain.pos import amounts_taken_back, before_sale_problem, return_lines_problem, returnable_amount
from shared.events.contracts import SaleLine
from shared.events.contracts.pos import SoldSku, quantities_by_sku, sold_skus


def ln(sku: str, amount: str, qty: str = "1", category: str = "grain") -> SaleLine:
    return SaleLine(sku=sku, category=category, qty=D(qty), unit_price=D(amount), amount=D(amount))


SALE = [ln("CIG", "100.00", category="tobacco"), ln("RICE", "100.00"), ln("A", "100.00", qty="2")]


def problem(lines, returned=None, paid=None, sale=SALE):
    return return_lines_problem(lines, quantities_by_sku(sale), returned or {}, "S001/T1",
                                sold_as=sold_skus(sale), returned_amounts=paid or {})


def test_a_line_naming_a_sold_sku_under_another_category_is_refused_on_its_category() -> None:
    i, field, msg = problem([ln("RICE", "50.00"), ln("CIG", "100.00", category="grain")])
    assert (i, field) == (1, "category")
    assert 'sold CIG as "tobacco"' in msg and '"grain"' in msg
    assert problem([ln("CIG", "100.00", category="tobacco")]) is None


def test_one_of_two_units_may_not_take_the_whole_lines_amount() -> None:
    i, field, msg = problem([ln("A", "100.00")])
    assert (i, field) == (0, "amount")
    assert "at most 50.00" in msg
    assert problem([ln("A", "50.00")]) is None


def test_earlier_returns_count_against_the_amount_as_they_do_against_the_quantity() -> None:
    # One unit came back for 50.00: the other may take the other 50.00, not more.
    earlier_qty, earlier_paid = {"A": D(1)}, {"A": D("50.00")}
    assert problem([ln("A", "50.01")], earlier_qty, earlier_paid)[1:2] == ("amount",)
    assert problem([ln("A", "50.00")], earlier_qty, earlier_paid) is None
    # Two lines of one return are summed, the second refused once past what is left.
    i, field, _ = problem([ln("A", "25.00", qty="0.5"), ln("A", "25.01", qty="0.5")])
    assert (i, field) == (1, "amount")


def test_an_earlier_part_that_took_less_leaves_the_rest_for_the_last_part() -> None:
    assert problem([ln("A", "100.00")], {"A": D(1)}, {"A": D("0.00")}) is None


def test_weighed_goods_returned_in_parts_get_their_whole_amount_back_rounded_up_at_most_a_cent() -> None:
    sale = [ln("BEEF", "10.00", qty="3.000")]
    returned, paid = {}, {}
    for part, amount in (("1", "3.34"), ("1", "3.33"), ("1", "3.33")):
        assert problem([ln("BEEF", D(amount) + D("0.01"), qty=part)], returned, paid, sale)[1] == "amount"
        assert problem([ln("BEEF", amount, qty=part)], returned, paid, sale) is None
        returned = {"BEEF": returned.get("BEEF", D(0)) + D(part)}
        paid = amounts_taken_back(paid, [ln("BEEF", amount, qty=part)])
    assert paid == {"BEEF": D("10.00")}


@pytest.mark.parametrize(("qty", "cap"), [("0", "0.00"), ("0.001", "0.01"), ("1", "3.34"), ("2", "6.67"), ("3", "10.00")])
def test_the_returnable_amount_is_the_pro_rata_share_rounded_up_to_the_cent(qty: str, cap: str) -> None:
    assert returnable_amount(D("10.00"), D(3), D(qty)) == D(cap)


def test_without_the_sales_categories_and_amounts_lines_are_held_to_sku_and_quantity_only() -> None:
    # A sale accepted before the gateway kept them, or an imported one.
    assert return_lines_problem([ln("CIG", "200.00", category="grain")], {"CIG": D(1)}, {}, "S001/T1") is None
    assert return_lines_problem([ln("CIG", "1.00", qty="2")], {"CIG": D(1)}, {}, "S001/T1")[1] == "qty"


def test_a_sku_listed_under_two_categories_may_come_back_under_either() -> None:
    sale = [ln("X", "10.00", category="a"), ln("X", "10.00", category="b")]
    assert sold_skus(sale) == {"X": SoldSku(("a", "b"), D("20.00"))}
    assert problem([ln("X", "10.00", category="b")], sale=sale) is None
    assert '"a" or "b"' in problem([ln("X", "10.00", category="c")], sale=sale)[2]


def test_what_is_kept_on_the_sales_row_reads_back_as_written() -> None:
    kept = sold_skus(SALE)
    assert sold_skus_of(sold_skus_text(kept)) == kept
    assert amounts_of(amounts_text({"A": D("50.00")})) == {"A": D("50.00")}
    assert amounts_of(None) == {}


def test_a_return_before_its_sale_names_the_sales_time_in_the_returns_offset() -> None:
    # Sold at 10:15 in Shanghai (kept as 02:15 UTC), returned at 01:00 the same morning.
    shanghai = timezone(timedelta(hours=8))
    sold_at = datetime(2026, 12, 5, 2, 15, tzinfo=UTC)
    problem = before_sale_problem(datetime(2026, 12, 5, 1, 0, tzinfo=shanghai), sold_at)
    assert problem == "is 2026-12-05T01:00:00+08:00, before the sale's time 2026-12-05T10:15:00+08:00"
    assert before_sale_problem(sold_at.astimezone(shanghai), sold_at) is None
