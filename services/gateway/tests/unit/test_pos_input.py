"""What a till sends is read exactly: an unknown field is refused, never silently dropped."""

import pytest
from pydantic import ValidationError

from gateway.api.schemas import PosPurchaseIn, PosRefundIn

LINE = {"sku": "6901234567890", "name": "大米", "qty": "2", "unit_price": "39.90", "amount": "79.80"}
SALE = {"store_id": "S001", "pos_txn_id": "T1", "occurred_at": "2026-11-23T10:15:00+08:00", "lines": [LINE], "total": "79.80"}


def test_a_sale_naming_its_customer_under_the_wrong_field_is_refused_not_taken_as_anonymous() -> None:
    assert PosPurchaseIn.model_validate({**SALE, "member": {"card_no": "8800000012345"}}).member is not None
    with pytest.raises(ValidationError, match="customer"):
        PosPurchaseIn.model_validate({**SALE, "customer": {"card_no": "8800000012345"}})


def test_a_return_with_an_unknown_field_is_refused() -> None:
    refund = {"store_id": "S001", "refund_id": "R1", "pos_txn_id": "T1", "occurred_at": SALE["occurred_at"],
              "lines": [LINE], "amount": "79.80"}
    assert PosRefundIn.model_validate(refund).amount == PosPurchaseIn.model_validate(SALE).total
    with pytest.raises(ValidationError, match="member"):
        PosRefundIn.model_validate({**refund, "member": {"card_no": "8800000012345"}})


@pytest.mark.parametrize(("change", "field"), [
    ({"lines": [{**LINE, "categroy": "tobacco"}]}, "categroy"),  # the category rules would not see it
    ({"coupons": ["K7QM2XWD9P"], "discounts": [{"code": "K7QM2XWD9P", "amount": "10", "lable": "x"}]}, "lable"),
    ({"member": {"card_no": "8800000012345", "phone_number": "13900000001"}}, "phone_number"),
])
def test_an_unknown_field_inside_a_line_a_discount_or_the_member_is_refused(change: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field) as refused:
        PosPurchaseIn.model_validate({**SALE, **change})
    assert refused.value.errors()[0]["type"] == "extra_forbidden"


@pytest.mark.parametrize("when", [20261204, "20261204", 1764800000.5, "1764800000"])
def test_a_sale_time_given_as_a_number_is_refused_not_read_as_seconds_since_1970(when) -> None:
    with pytest.raises(ValidationError, match="is a number, not a date and time"):
        PosPurchaseIn.model_validate({**SALE, "occurred_at": when})
