"""Members rules that need no database: card numbers, masking, spend statistics."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from members.domain.cards import new_card_no
from members.domain.privacy import mask_address, mask_phone
from members.domain.spend import record_purchase
from shared.cards import has_valid_check_digit


def test_issued_cards_are_13_digits_with_prefix_and_a_valid_check_digit() -> None:
    cards = {new_card_no() for _ in range(200)}
    assert len(cards) == 200
    assert all(re.fullmatch(r"88\d{11}", c) and has_valid_check_digit(c) for c in cards)


def test_check_digit_catches_a_mistyped_digit() -> None:
    card = new_card_no()
    wrong = card[:5] + str((int(card[5]) + 1) % 10) + card[6:]
    assert not has_valid_check_digit(wrong)


def test_phone_and_address_masks_keep_only_what_staff_need_to_tell_customers_apart() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_address("阳光花园3栋2单元501") == "阳光花园****"


@dataclass
class _Member:
    lifetime_spend: Decimal = Decimal("0.00")
    purchase_count: int = 0
    first_purchase_at: datetime | None = None
    last_purchase_at: datetime | None = None


def test_late_sales_add_spend_but_never_move_last_purchase_backwards() -> None:
    m = _Member()
    nov, oct_ = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
    record_purchase(m, Decimal("100.50"), nov)
    record_purchase(m, Decimal("20.25"), oct_)
    assert m.lifetime_spend == Decimal("120.75") and m.purchase_count == 2
    assert (m.first_purchase_at, m.last_purchase_at) == (oct_, nov)
