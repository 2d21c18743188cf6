"""The points account aggregate, without I/O."""

from datetime import UTC, datetime

import pytest

from points.domain.exceptions import AlreadyBooked, NotEnoughPoints, RedemptionRefused
from points.domain.model import EntryType, PointsAccount, Source

AT = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)


def src(ref: str = "sale:S001/T1") -> Source:
    return Source(ref=ref, event_id="e1")


def test_earning_appends_an_entry_and_moves_the_balance() -> None:
    account = PointsAccount(member_id="m1", balance=100)
    entry = account.earn(79, reason="purchase S001/T1", source=src(), at=AT)
    assert account.balance == 179
    assert (entry.entry_type, entry.points, entry.balance_after) == (EntryType.EARN, 79, 179)
    assert account.new_entries == [entry]


def test_the_same_source_is_never_booked_twice() -> None:
    account = PointsAccount(member_id="m1")
    account.earn(10, reason="r", source=src(), at=AT)
    with pytest.raises(AlreadyBooked):
        account.earn(10, reason="r", source=src(), at=AT)
    assert account.balance == 10


def test_the_same_source_may_carry_entries_of_different_kinds() -> None:
    account = PointsAccount(member_id="m1", balance=500)
    account.redeem(100, reason="gift", source=src("redemption:r1"), at=AT)
    account.cancel_redeem(100, reason="cancelled", source=src("redemption:r1"), at=AT)
    assert account.balance == 500


def test_negative_earnings_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        PointsAccount(member_id="m1").earn(-1, reason="r", source=src(), at=AT)


def test_a_reversal_may_take_the_balance_below_zero() -> None:
    account = PointsAccount(member_id="m1", balance=30)
    account.reverse(100, reason="return", source=src("return:S001/R1"), at=AT)
    assert account.balance == -70 and account.redemptions_blocked


def test_redemption_is_refused_while_the_balance_is_negative() -> None:
    account = PointsAccount(member_id="m1", balance=-5)
    with pytest.raises(RedemptionRefused, match="negative"):
        account.redeem(1, reason="gift", source=src("redemption:r1"), at=AT)


def test_redemption_is_refused_above_the_balance_and_books_nothing() -> None:
    account = PointsAccount(member_id="m1", balance=9_999)
    with pytest.raises(RedemptionRefused, match="below the price of 10000"):
        account.redeem(10_000, reason="cushion", source=src("redemption:r1"), at=AT)
    assert account.balance == 9_999 and account.new_entries == []


def test_redemption_of_exactly_the_balance_leaves_zero() -> None:
    account = PointsAccount(member_id="m1", balance=10_000)
    account.redeem(10_000, reason="cushion", source=src("redemption:r1"), at=AT)
    assert account.balance == 0


def test_a_negative_adjustment_cannot_go_below_zero_but_a_positive_one_always_applies() -> None:
    account = PointsAccount(member_id="m1", balance=50)
    with pytest.raises(NotEnoughPoints, match="below zero"):
        account.adjust(-51, reason="correction", source=src("adjust:k1"), at=AT)
    account.adjust(-50, reason="correction", source=src("adjust:k1"), at=AT)
    account.adjust(20, reason="correction", source=src("adjust:k2"), at=AT)
    assert account.balance == 20


@pytest.mark.parametrize("kind", ["adjust", "bonus"])
def test_manual_entries_need_a_reason(kind: str) -> None:
    with pytest.raises(ValueError, match="reason"):
        getattr(PointsAccount(member_id="m1"), kind)(10, reason="  ", source=src("x:1"), at=AT)


def test_zero_adjustments_and_non_positive_bonuses_are_refused() -> None:
    account = PointsAccount(member_id="m1")
    with pytest.raises(ValueError):
        account.adjust(0, reason="nothing", source=src("adjust:k"), at=AT)
    with pytest.raises(ValueError):
        account.bonus(0, reason="nothing", source=src("bonus:k"), at=AT)


def test_expiry_never_exceeds_the_balance() -> None:
    account = PointsAccount(member_id="m1", balance=10)
    with pytest.raises(ValueError):
        account.expire(11, reason="expired", source=src("expiry:x"), at=AT)
    account.expire(10, reason="expired", source=src("expiry:x"), at=AT)
    assert account.balance == 0


def test_every_entry_records_who_or_what_caused_it() -> None:
    account = PointsAccount(member_id="m1")
    entry = account.bonus(5, reason="goodwill", source=Source(ref="bonus:k", staff_id="mgr-1", job_id="job-9"), at=AT)
    assert (entry.staff_id, entry.job_id, entry.source_ref) == ("mgr-1", "job-9", "bonus:k")
