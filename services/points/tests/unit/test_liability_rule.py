"""The points liability: each account's open lots, by the month they expire, erased members apart."""

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from points.domain.expiry import ExpiryPolicy, open_lots
from points.domain.liability import Figure, Liability, LiabilityBook, LiabilityLine, LiabilityTally, Line, store_of
from points.domain.model import EntryType, LedgerEntry

CN = ZoneInfo("Asia/Shanghai")
POLICY = ExpiryPolicy(years_after=1)
TODAY = date(2026, 11, 23)


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 4, tzinfo=UTC)


def entry(kind: EntryType, points: int, when: datetime, ref: str = "", reverses: str | None = None) -> LedgerEntry:
    return LedgerEntry(kind, points, 0, "r", ref or f"{kind}:{when.isoformat()}:{points}", None, when, reverses=reverses)


def earn(points: int, when: datetime, store: str = "S001", txn: str = "T1") -> LedgerEntry:
    return entry(EntryType.EARN, points, when, f"sale:{store}/{txn}")


def add(tally: LiabilityTally, *entries: LedgerEntry, erased: bool = False) -> None:
    tally.add(open_lots(entries, POLICY, CN), balance=sum(e.points for e in entries), erased=erased)


def test_open_lots_are_counted_by_the_month_they_expire() -> None:
    tally = LiabilityTally(TODAY)
    add(tally, earn(100, at(2025, 5, 1)), earn(300, at(2026, 3, 1), txn="T2"))
    add(tally, earn(50, at(2026, 6, 1), store="S002"))
    report = tally.result()
    assert report.lines == [
        LiabilityLine(Line.REDEEMABLE, "2026-12", 100, 1),
        LiabilityLine(Line.REDEEMABLE, "2027-12", 350, 2),
    ]
    assert report.outstanding == Figure(450, 2)
    assert report.held == Figure(450, 2)
    assert (report.ledger_balance, report.in_deficit) == (450, Figure(0, 0))


def test_a_lot_partly_redeemed_counts_what_is_left_of_it() -> None:
    tally = LiabilityTally(TODAY)
    add(tally, earn(100, at(2025, 5, 1)), earn(300, at(2026, 3, 1), txn="T2"),
        entry(EntryType.REDEEM, -130, at(2026, 4, 1), "redemption:r1"))
    # The oldest lot is spent first: nothing left of 2025's, 270 of 2026's.
    assert tally.result().lines == [LiabilityLine(Line.REDEEMABLE, "2027-12", 270, 1)]


def test_a_cancelled_redemption_puts_its_points_back_under_their_own_months() -> None:
    tally = LiabilityTally(TODAY)
    add(tally, earn(100, at(2025, 5, 1)), earn(300, at(2026, 3, 1), txn="T2"),
        entry(EntryType.REDEEM, -130, at(2026, 4, 1), "redemption:r1"),
        entry(EntryType.CANCEL_REDEEM, 130, at(2026, 4, 2), "redemption:r1"))
    assert [(ln.expires_month, ln.points) for ln in tally.result().lines] == [("2026-12", 100), ("2027-12", 300)]


def test_a_return_takes_its_own_sales_points_out_of_the_liability() -> None:
    tally = LiabilityTally(TODAY)
    add(tally, earn(100, at(2025, 5, 1), txn="OLD"), earn(300, at(2026, 3, 1), txn="NEW"),
        entry(EntryType.REVERSE, -300, at(2026, 3, 2), "return:S001/R1", reverses="sale:S001/NEW"))
    assert tally.result().lines == [LiabilityLine(Line.REDEEMABLE, "2026-12", 100, 1)]


def test_expired_points_are_gone_and_points_past_their_date_the_job_has_not_taken_are_shown_apart() -> None:
    expired = LiabilityTally(TODAY)
    add(expired, earn(100, at(2023, 5, 1)), entry(EntryType.EXPIRE, -100, at(2025, 1, 1), "expiry:2024-12-31@2025-01-01"),
        earn(40, at(2026, 1, 5), txn="T2"))
    assert expired.result().lines == [LiabilityLine(Line.REDEEMABLE, "2027-12", 40, 1)]

    waiting = LiabilityTally(date(2027, 1, 1))  # the job has not run since 2026's points ran out
    add(waiting, earn(100, at(2025, 5, 1)), earn(40, at(2026, 1, 5), txn="T2"))
    report = waiting.result()
    assert report.lines == [
        LiabilityLine(Line.PAST_DATE, "2026-12", 100, 1),
        LiabilityLine(Line.REDEEMABLE, "2027-12", 40, 1),
    ]
    assert report.outstanding == Figure(40, 1)
    assert report.totals[Line.PAST_DATE] == Figure(100, 1)
    assert report.held == Figure(140, 1)


def test_the_last_valid_day_itself_is_still_redeemable() -> None:
    tally = LiabilityTally(date(2026, 12, 31))
    add(tally, earn(100, at(2025, 5, 1)))
    assert tally.result().lines == [LiabilityLine(Line.REDEEMABLE, "2026-12", 100, 1)]


def test_erased_members_points_are_one_line_of_their_own_whatever_their_month() -> None:
    tally = LiabilityTally(TODAY)
    add(tally, earn(100, at(2025, 5, 1)), earn(300, at(2026, 3, 1), txn="T2"), erased=True)
    add(tally, earn(7, at(2024, 5, 1)), erased=True)  # past its date: erased all the same
    add(tally, earn(50, at(2026, 6, 1), txn="T3"))
    report = tally.result()
    assert report.lines == [
        LiabilityLine(Line.REDEEMABLE, "2027-12", 50, 1),
        LiabilityLine(Line.ERASED, None, 407, 2),
    ]
    assert report.outstanding == Figure(50, 1)
    assert report.totals[Line.ERASED] == Figure(407, 2)
    assert report.held == Figure(457, 3)


def test_an_account_with_points_of_several_months_counts_once_in_each_and_once_in_all() -> None:
    tally = LiabilityTally(date(2027, 1, 1))
    add(tally, earn(10, at(2024, 5, 1)), earn(20, at(2025, 5, 1), txn="T2"), earn(30, at(2026, 5, 1), txn="T3"))
    report = tally.result()
    assert [(ln.line, ln.accounts) for ln in report.lines] == [(Line.PAST_DATE, 1), (Line.PAST_DATE, 1), (Line.REDEEMABLE, 1)]
    assert report.totals[Line.PAST_DATE] == Figure(30, 1)
    assert report.held == Figure(60, 1)


def test_a_deficit_is_no_liability_and_the_lines_with_the_deficits_make_the_ledgers_sum() -> None:
    tally = LiabilityTally(TODAY)
    add(tally, earn(100, at(2026, 1, 5)), entry(EntryType.REDEEM, -100, at(2026, 2, 1), "redemption:r1"),
        entry(EntryType.REVERSE, -40, at(2026, 2, 2), "return:S001/R1", reverses="sale:S001/T1"))
    add(tally, earn(500, at(2026, 1, 5), txn="T2"))
    add(tally, earn(60, at(2026, 1, 5), txn="T3"), entry(EntryType.REDEEM, -60, at(2026, 2, 1), "redemption:r2"))
    report = tally.result()
    assert report.lines == [LiabilityLine(Line.REDEEMABLE, "2027-12", 500, 1)]
    assert report.in_deficit == Figure(-40, 1)
    assert report.ledger_balance == 460 == report.held.points + report.in_deficit.points


def test_a_stores_share_is_what_its_sales_earned() -> None:
    tally = LiabilityTally(TODAY, store_id="S001")
    add(tally, earn(100, at(2026, 1, 5), store="S001"), earn(200, at(2026, 2, 5), store="S002", txn="T2"),
        entry(EntryType.BONUS, 30, at(2026, 3, 1), "complaint:C1"), entry(EntryType.ADJUST, 5, at(2026, 3, 2), "adjust:k1"))
    add(tally, earn(70, at(2026, 1, 5), store="S002", txn="T3"))
    add(tally, earn(9, at(2025, 1, 5), store="S001", txn="T4"), erased=True)
    report = tally.result()
    assert report.lines == [LiabilityLine(Line.REDEEMABLE, "2027-12", 100, 1), LiabilityLine(Line.ERASED, None, 9, 1)]
    assert report.held == Figure(109, 2)
    # Balances and deficits are an account's, not a store's.
    assert (report.ledger_balance, report.in_deficit) == (None, None)


def test_the_store_of_a_lot_is_its_sales_store_and_other_credits_have_none() -> None:
    assert store_of("sale:S001/S001-T03-000123") == "S001"
    assert store_of("sale:S_01/2026:17/x") == "S_01"
    assert store_of("complaint:C1") is None
    assert store_of("bulk:job-1") is None
    assert store_of("redemption:r1") is None
    assert store_of("sale:") is None


def accounts() -> list[tuple[list[LedgerEntry], bool]]:
    """Accounts of two stores, a bonus of no store, a redemption, a past date, a deficit, an erasure."""
    return [
        ([earn(100, at(2025, 5, 1)), earn(300, at(2026, 3, 1), store="S002", txn="T2"),
          entry(EntryType.REDEEM, -150, at(2026, 4, 1), "redemption:r1")], False),
        ([earn(70, at(2024, 5, 1)), entry(EntryType.BONUS, 40, at(2026, 2, 1), "bonus:b1")], False),
        ([earn(400, at(2026, 4, 1), store="S002")], True),
        ([earn(100, at(2026, 2, 1)), entry(EntryType.REDEEM, -100, at(2026, 3, 1), "redemption:r2"),
          entry(EntryType.REVERSE, -100, at(2026, 5, 1), "return:S001/R1", reverses="sale:S001/T1")], False),
    ]


def test_the_book_gives_the_chain_and_each_stores_share_as_their_own_tallies_do() -> None:
    book = LiabilityBook(TODAY)
    chain, s001, s002 = LiabilityTally(TODAY), LiabilityTally(TODAY, "S001"), LiabilityTally(TODAY, "S002")
    for entries, erased in accounts():
        for tally in (book, chain, s001, s002):
            add(tally, *entries, erased=erased)
    results = book.results()
    assert results == {None: chain.result(), "S001": s001.result(), "S002": s002.result()}
    assert results["S001"].lines and results["S002"].lines and results[None].in_deficit == Figure(-100, 1)


def test_a_kept_report_reads_back_as_it_was() -> None:
    tally = LiabilityTally(TODAY)
    for entries, erased in accounts():
        add(tally, *entries, erased=erased)
    for report in (tally.result(), Liability.nothing(chain=True), Liability.nothing(chain=False)):
        assert Liability.from_json(json.loads(json.dumps(report.as_json()))) == report
    assert Liability.nothing(chain=False) == LiabilityTally(TODAY, "S009").result()
    assert Liability.nothing(chain=True) == LiabilityTally(TODAY).result()
