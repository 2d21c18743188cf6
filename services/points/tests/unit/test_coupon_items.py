"""Coupons in the gift catalogue: they name their template, have no stock, and their register entry
is complete at once and never cancelled."""

import pytest
from pydantic import ValidationError

from points.api.schemas import GiftIn
from points.domain.catalogue import Gift, GiftKind, RegisterStatus, check_transition, initial_status
from points.domain.exceptions import GiftUnavailable, InvalidTransition

TEMPLATE = "0b6f3c1e-8a4d-4c5e-9f21-6d7e8a9b0c1d"
NAMES = {"name_zh": "满100减20券", "name_en": "20 off 100", "prices": {"retail": 2_000}}


def test_a_coupon_item_has_no_stock_and_a_gift_has() -> None:
    coupon = Gift("coupon-20", {"retail": 2_000}, kind=GiftKind.COUPON, coupon_template_id=TEMPLATE)
    assert not coupon.has_stock and coupon.price_for("retail") == 2_000
    assert Gift("cushion", {"retail": 10_000}).has_stock


def test_a_coupon_item_without_a_template_or_a_gift_with_one_is_not_sold() -> None:
    with pytest.raises(GiftUnavailable, match="coupon template"):
        Gift("coupon-20", {"retail": 2_000}, kind=GiftKind.COUPON)
    with pytest.raises(GiftUnavailable, match="coupon template"):
        Gift("cushion", {"retail": 10_000}, coupon_template_id=TEMPLATE)


def test_a_coupon_entry_is_complete_at_once_and_cannot_be_handed_over_or_cancelled() -> None:
    assert initial_status(GiftKind.COUPON) is RegisterStatus.COMPLETED
    assert initial_status(GiftKind.GIFT) is RegisterStatus.RESERVED
    with pytest.raises(InvalidTransition, match="cannot be cancelled"):
        check_transition(RegisterStatus.COMPLETED, RegisterStatus.CANCELLED)
    with pytest.raises(InvalidTransition, match="cannot be handed over"):
        check_transition(RegisterStatus.COMPLETED, RegisterStatus.HANDED_OVER)


def test_the_catalogue_refuses_a_coupon_without_its_template_naming_the_field() -> None:
    with pytest.raises(ValidationError) as refused:
        GiftIn.model_validate({**NAMES, "kind": "coupon"})
    [error] = refused.value.errors()
    assert error["loc"] == ("coupon_template_id",) and "names the campaigns coupon template" in error["msg"]


def test_the_catalogue_refuses_a_template_on_a_gift_and_a_template_id_of_another_shape() -> None:
    with pytest.raises(ValidationError) as on_gift:
        GiftIn.model_validate({**NAMES, "coupon_template_id": TEMPLATE})
    assert [e["loc"] for e in on_gift.value.errors()] == [("coupon_template_id",)]
    with pytest.raises(ValidationError) as shape:
        GiftIn.model_validate({**NAMES, "kind": "coupon", "coupon_template_id": "not-a-template"})
    assert [e["loc"] for e in shape.value.errors()] == [("coupon_template_id",)]
    accepted = GiftIn.model_validate({**NAMES, "kind": "coupon", "coupon_template_id": TEMPLATE})
    assert (accepted.kind, accepted.coupon_template_id) == (GiftKind.COUPON, TEMPLATE)
    assert GiftIn.model_validate(NAMES).kind is GiftKind.GIFT
