"""A ledger entry's reason reads back as what it was written with: the gift, the sale a return is
of, the notes of an earning."""

from datetime import date

import pytest

from shared import ledger_reasons as reasons

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("earns_points", "below_minimum", "capped_at"), [
    (True, False, None), (False, False, None), (True, True, None), (True, False, 1_000_000), (False, True, 500),
])
def test_a_purchase_reason_gives_back_its_notes(earns_points: bool, below_minimum: bool, capped_at: int | None) -> None:
    reason = reasons.purchase("S001/T1001", earns_points=earns_points, below_minimum=below_minimum, capped_at=capped_at)

    assert reason.startswith("purchase S001/T1001")
    assert reasons.purchase_notes(reason) == reasons.PurchaseNotes(
        imported_without_points=not earns_points, below_minimum=below_minimum, capped=capped_at is not None)


def test_a_return_reason_names_its_sale_even_when_it_says_why_less_came_back() -> None:
    plain = reasons.sale_return("S002/R1", "S001/POS-7/88")
    explained = reasons.sale_return("S002/R1", "S001/T5", goods_earned=80, expired=30)

    assert plain == "return S002/R1 of sale S001/POS-7/88"
    assert reasons.returned_sale(plain) == "S001/POS-7/88"
    assert reasons.returned_sale(explained) == "S001/T5"
    assert "30 of the sale's points had already expired" in explained
    assert reasons.returned_sale("purchase S001/T1") is None


def test_a_long_reason_is_cut_to_the_column_keeping_what_is_read_back() -> None:
    cut = reasons.sale_return("S002/" + "R" * 60, "S001/" + "T" * 60, goods_earned=10**6, expired=10**6)
    note = reasons.gift_cancelled("kettle", "x" * 500)

    assert len(cut) == reasons.REASON_MAX and reasons.returned_sale(cut) == "S001/" + "T" * 60
    assert len(note) == reasons.REASON_MAX and reasons.cancelled_gift(note) == "kettle"


def test_a_gift_reason_names_the_gift_and_its_store() -> None:
    assert reasons.redeemed_gift(reasons.gift_redeemed("rice-cooker", "S001")) == ("rice-cooker", "S001")
    assert reasons.cancelled_gift(reasons.gift_cancelled("rice-cooker", "changed my mind: too big")) == "rice-cooker"
    # After an erasure the reasons of entries staff caused are replaced: nothing to read back.
    assert reasons.redeemed_gift("（已注销）") is None and reasons.cancelled_gift("（已注销）") is None


def test_an_expiry_reason_gives_the_last_valid_day() -> None:
    assert reasons.points_expired(date(2026, 12, 31)) == "points valid until 2026-12-31 expired"
