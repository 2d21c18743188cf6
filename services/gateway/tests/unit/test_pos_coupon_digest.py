"""The fingerprint that tells a till's honest retry from a different sale under the same id."""

from zoneinfo import ZoneInfo

import pytest

from gateway.domain.pos import payload_digest
from gateway.domain.sales import PosPurchaseIn, PosRefundIn

ZONE = ZoneInfo("Asia/Shanghai")  # the chain's, whose offset the tills write

SALE = {
    "store_id": "S001", "pos_txn_id": "T1", "occurred_at": "2026-11-23T10:15:00+08:00", "total": "79.80",
    "lines": [{"sku": "6901234567890", "qty": "2", "unit_price": "39.90", "amount": "79.80"}],
}
# The fingerprint of SALE as the gateway computed it before sales had coupons and discounts: a sale
# accepted then and retried now must still be recognised as the same sale.
BEFORE_COUPONS = "beada759ef14dd9c1312be3da6f670e9d9a41aa5bc53cbe2e94e142fb6eb52c0"


def test_a_sale_without_coupons_keeps_the_fingerprint_it_had_before_coupons_existed() -> None:
    assert payload_digest(PosPurchaseIn.model_validate(SALE), ZONE) == BEFORE_COUPONS


def test_coupons_and_discounts_are_part_of_the_fingerprint() -> None:
    plain = payload_digest(PosPurchaseIn.model_validate(SALE), ZONE)
    with_coupon = PosPurchaseIn.model_validate(
        {**SALE, "coupons": ["K7QM2XWD9P"], "discounts": [{"code": "K7QM2XWD9P", "amount": "10.00"}]}
    )
    only_promotion = PosPurchaseIn.model_validate({**SALE, "discounts": [{"amount": "10.00"}]})
    assert len({plain, payload_digest(with_coupon, ZONE), payload_digest(only_promotion, ZONE)}) == 3


def _with_qty(qty) -> PosPurchaseIn:
    return PosPurchaseIn.model_validate({**SALE, "lines": [{**SALE["lines"][0], "qty": qty}]})


def test_an_integer_quantity_keeps_the_fingerprint_it_always_had() -> None:
    # Sales accepted before quantities were put in one form, retried after: still the same sale.
    assert payload_digest(_with_qty(2), ZONE) == payload_digest(_with_qty("2"), ZONE) == BEFORE_COUPONS


@pytest.mark.parametrize("printed", ["2.000", "2.0", 2.0, "2.0000", "2E+0", "20E-1"])
def test_a_quantity_printed_with_decimals_is_the_same_sale(printed) -> None:
    assert payload_digest(_with_qty(printed), ZONE) == BEFORE_COUPONS


def test_a_weighed_quantity_is_the_same_sale_however_many_trailing_zeros() -> None:
    weighed = {**SALE["lines"][0], "qty": "0.512", "unit_price": "26.80", "amount": "13.72"}
    sale = {**SALE, "lines": [weighed], "total": "13.72"}
    digests = {payload_digest(PosPurchaseIn.model_validate({**sale, "lines": [{**weighed, "qty": q}]}), ZONE)
               for q in ("0.512", "0.5120", 0.512)}
    assert len(digests) == 1


def test_a_different_quantity_is_a_different_sale() -> None:
    assert payload_digest(_with_qty("2.001"), ZONE) != BEFORE_COUPONS
    assert payload_digest(_with_qty("20"), ZONE) != BEFORE_COUPONS  # trailing zeros of the integer part matter


def test_a_return_printing_its_quantity_otherwise_is_the_same_return() -> None:
    refund = {"store_id": "S001", "refund_id": "R1", "pos_txn_id": "T1", "occurred_at": "2026-11-24T09:00:00+08:00",
              "lines": SALE["lines"], "amount": "79.80"}
    reprinted = {**refund, "lines": [{**SALE["lines"][0], "qty": "2.000"}]}
    assert payload_digest(PosRefundIn.model_validate(refund), ZONE) == payload_digest(PosRefundIn.model_validate(reprinted), ZONE)


@pytest.mark.parametrize("written", ["2026-11-23T02:15:00Z", "2026-11-23T02:15:00+00:00", "2026-11-22T21:15:00-05:00"])
def test_the_same_moment_written_with_another_utc_offset_is_the_same_sale(written) -> None:
    assert payload_digest(PosPurchaseIn.model_validate({**SALE, "occurred_at": written}), ZONE) == BEFORE_COUPONS


def test_another_moment_is_another_sale() -> None:
    assert payload_digest(PosPurchaseIn.model_validate({**SALE, "occurred_at": "2026-11-23T10:15:00+07:00"}), ZONE) != BEFORE_COUPONS


def test_a_zero_amount_written_as_negative_zero_is_the_same_sale_and_return() -> None:
    # A till computing in floats sends -0.0 for a free line; its retry printing 0 was refused as 409.
    free = {"sku": "2000000000017", "qty": "1", "unit_price": "0", "amount": "0"}
    sale = {**SALE, "lines": [SALE["lines"][0], free]}
    negative = {**free, "unit_price": -0.0, "amount": "-0.00"}
    assert (payload_digest(PosPurchaseIn.model_validate({**sale, "lines": [SALE["lines"][0], negative]}), ZONE)
            == payload_digest(PosPurchaseIn.model_validate(sale), ZONE))
    only_free = {**SALE, "lines": [free], "total": "0"}
    assert (payload_digest(PosPurchaseIn.model_validate({**only_free, "lines": [negative], "total": "-0"}), ZONE)
            == payload_digest(PosPurchaseIn.model_validate(only_free), ZONE))
    refund = {"store_id": "S001", "refund_id": "R1", "pos_txn_id": "T1", "occurred_at": "2026-11-24T09:00:00+08:00",
              "lines": [free], "amount": "0.00"}
    assert (payload_digest(PosRefundIn.model_validate({**refund, "lines": [negative], "amount": -0.0}), ZONE)
            == payload_digest(PosRefundIn.model_validate(refund), ZONE))
    # A zero is still not any other amount.
    assert payload_digest(PosPurchaseIn.model_validate({**sale, "lines": [SALE["lines"][0], {**free, "amount": "0.01"}],
                                                        "total": "79.81"}), ZONE) != payload_digest(PosPurchaseIn.model_validate(sale), ZONE)


RETURN = {"store_id": "S001", "refund_id": "R1", "pos_txn_id": "T1", "occurred_at": "2026-11-24T09:00:00+08:00",
          "lines": SALE["lines"], "amount": "79.80"}
# The fingerprint of RETURN as the gateway computed it before returns could name the sale's store.
BEFORE_SALE_STORE = "f975d157034eec6c9f814a086b1d8d0abf5304311ef8ac812abd6824067ffc1e"


def test_a_return_of_its_own_stores_sale_keeps_the_fingerprint_it_had_before_sale_store_id_existed() -> None:
    # Written out or left out, its own store is the sale's: a return accepted before the field
    # existed and retried by a till that now sends it is the same return.
    assert payload_digest(PosRefundIn.model_validate(RETURN), ZONE) == BEFORE_SALE_STORE
    assert payload_digest(PosRefundIn.model_validate({**RETURN, "sale_store_id": "S001"}), ZONE) == BEFORE_SALE_STORE


def test_the_sales_store_is_part_of_a_returns_fingerprint() -> None:
    # The same refund id of S002 returning S001's sale T1 or its own T1 are two different returns.
    own = PosRefundIn.model_validate({**RETURN, "store_id": "S002"})
    of_s001 = PosRefundIn.model_validate({**RETURN, "store_id": "S002", "sale_store_id": "S001"})
    assert payload_digest(own, ZONE) != payload_digest(of_s001, ZONE)
    assert (own.sale_store, of_s001.sale_store) == ("S002", "S001")
