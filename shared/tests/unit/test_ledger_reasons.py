"""A ledger entry's reason reads back as what it was written with: the sale, the gift, the notes of
an earning or a return; a reason not written there is not guessed at."""

from datetime import date

import pytest

from shared import ledger_reasons as reasons
from shared.ledger_reasons import Reason

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("earns_points", "below_minimum", "capped_at"), [
    (True, False, None), (False, False, None), (True, True, None), (True, False, 1_000_000), (False, True, 500),
])
def test_a_purchase_reason_gives_back_its_sale_and_notes(earns_points: bool, below_minimum: bool, capped_at: int | None) -> None:
    reason = reasons.purchase("S001/T1001", earns_points=earns_points, below_minimum=below_minimum, capped_at=capped_at)

    assert reasons.read(reason) == Reason(
        "purchase", ref="S001/T1001", imported_without_points=not earns_points, below_minimum=below_minimum, capped_at=capped_at)


def test_a_return_reason_names_its_sale_and_why_less_came_back() -> None:
    plain = reasons.sale_return("S002/R1", "S001/POS-7/88")
    explained = reasons.sale_return("S002/R1", "S001/T5", goods_earned=80, expired=30)

    assert plain == "return S002/R1 of sale S001/POS-7/88"
    assert reasons.read(plain) == Reason("return", ref="S002/R1", sale="S001/POS-7/88")
    assert reasons.read(explained) == Reason("return", ref="S002/R1", sale="S001/T5", goods_earned=80, expired_points=30)


def test_a_long_reason_is_cut_to_the_column_keeping_what_is_read_back() -> None:
    cut = reasons.sale_return("S002/" + "R" * 60, "S001/" + "T" * 60, goods_earned=10**6, expired=10**6)
    note = reasons.gift_cancelled("kettle", "x" * 500)

    assert len(cut) == reasons.REASON_MAX and reasons.read(cut) == Reason("return", ref="S002/" + "R" * 60, sale="S001/" + "T" * 60)
    assert len(note) == reasons.REASON_MAX and reasons.read(note) == Reason("cancelled_gift", gift="kettle", why="x" * (reasons.REASON_MAX - len("cancelled gift kettle: ")))


def test_gift_expiry_and_compensation_reasons_are_read_back() -> None:
    assert reasons.read(reasons.gift_redeemed("rice-cooker", "S001")) == Reason("gift", gift="rice-cooker", store="S001")
    assert reasons.read(reasons.gift_cancelled("rice-cooker", "changed my mind (too big)")) == Reason(
        "cancelled_gift", gift="rice-cooker", why="changed my mind (too big)")
    assert reasons.read(reasons.points_expired(date(2026, 12, 31))) == Reason("expired", valid_until="2026-12-31")
    assert reasons.read(reasons.COMPENSATION) == Reason("compensation")


@pytest.mark.parametrize("typed", ["店庆加赠", "goodwill (manager approved)", "purchase", "purchase S001/T1 (a note of mine)", "（已注销）"])
def test_a_reason_staff_typed_or_erased_is_not_read_as_one_points_wrote(typed: str) -> None:
    assert reasons.read(typed) is None
