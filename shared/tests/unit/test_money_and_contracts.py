"""Validation rules of sale payloads: the same model guards the POS API and direct Kafka input."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.events.contracts import CustomerRef, PurchaseMadeV1, PurchaseRefundedV1
from shared.events.contracts.pos import SaleLineIn
from shared.money import whole_yuan


def _sale(**overrides):
    body = {
        "store_id": "S001", "pos_txn_id": "S001-T03-000123", "occurred_at": "2026-11-23T10:15:00+08:00",
        "customer": {"card_no": "8800000012345"},
        "lines": [{"sku": "6901234567890", "name": "金龙鱼大米 5kg", "category": "grain", "qty": 2,
                   "unit_price": "39.90", "amount": "79.80"}],
        "total": "79.80", "payment": "wechat",
    }
    body.update(overrides)
    return body


def _error_fields(exc: ValidationError) -> list[tuple]:
    return [tuple(e["loc"]) for e in exc.errors()]


def test_valid_sale_normalises_amounts_to_cents() -> None:
    sale = PurchaseMadeV1.model_validate(_sale(total="79.8", lines=[{**_sale()["lines"][0], "amount": 79.8}]))
    assert sale.total == Decimal("79.80") and str(sale.total) == "79.80"
    assert sale.lines[0].amount == Decimal("79.80")


def test_a_negative_zero_is_zero() -> None:
    # A till computing in floats sends -0.0 for a free line: not below zero, and no event carries "-0.00".
    free = {**_sale()["lines"][0], "unit_price": -0.0, "amount": "-0.00"}
    sale = PurchaseMadeV1.model_validate(_sale(total="-0", lines=[free]))
    assert [str(v) for v in (sale.total, sale.lines[0].unit_price, sale.lines[0].amount)] == ["0.00", "0.00", "0.00"]
    assert '"-0' not in sale.model_dump_json()


def test_total_must_equal_sum_of_line_amounts() -> None:
    with pytest.raises(ValidationError, match=r"does not equal the sum of line amounts 79\.80") as exc:
        PurchaseMadeV1.model_validate(_sale(total="80.00"))
    assert _error_fields(exc.value) == [("total",)]


@pytest.mark.parametrize("amount", ["-1.00", "79.805"])
def test_negative_or_three_decimal_amounts_are_rejected(amount: str) -> None:
    with pytest.raises(ValidationError) as exc:
        PurchaseMadeV1.model_validate(_sale(lines=[{**_sale()["lines"][0], "amount": amount}], total=amount))
    assert ("lines", 0, "amount") in _error_fields(exc.value)


def test_zero_quantity_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        PurchaseMadeV1.model_validate(_sale(lines=[{**_sale()["lines"][0], "qty": 0}]))
    assert ("lines", 0, "qty") in _error_fields(exc.value)


def test_time_without_timezone_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        PurchaseMadeV1.model_validate(_sale(occurred_at="2026-11-23T10:15:00"))
    assert ("occurred_at",) in _error_fields(exc.value)


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00+08:00", "1969-12-31T23:59:59Z", "9999-12-31T23:00:00-12:00"])
def test_a_sale_or_return_time_before_1970_or_beyond_utc_is_rejected(occurred_at: str) -> None:
    with pytest.raises(ValidationError) as exc:
        PurchaseMadeV1.model_validate(_sale(occurred_at=occurred_at))
    assert _error_fields(exc.value) == [("occurred_at",)]
    refund = {"store_id": "S001", "refund_id": "R1", "pos_txn_id": "S001-T03-000123", "occurred_at": occurred_at,
              "lines": _sale()["lines"], "amount": "79.80"}
    with pytest.raises(ValidationError) as exc:
        PurchaseRefundedV1.model_validate(refund)
    assert _error_fields(exc.value) == [("occurred_at",)]


def test_the_first_moment_of_1970_is_a_sale_time() -> None:
    assert PurchaseMadeV1.model_validate(_sale(occurred_at="1970-01-01T08:00:00+08:00")).occurred_at.year == 1970


def test_a_sale_needs_at_least_one_line() -> None:
    with pytest.raises(ValidationError) as exc:
        PurchaseMadeV1.model_validate(_sale(lines=[], total="0.00"))
    assert ("lines",) in _error_fields(exc.value)


def test_customer_is_identified_by_exactly_one_reference() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        CustomerRef(card_no="8800000012345", phone_hmac="a" * 64)
    with pytest.raises(ValidationError, match="exactly one"):
        CustomerRef()
    assert CustomerRef(card_no="8800000012345").key == "card:8800000012345"


def test_refund_amount_must_equal_its_lines() -> None:
    with pytest.raises(ValidationError, match=r"amount 10\.00 does not equal"):
        PurchaseRefundedV1.model_validate(
            {"store_id": "S001", "refund_id": "R1", "pos_txn_id": "T1", "occurred_at": "2026-11-23T10:15:00+08:00",
             "lines": _sale()["lines"], "amount": "10.00"}
        )


def test_a_return_names_its_sales_store_only_when_it_is_another_one() -> None:
    refund = {"store_id": "S002", "refund_id": "R1", "pos_txn_id": "T1", "occurred_at": "2026-11-23T10:15:00+08:00",
              "lines": _sale()["lines"], "amount": "79.80"}
    # An event of before the field existed: the sale is the return's own store's.
    assert PurchaseRefundedV1.model_validate(refund).sale_store == "S002"
    elsewhere = PurchaseRefundedV1.model_validate({**refund, "sale_store_id": "S001"})
    assert (elsewhere.sale_store_id, elsewhere.sale_store) == ("S001", "S001")
    # Its own store written out is a same-store return, read as one sent without the field.
    own = PurchaseRefundedV1.model_validate({**refund, "sale_store_id": "S002"})
    assert (own.sale_store_id, own.sale_store) == (None, "S002")
    with pytest.raises(ValidationError) as exc:
        PurchaseRefundedV1.model_validate({**refund, "sale_store_id": "S 001"})
    assert _error_fields(exc.value) == [("sale_store_id",)]


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    sale = PurchaseMadeV1.model_validate(_sale(loyalty_tier="gold"))
    assert not hasattr(sale, "loyalty_tier")


@pytest.mark.parametrize(("amount", "points"), [("79.80", 79), ("0.99", 0), ("5000.00", 5000), ("100.01", 100)])
def test_whole_yuan_floors(amount: str, points: int) -> None:
    assert whole_yuan(Decimal(amount)) == points


def test_points_in_events_have_the_caps_of_the_api() -> None:
    from datetime import UTC, datetime

    from pydantic import ValidationError

    from shared.events.contracts import ComplaintResolvedV1
    from shared.integers import POINTS_MAX

    resolved = dict(
        complaint_id="c1", member_id="m1", store_id="S001", category="product_quality", severity="medium",
        resolved_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert ComplaintResolvedV1(**resolved, compensation_points=POINTS_MAX).compensation_points == POINTS_MAX
    with pytest.raises(ValidationError, match="compensation_points"):
        ComplaintResolvedV1(**resolved, compensation_points=POINTS_MAX + 1)


def test_a_sku_a_till_sends_is_one_code_whatever_the_spaces_around_it_and_never_blank() -> None:
    line = {"qty": "1", "unit_price": "2.00", "amount": "2.00"}
    assert SaleLineIn.model_validate({**line, "sku": " 6901234567890 "}).sku == "6901234567890"
    for blank in ("   ", "\u3000"):
        with pytest.raises(ValidationError, match="must not be blank"):
            SaleLineIn.model_validate({**line, "sku": blank})
