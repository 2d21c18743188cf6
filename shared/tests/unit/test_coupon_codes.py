"""Coupon codes are read the way customers type them: case and surrounding spaces do not matter."""

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.coupon_codes import CouponCode

CODE = TypeAdapter(CouponCode)


@pytest.mark.parametrize(("typed", "code"), [("SPRING20", "SPRING20"), ("spring20", "SPRING20"), (" k7qm2xwd9p\n", "K7QM2XWD9P")])
def test_codes_are_normalised_to_upper_case_without_spaces(typed: str, code: str) -> None:
    assert CODE.validate_python(typed) == code


@pytest.mark.parametrize("typed", ["abc", "SPRING-20", "春季优惠券码", "A" * 33, ""])
def test_anything_but_4_to_32_letters_and_digits_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError):
        CODE.validate_python(typed)
