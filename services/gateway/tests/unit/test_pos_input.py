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
