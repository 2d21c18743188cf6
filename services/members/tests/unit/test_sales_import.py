"""What makes an imported past sale refused, each reason naming its field."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from members.domain.sales_import import ImportedSale, fingerprint, parse_sale, unknown_customer

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FORMS = ("2019-03-01T10:15:00+08:00, or without the offset (in --local-time-zone) 2019-03-01 10:15:00, "
         "2019-3-1 10:15 or 2019/3/1 10:15")
PLAIN = "write digits and a decimal point alone, without a currency sign (¥) or thousands separators, e.g. 1234.50"
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
    assert (parsed.amount, parsed.lines, parsed.discount, parsed.paid) == (Decimal("45.50"), [], Decimal("0.00"), Decimal("45.50"))


def test_what_the_old_system_took_off_is_not_paid() -> None:
    parsed = parse_sale(sale(discount="9.8"), NOW)
    assert isinstance(parsed, ImportedSale)
    assert (parsed.amount, parsed.discount, parsed.paid) == (Decimal("79.80"), Decimal("9.80"), Decimal("70.00"))
    # All of it taken off (a gift, a voucher worth the basket) is a sale paid nothing for.
    everything = parse_sale({**sale(total="45.50", discount="45.50"), "lines": []}, NOW)
    assert isinstance(everything, ImportedSale) and everything.paid == Decimal("0.00")
    # An export writing every column says null where nothing was taken off.
    nothing = parse_sale(sale(discount=None), NOW)
    assert isinstance(nothing, ImportedSale) and (nothing.discount, nothing.paid) == (Decimal("0.00"), Decimal("79.80"))


@pytest.mark.parametrize(("raw", "reason"), [
    (sale(occurred_at="2019-03-01T10:15:00"), "occurred_at: a time needs its UTC offset, e.g. 2019-03-01T10:15:00+08:00, or the import its local time zone (--local-time-zone)"),
    (sale(occurred_at="yesterday"), f"occurred_at: 'yesterday' is not a date and time as the import reads them: {FORMS}"),
    (sale(occurred_at="2019年3月1日 10:15"), f"occurred_at: '2019年3月1日 10:15' is not a date and time as the import reads them: {FORMS}"),
    (sale(occurred_at="2019/3-1 10:15"), f"occurred_at: '2019/3-1 10:15' is not a date and time as the import reads them: {FORMS}"),
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
    (sale(discount="79.81"), "discount: 79.81 is more than the total 79.80"),
    ({**sale(total="10", discount="10.01"), "lines": []}, "discount: 10.01 is more than the total 10.00"),
    (sale(discount="-1"), "discount: Input should be greater than or equal to 0"),
    (sale(discount="¥5"), f"discount: '¥5' is not a number: {PLAIN}"),
    # As a spreadsheet saves a cell formatted as currency: plain numbers only, said so.
    (sale(total="¥79.80"), f"total: '¥79.80' is not a number: {PLAIN}"),
    (sale(total="￥79.80"), f"total: '￥79.80' is not a number: {PLAIN}"),
    (sale(total="79.80元"), f"total: '79.80元' is not a number: {PLAIN}"),
    # Python's Decimal reads these as 1000 and 12.5; nobody writes an amount so.
    (sale(total="1_000"), f"total: '1_000' is not a number: {PLAIN}"),
    (sale(lines=[{**LINE, "qty": " +1"}]), f"lines.0.qty: ' +1' is not a number: {PLAIN}"),
    (sale(lines=[{**LINE, "unit_price": "1,039.90", "amount": "1,039.90"}]), f"lines.0.unit_price: '1,039.90' is not a number: {PLAIN}"),
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
    # A moment the calendar cannot hold in the zone: its reason names the field too, though its
    # own first word holds colons.
    assert parse_sale(sale(occurred_at="0001-01-01T00:00:00"), NOW, shanghai) == (
        "occurred_at: 0001-01-01T00:00:00 is outside the years 1 to 9999 in Asia/Shanghai or in UTC")
    assert parse_sale(sale(occurred_at="2021-11-07T01:30:00"), NOW, new_york) == (
        "occurred_at: the clocks of America/New_York showed 2021-11-07T01:30:00 twice; give its UTC offset")
    # As Chinese systems export local times and spreadsheets save them.
    for written in ("2019/3/1 10:15", "2019/03/01 10:15:00", "2019-3-1 10:15", "2019-03-01 10:15"):
        parsed = parse_sale(sale(occurred_at=written), NOW, shanghai)
        assert isinstance(parsed, ImportedSale) and parsed.occurred_at == datetime(2019, 3, 1, 2, 15, tzinfo=UTC)
    parsed = parse_sale(sale(occurred_at="2019-3-1 9:05"), NOW, shanghai)
    assert isinstance(parsed, ImportedSale) and parsed.occurred_at == datetime(2019, 3, 1, 1, 5, tzinfo=UTC)
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


def test_what_a_full_width_input_method_typed_reads_as_its_ascii_in_codes_numbers_and_times() -> None:
    typed = {
        "store_id": "Ｓ００１", "pos_txn_id": "ＯＬＤ－１", "occurred_at": "２０１９／３／１　１０：１５", "card_no": "８８００００００１２３４５",
        "lines": [{"sku": "６９０１２３４", "name": "大米（５ｋｇ）", "category": "粮油", "qty": "２", "unit_price": "３９．９０",
                   "amount": "７９．８０"}],
        "total": "７９．８０", "discount": "９．８０", "payment": "现金",
    }
    parsed = parse_sale(typed, NOW, ZoneInfo("Asia/Shanghai"))
    assert isinstance(parsed, ImportedSale)
    assert (parsed.store_id, parsed.pos_txn_id, parsed.occurred_at, parsed.card_no, parsed.amount, parsed.discount) == (
        "S001", "OLD-1", datetime(2019, 3, 1, 2, 15, tzinfo=UTC), "8800000012345", Decimal("79.80"), Decimal("9.80"))
    [line] = parsed.lines
    # A product's name is kept as written: full-width brackets are how it was named.
    assert (line.sku, line.name, line.qty, line.unit_price) == ("6901234", "大米（５ｋｇ）", Decimal("2"), Decimal("39.90"))
    assert parse_sale(sale(phone="１３９０００００００１"), NOW).phone == "13900000001"  # type: ignore[union-attr]


def fingerprint_of(raw: dict) -> int:
    parsed = parse_sale(raw, NOW)
    assert isinstance(parsed, ImportedSale), parsed
    return fingerprint(parsed)


def test_the_same_sale_written_otherwise_has_one_fingerprint() -> None:
    written = sale(card_no="8800000012345", total="79.80", discount="5")
    assert fingerprint_of(written) == fingerprint_of({
        **written, "occurred_at": "2019-03-01T02:15:00Z", "total": "79.8", "discount": "5.00",
        "lines": [{**LINE, "qty": "2.000", "unit_price": "39.9"}],
    })


CARD = "8800000012345"


@pytest.mark.parametrize("other", [
    sale(card_no="8800000099999"),
    sale(phone="13300000001"),
    sale(),  # no customer
    sale(card_no=CARD, occurred_at="2019-03-01T10:15:01+08:00"),
    sale(card_no=CARD, lines=[{**LINE, "qty": "1", "amount": "39.90"}]),
    # The same total from other lines, and from no lines at all.
    sale(card_no=CARD, lines=[{**LINE, "sku": "oil"}]),
    sale(card_no=CARD, lines=[{**LINE, "qty": "1", "unit_price": "40.00", "amount": "40.00"},
                              {**LINE, "qty": "1", "unit_price": "39.80", "amount": "39.80"}]),
    {**sale(card_no=CARD, total="79.80"), "lines": []},
    sale(card_no=CARD, payment="wechat"),
    sale(card_no=CARD, discount="0.01"),
])
def test_another_customer_time_total_lines_discount_or_payment_is_another_sale(other: dict) -> None:
    assert fingerprint_of(other) != fingerprint_of(sale(card_no=CARD))
