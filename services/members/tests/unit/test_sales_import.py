"""What makes an imported past sale refused, each reason naming its field."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from members.domain.sales_import import ImportedSale, parse_sale, unknown_customer

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LINE = {"sku": "rice", "name": "大米", "category": "grain", "qty": "2", "unit_price": "39.90", "amount": "79.80"}


def sale(**fields) -> dict:
    return {"store_id": "S001", "pos_txn_id": "OLD-1", "occurred_at": "2019-03-01T10:15:00+08:00", "lines": [LINE], **fields}


def test_a_sale_with_lines_gets_its_total_from_them() -> None:
    parsed = parse_sale(sale(card_no="8800000012345"), NOW)
    assert isinstance(parsed, ImportedSale)
    assert (parsed.amount, parsed.card_no, parsed.occurred_at) == (Decimal("79.80"), "8800000012345",
                                                                    datetime(2019, 3, 1, 2, 15, tzinfo=UTC))


def test_a_sale_of_only_a_total_has_no_lines() -> None:
    parsed = parse_sale({**sale(total="45.5"), "lines": []}, NOW)
    assert isinstance(parsed, ImportedSale)
    assert (parsed.amount, parsed.lines) == (Decimal("45.50"), [])


@pytest.mark.parametrize(("raw", "reason"), [
    (sale(occurred_at="2019-03-01T10:15:00"), "occurred_at: a time needs its UTC offset, e.g. 2019-03-01T10:15:00+08:00, or the import its local time zone (--local-time-zone)"),
    (sale(occurred_at="yesterday"), "occurred_at: Input should be a valid datetime or date, input is too short"),
    (sale(occurred_at="2026-12-01T20:00:01+08:00"), "occurred_at: later than now; an import brings past sales"),
    (sale(occurred_at="0001-01-01T00:00:00+08:00"), "occurred_at: before 1970, not a sale of a till"),
    (sale(occurred_at="20190301"), "occurred_at: '20190301' is a number, not a date and time such as 2026-12-04T10:15:00+08:00"),
    (sale(occurred_at=1700000000), "occurred_at: 1700000000 is a number, not a date and time such as 2026-12-04T10:15:00+08:00"),
    (sale(store_id="S 001"), "store_id: String should match pattern '^[A-Za-z0-9_-]+$'"),
    (sale(pos_txn_id=""), "pos_txn_id: String should have at least 1 character"),
    ({k: v for k, v in sale().items() if k != "store_id"}, "store_id: Field required"),
    (sale(card_no="88-00"), "card_no: String should match pattern '^[0-9A-Za-z]+$'"),
    (sale(phone="12345"), "phone: String should match pattern '^1[3-9][0-9]{9}$'"),
    (sale(card_no="8800000012345", phone="13900000001"), "phone: give a card number or a phone, not both"),
    ({**sale(), "lines": []}, "lines: give the sale's lines or its total"),
    (sale(total="80.00"), "total: 80.00 is not the sum of the lines (79.80)"),
    (sale(total="-1"), "total: Input should be greater than or equal to 0"),
    (sale(total="1.234"), "total: Decimal input should have no more than 2 decimal places"),
    (sale(lines=[{**LINE, "qty": "0"}]), "lines.0.qty: Input should be greater than 0"),
    (sale(lines=[{**LINE, "amount": "NaN"}]), "lines.0.amount: Input should be a finite number"),
    (sale(lines=[{k: v for k, v in LINE.items() if k != "sku"}]), "lines.0.sku: Field required"),
    (sale(lines=[{**LINE, "categroy": "tobacco"}]), "lines.0.categroy: Extra inputs are not permitted"),
    (sale(payment="x" * 33), "payment: String should have at most 32 characters"),
    (sale(customer="8800000012345"), "customer: Extra inputs are not permitted"),
    ("not a sale", "Input should be a valid dictionary or instance of ImportedSale"),
])
def test_each_refusal_names_the_field_and_the_reason(raw, reason: str) -> None:
    assert parse_sale(raw, NOW) == reason


def test_a_time_without_its_offset_is_taken_in_the_imports_local_time_zone() -> None:
    shanghai, new_york = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
    parsed = parse_sale(sale(occurred_at="2019-03-01 10:15:00"), NOW, shanghai)
    assert isinstance(parsed, ImportedSale) and parsed.occurred_at == datetime(2019, 3, 1, 2, 15, tzinfo=UTC)
    # A time with its offset keeps it, whatever the import's zone.
    parsed = parse_sale(sale(), NOW, new_york)
    assert isinstance(parsed, ImportedSale) and parsed.occurred_at == datetime(2019, 3, 1, 2, 15, tzinfo=UTC)
    # Where the clocks change, a local time may be no moment, or two.
    assert parse_sale(sale(occurred_at="2021-03-14T02:30:00"), NOW, new_york) == (
        "occurred_at: the clocks of America/New_York skipped 2021-03-14T02:30:00; give its UTC offset")
    assert parse_sale(sale(occurred_at="2021-11-07T01:30:00"), NOW, new_york) == (
        "occurred_at: the clocks of America/New_York showed 2021-11-07T01:30:00 twice; give its UTC offset")
    # As Chinese systems export local times and spreadsheets save them.
    for slashed in ("2019/3/1 10:15", "2019/03/01 10:15:00"):
        parsed = parse_sale(sale(occurred_at=slashed), NOW, shanghai)
        assert isinstance(parsed, ImportedSale) and parsed.occurred_at == datetime(2019, 3, 1, 2, 15, tzinfo=UTC)
    assert parse_sale(sale(occurred_at="2019/2/30 10:15"), NOW, shanghai) == (
        "occurred_at: '2019/2/30 10:15' is not a date and time (day is out of range for month)")
    assert parse_sale(sale(occurred_at="2019/3/1 10:15"), NOW).startswith("occurred_at: a time needs its UTC offset")
    parsed = parse_sale(sale(occurred_at="2021-11-07T01:30:00-05:00"), NOW, new_york)
    assert isinstance(parsed, ImportedSale) and parsed.occurred_at == datetime(2021, 11, 7, 6, 30, tzinfo=UTC)


def test_an_unknown_customer_is_named_by_what_the_sale_gave() -> None:
    by_card = parse_sale(sale(card_no="8800000012345"), NOW)
    by_phone = parse_sale(sale(phone="13900000001"), NOW)
    assert isinstance(by_card, ImportedSale) and isinstance(by_phone, ImportedSale)
    assert unknown_customer(by_card) == "card_no: no member has this card"
    assert unknown_customer(by_phone) == "phone: no member has this phone"
