"""Points expiry: lots by year earned, consumed oldest first."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from points.domain.exceptions import RedemptionRefused
from points.domain.expiry import ExpiryPolicy, Lot, due, expired_from, open_lots, overdue, upcoming
from points.domain.model import EntryType, LedgerEntry, PointsAccount, Source

CN = ZoneInfo("Asia/Shanghai")
POLICY = ExpiryPolicy(years_after=1, warning_days=30)


def e(kind: EntryType, points: int, at: datetime) -> LedgerEntry:
    return LedgerEntry(kind, points, 0, "r", f"{kind}:{at.isoformat()}:{points}", None, at)


def test_points_earned_in_a_year_are_valid_until_the_end_of_the_next_year_local_time() -> None:
    assert POLICY.expires_on(datetime(2025, 6, 1, tzinfo=UTC), CN) == date(2026, 12, 31)
    # 2025-12-31 17:00 UTC is already 2026-01-01 in China
    assert POLICY.expires_on(datetime(2025, 12, 31, 17, tzinfo=UTC), CN) == date(2027, 12, 31)


def test_debits_consume_the_oldest_lots_first() -> None:
    lots = open_lots(
        [e(EntryType.EARN, 100, datetime(2024, 5, 1, tzinfo=UTC)), e(EntryType.EARN, 200, datetime(2025, 5, 1, tzinfo=UTC)),
         e(EntryType.REDEEM, -150, datetime(2025, 6, 1, tzinfo=UTC))],
        POLICY, CN,
    )
    assert [(lot.expires_on, lot.remaining) for lot in lots] == [(date(2026, 12, 31), 150)]


def test_a_late_sale_from_an_earlier_year_is_consumed_first() -> None:
    lots = open_lots(
        [e(EntryType.EARN, 200, datetime(2025, 5, 1, tzinfo=UTC)), e(EntryType.EARN, 100, datetime(2024, 5, 1, tzinfo=UTC)),
         e(EntryType.REDEEM, -100, datetime(2025, 6, 1, tzinfo=UTC))],
        POLICY, CN,
    )
    assert [(lot.expires_on, lot.remaining) for lot in lots] == [(date(2026, 12, 31), 200)]


def test_a_deficit_after_a_return_is_paid_off_by_the_next_credits() -> None:
    lots = open_lots(
        [e(EntryType.EARN, 100, datetime(2024, 5, 1, tzinfo=UTC)), e(EntryType.REDEEM, -100, datetime(2024, 6, 1, tzinfo=UTC)),
         e(EntryType.REVERSE, -40, datetime(2024, 7, 1, tzinfo=UTC)), e(EntryType.EARN, 100, datetime(2025, 1, 10, tzinfo=UTC))],
        POLICY, CN,
    )
    assert [(lot.expires_on, lot.remaining) for lot in lots] == [(date(2026, 12, 31), 60)]


def test_due_lots_are_those_past_their_last_valid_day() -> None:
    lots = open_lots([e(EntryType.EARN, 100, datetime(2024, 5, 1, tzinfo=UTC)), e(EntryType.BONUS, 7, datetime(2025, 5, 1, tzinfo=UTC))], POLICY, CN)
    assert due(lots, date(2025, 12, 31)) == {}
    assert due(lots, date(2026, 1, 1)) == {date(2025, 12, 31): 100}


def test_upcoming_lists_what_expires_within_the_warning_window() -> None:
    lots = open_lots([e(EntryType.EARN, 100, datetime(2024, 5, 1, tzinfo=UTC))], POLICY, CN)
    assert upcoming(lots, date(2025, 11, 30), POLICY) == {}
    assert upcoming(lots, date(2025, 12, 1), POLICY) == {date(2025, 12, 31): 100}


def test_the_candidate_year_bound_covers_the_warning_window() -> None:
    assert POLICY.last_expiring_earned_year(date(2025, 12, 1)) == 2024  # 2024 points end 2025-12-31, within 30 days
    assert POLICY.last_expiring_earned_year(date(2025, 11, 30)) == 2023


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def test_a_cancelled_redemption_gives_back_the_points_it_took_with_their_expiry_dates() -> None:
    # Reserving a gift and cancelling it must not turn points about to expire into new ones.
    ledger = [e(EntryType.EARN, 100, at(2024, 5, 1)), e(EntryType.EARN, 300, at(2025, 5, 1)),
              LedgerEntry(EntryType.REDEEM, -250, 150, "gift", "redemption:r1", None, at(2025, 12, 20)),
              e(EntryType.EARN, 50, at(2026, 2, 1)),
              LedgerEntry(EntryType.CANCEL_REDEEM, 250, 450, "cancelled", "redemption:r1", None, at(2026, 3, 1))]
    lots = open_lots(ledger, POLICY, CN)
    by_date: dict[date, int] = {}
    for lot in lots:
        by_date[lot.expires_on] = by_date.get(lot.expires_on, 0) + lot.remaining
    assert by_date == {date(2025, 12, 31): 100, date(2026, 12, 31): 300, date(2027, 12, 31): 50}
    assert overdue(lots, date(2026, 3, 1)) == 100  # the job takes them at its next run


def test_a_redemption_spends_valid_points_and_leaves_the_overdue_ones_to_expire() -> None:
    # A late sale from 2024 brings 500 points valid until 2025-12-31, already past on 2026-03-01.
    ledger = [e(EntryType.EARN, 10_000, at(2026, 2, 1)), e(EntryType.EARN, 500, at(2024, 6, 1)),
              LedgerEntry(EntryType.REDEEM, -10_000, 500, "gift", "redemption:r3", None, at(2026, 3, 1))]
    lots = open_lots(ledger, POLICY, CN)
    assert [(lot.expires_on, lot.remaining) for lot in lots] == [(date(2025, 12, 31), 500)]
    assert due(lots, date(2026, 3, 1)) == {date(2025, 12, 31): 500}
    # Cancelled, it gives back the valid points it took.
    cancelled = open_lots([*ledger, LedgerEntry(EntryType.CANCEL_REDEEM, 10_000, 10_500, "x", "redemption:r3", None, at(2026, 3, 2))],
                          POLICY, CN)
    assert sorted((lot.expires_on, lot.remaining) for lot in cancelled) == [(date(2025, 12, 31), 500), (date(2027, 12, 31), 10_000)]
    # A return takes back the oldest points, overdue or not: they were to expire anyway.
    returned = open_lots([*ledger[:2], e(EntryType.REVERSE, -500, at(2026, 3, 1))], POLICY, CN)
    assert [(lot.expires_on, lot.remaining) for lot in returned] == [(date(2027, 12, 31), 10_000)]


def test_a_cancellation_without_its_redemption_in_the_ledger_is_a_new_lot_as_before() -> None:
    ledger = [LedgerEntry(EntryType.CANCEL_REDEEM, 80, 80, "cancelled", "redemption:old", None, at(2026, 3, 1))]
    assert [(lot.expires_on, lot.remaining) for lot in open_lots(ledger, POLICY, CN)] == [(date(2027, 12, 31), 80)]


def test_points_past_their_expiry_date_cannot_be_spent_before_the_job_takes_them() -> None:
    account = PointsAccount("m-1", balance=1000)
    source = Source(ref="redemption:r2")
    with pytest.raises(RedemptionRefused, match="600 of the balance 1000 are past their expiry date"):
        account.redeem(500, reason="gift", source=source, at=at(2026, 3, 1), overdue=600)
    account.redeem(400, reason="gift", source=source, at=at(2026, 3, 1), overdue=600)
    assert account.balance == 600


def sale_earn(ref: str, points: int, when: datetime) -> LedgerEntry:
    return LedgerEntry(EntryType.EARN, points, 0, "r", f"sale:{ref}", None, when)


def test_what_of_a_sale_expired_follows_the_order_lots_are_consumed_in() -> None:
    entries = [
        sale_earn("S001/A", 10_000, at(2024, 6, 1)),   # valid until 2025-12-31
        sale_earn("S001/B", 500, at(2024, 8, 1)),      # the same date, booked later
        sale_earn("S001/C", 700, at(2025, 3, 1)),      # valid until 2026-12-31
        e(EntryType.REDEEM, -3_000, at(2025, 5, 1)),   # taken from A, the earliest booked of the oldest date
        e(EntryType.EXPIRE, -7_500, at(2026, 1, 1)),   # what is left of A (7,000) and B (500)
    ]
    assert expired_from(entries, "sale:S001/A", POLICY, CN) == 7_000
    assert expired_from(entries, "sale:S001/B", POLICY, CN) == 500
    assert expired_from(entries, "sale:S001/C", POLICY, CN) == 0
    assert expired_from(entries, "sale:S001/unknown", POLICY, CN) == 0
    assert [(lot.expires_on, lot.remaining) for lot in open_lots(entries, POLICY, CN)] == [(date(2026, 12, 31), 700)]


def test_points_a_cancelled_redemption_gave_back_keep_their_sale_when_they_expire() -> None:
    redeem = LedgerEntry(EntryType.REDEEM, -400, 0, "r", "redemption:x", None, at(2025, 5, 1))
    back = LedgerEntry(EntryType.CANCEL_REDEEM, 400, 0, "r", "redemption:x", None, at(2025, 5, 2))
    entries = [sale_earn("S001/A", 1_000, at(2024, 6, 1)), redeem, back, e(EntryType.EXPIRE, -1_000, at(2026, 1, 1))]
    assert expired_from(entries, "sale:S001/A", POLICY, CN) == 1_000


def test_a_return_takes_its_own_sale_s_lot_first() -> None:
    # Old points about to expire stay about to expire when a newer sale comes back.
    entries = [
        sale_earn("S001/A", 100, at(2024, 6, 1)),      # valid until 2025-12-31
        sale_earn("S001/B", 300, at(2025, 12, 20)),    # valid until 2026-12-31
        LedgerEntry(EntryType.REVERSE, -120, 280, "return S001/R1 of sale S001/B", "return:S001/R1", None,
                    at(2025, 12, 21), reverses="sale:S001/B"),
    ]
    lots = open_lots(entries, POLICY, CN)
    assert [(lot.expires_on, lot.remaining) for lot in lots] == [(date(2025, 12, 31), 100), (date(2026, 12, 31), 180)]
    # More than its sale's lot holds (some of it was spent): the rest from the oldest, as any debit.
    more = [*entries[:2], LedgerEntry(EntryType.REDEEM, -250, 150, "gift", "redemption:g", None, at(2025, 12, 20)),
            LedgerEntry(EntryType.REVERSE, -300, -150, "r", "return:S001/R2", None, at(2025, 12, 21), reverses="sale:S001/B")]
    assert open_lots(more, POLICY, CN) == []


def by_date(lots: list[Lot]) -> dict[date, int]:
    out: dict[date, int] = {}
    for lot in lots:
        out[lot.expires_on] = out.get(lot.expires_on, 0) + lot.remaining
    return out


def test_a_cancelled_redemption_gives_back_what_a_return_took_in_stead_of_its_sale_s_points() -> None:
    # A sale of last year's, a bonus of this year's; a gift takes both, the sale comes back while the
    # gift is reserved (its own points held by the gift, the return takes the bonus's), the gift is
    # cancelled: what is left is the bonus, valid as long as the bonus is.
    redeem = LedgerEntry(EntryType.REDEEM, -10_000, 1_000, "gift", "redemption:g", None, at(2026, 12, 1))
    entries = [
        sale_earn("S001/A", 1_000, at(2025, 5, 1)),                          # valid until 2026-12-31
        LedgerEntry(EntryType.BONUS, 10_000, 11_000, "bonus", "bonus:b", None, at(2026, 11, 30)),  # until 2027-12-31
        redeem,
        LedgerEntry(EntryType.REVERSE, -1_000, 0, "return", "return:S001/R", None, at(2026, 12, 2), reverses="sale:S001/A"),
        LedgerEntry(EntryType.CANCEL_REDEEM, 10_000, 10_000, "cancelled", "redemption:g", None, at(2026, 12, 3)),
    ]
    assert by_date(open_lots(entries, POLICY, CN)) == {date(2027, 12, 31): 10_000}
    # Returned in part, the sale's unreturned points are given back as the sale's.
    part = [*entries[:3], LedgerEntry(EntryType.REVERSE, -400, 600, "return", "return:S001/R", None, at(2026, 12, 2),
                                      reverses="sale:S001/A"), entries[4]]
    assert by_date(open_lots(part, POLICY, CN)) == {date(2026, 12, 31): 600, date(2027, 12, 31): 10_000}
    # The same steps with the return after the cancellation come to the same.
    after = [*entries[:3], entries[4], entries[3]]
    assert by_date(open_lots(after, POLICY, CN)) == {date(2027, 12, 31): 10_000}


def test_a_return_after_a_gift_handed_over_keeps_what_it_took_in_stead() -> None:
    # The sale's points went on a gift handed over (never cancelled): the return's points come from
    # the bonus, and a later gift reserved and cancelled gives back only what it took.
    entries = [
        sale_earn("S001/A", 1_000, at(2025, 5, 1)),
        LedgerEntry(EntryType.REDEEM, -1_000, 0, "gift", "redemption:kept", None, at(2026, 1, 1)),
        LedgerEntry(EntryType.BONUS, 5_000, 5_000, "bonus", "bonus:b", None, at(2026, 2, 1)),
        LedgerEntry(EntryType.REVERSE, -1_000, 4_000, "return", "return:S001/R", None, at(2026, 2, 2), reverses="sale:S001/A"),
        LedgerEntry(EntryType.REDEEM, -3_000, 1_000, "gift", "redemption:g", None, at(2026, 3, 1)),
        LedgerEntry(EntryType.CANCEL_REDEEM, 3_000, 4_000, "cancelled", "redemption:g", None, at(2026, 3, 2)),
    ]
    assert by_date(open_lots(entries, POLICY, CN)) == {date(2027, 12, 31): 4_000}
