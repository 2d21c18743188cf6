"""The points account aggregate, without I/O."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from points.domain.model import AlreadyBooked, EntryType, PointsAccount, points_for_sale

AT = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)


@pytest.mark.parametrize(("total", "points"), [("79.80", 79), ("218.80", 218), ("0.50", 0), ("5000.00", 5000)])
def test_one_point_per_whole_yuan_floored_per_sale(total: str, points: int) -> None:
    assert points_for_sale(Decimal(total)) == points


def test_floor_applies_to_the_sale_not_to_each_line() -> None:
    # Two lines of 0.60 each: per line nothing, per sale one point.
    assert points_for_sale(Decimal("0.60") + Decimal("0.60")) == 1


def test_earning_appends_an_entry_and_moves_the_balance() -> None:
    account = PointsAccount(member_id="m1", balance=100)
    entry = account.earn(79, reason="purchase S001/T1", source_ref="sale:S001/T1", source_event_id="e1", at=AT)
    assert account.balance == 179
    assert (entry.entry_type, entry.points, entry.balance_after) == (EntryType.EARN, 79, 179)
    assert account.new_entries == [entry]


def test_the_same_source_is_never_booked_twice() -> None:
    account = PointsAccount(member_id="m1")
    account.earn(10, reason="r", source_ref="sale:S001/T1", source_event_id="e1", at=AT)
    with pytest.raises(AlreadyBooked):
        account.earn(10, reason="r", source_ref="sale:S001/T1", source_event_id="e2", at=AT)
    assert account.balance == 10


def test_negative_earnings_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        PointsAccount(member_id="m1").earn(-1, reason="r", source_ref="x", source_event_id=None, at=AT)
