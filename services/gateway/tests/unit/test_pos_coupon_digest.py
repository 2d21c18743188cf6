"""The fingerprint that tells a till's honest retry from a different sale under the same id."""

from gateway.domain.pos import payload_digest
from gateway.domain.sales import PosPurchaseIn

SALE = {
    "store_id": "S001", "pos_txn_id": "T1", "occurred_at": "2026-11-23T10:15:00+08:00", "total": "79.80",
    "lines": [{"sku": "6901234567890", "qty": "2", "unit_price": "39.90", "amount": "79.80"}],
}
# The fingerprint of SALE as the gateway computed it before sales had coupons and discounts: a sale
# accepted then and retried now must still be recognised as the same sale.
BEFORE_COUPONS = "beada759ef14dd9c1312be3da6f670e9d9a41aa5bc53cbe2e94e142fb6eb52c0"


def test_a_sale_without_coupons_keeps_the_fingerprint_it_had_before_coupons_existed() -> None:
    assert payload_digest(PosPurchaseIn.model_validate(SALE)) == BEFORE_COUPONS


def test_coupons_and_discounts_are_part_of_the_fingerprint() -> None:
    plain = payload_digest(PosPurchaseIn.model_validate(SALE))
    with_coupon = PosPurchaseIn.model_validate(
        {**SALE, "coupons": ["K7QM2XWD9P"], "discounts": [{"code": "K7QM2XWD9P", "amount": "10.00"}]}
    )
    only_promotion = PosPurchaseIn.model_validate({**SALE, "discounts": [{"amount": "10.00"}]})
    assert len({plain, payload_digest(with_coupon), payload_digest(only_promotion)}) == 3
