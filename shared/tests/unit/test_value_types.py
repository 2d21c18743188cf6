"""The shared value types: card numbers, phones, store and transaction ids, amounts and quantities.

Each rule is defined once; these tests pin what it accepts, so that the APIs and the event
contracts that use it accept exactly the same values.
"""

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.cards import CardNumber, has_valid_check_digit, luhn_check_digit
from shared.events.contracts import CustomerRef, PurchaseMadeV1
from shared.identifiers import StoreId, TxnId
from shared.money import CENT, Money, Quantity
from shared.phones import Phone

cards, phones = TypeAdapter(CardNumber), TypeAdapter(Phone)
store_ids, txn_ids = TypeAdapter(StoreId), TypeAdapter(TxnId)
amounts, quantities = TypeAdapter(Money), TypeAdapter(Quantity)


@pytest.mark.parametrize("card", ["8800000012345", "1234", "ABCD", "legacyCard0001", "9" * 32])
def test_card_numbers_of_4_to_32_letters_or_digits_are_accepted_in_capitals(card: str) -> None:
    assert cards.validate_python(card) == card.upper()


@pytest.mark.parametrize("card", ["", "123", "9" * 33, "8800-0000-1234", "8800 0000 12345", "卡号1234", "erased:m-1"])
def test_card_numbers_of_another_shape_are_refused(card: str) -> None:
    with pytest.raises(ValidationError):
        cards.validate_python(card)


def test_a_card_number_is_not_refused_for_its_check_digit() -> None:
    # Older and partner cards carry no Luhn digit and must keep working at the till.
    assert not has_valid_check_digit("8800000012345")
    assert cards.validate_python("8800000012345") == "8800000012345"
    assert CustomerRef(card_no="8800000012345").card_no == "8800000012345"


def test_luhn_check_digit_of_the_textbook_example() -> None:
    assert luhn_check_digit("7992739871") == "3"
    assert has_valid_check_digit("79927398713")


@pytest.mark.parametrize("wrong", ["79927398710", "79927398714", "79927389713", "97927398713"])
def test_luhn_check_catches_a_mistyped_or_swapped_digit(wrong: str) -> None:
    assert not has_valid_check_digit(wrong)


@pytest.mark.parametrize("number", ["", "7", "7992739871a", "７９９２７３９８７１３"])
def test_luhn_check_refuses_what_is_not_a_number_of_digits(number: str) -> None:
    assert not has_valid_check_digit(number)


@pytest.mark.parametrize("phone", ["13800138000", "19912345678", "15000000000"])
def test_mainland_mobile_numbers_are_accepted(phone: str) -> None:
    assert phones.validate_python(phone) == phone


@pytest.mark.parametrize("typed", ["13８００１３８０００", "１３８００１３８０００", "\u300013800138000 ", " 13800138000\t",
                                   "138 0013 8000", "138-0013-8000", "138\u30000013\u30008000", "1 3 8 0 0 1 3 8 0 0 0",
                                   "+8613800138000", "+86 138 0013 8000", "0086-138-0013-8000", "＋８６ １３８００１３８０００"])
def test_a_phone_typed_in_full_width_digits_in_groups_or_with_spaces_around_is_the_same_number(typed: str) -> None:
    # A Chinese input method left in full-width mode, a number copied in groups off a form or with
    # China's country code off a contact card: the same number to every limit and look-up.
    assert phones.validate_python(typed) == "13800138000"


@pytest.mark.parametrize(
    "phone", ["1380013800", "138001380000", "12345678901", "23800138000", "138.0013.8000", "138/0013/8000", "",
              # Another country's code, or China's before a number that is no mobile one.
              "+85213800138000", "+86 1380013800", "+860013800138000", "86 13800138000",
              # Digits of other scripts: one number written in Arabic-Indic digits would be
              # another number to the per-phone limits and the member look-up.
              "13٨٠٠١٣٨٠٠٠", "１３８"],
)
def test_other_phone_numbers_are_refused(phone: str) -> None:
    with pytest.raises(ValidationError, match="pattern"):
        phones.validate_python(phone)


@pytest.mark.parametrize("store", ["S001", "store_7", "north-3", "x" * 32])
def test_store_ids_are_accepted(store: str) -> None:
    assert store_ids.validate_python(store) == store


@pytest.mark.parametrize("store", ["", "x" * 33, "S 001", "S/001", "店1"])
def test_malformed_store_ids_are_refused(store: str) -> None:
    with pytest.raises(ValidationError):
        store_ids.validate_python(store)


@pytest.mark.parametrize("txn", ["S001-T03-000123", "S001/2026:17", "a.b_c", "x" * 64])
def test_transaction_ids_are_accepted(txn: str) -> None:
    assert txn_ids.validate_python(txn) == txn


@pytest.mark.parametrize("txn", ["", "x" * 65, "T 1", "T#1", "票1"])
def test_malformed_transaction_ids_are_refused(txn: str) -> None:
    with pytest.raises(ValidationError):
        txn_ids.validate_python(txn)


def test_amounts_come_back_with_two_decimals_and_quantities_as_sent() -> None:
    assert amounts.validate_python("79.8") == Decimal("79.80") == Decimal("79.8").quantize(CENT)
    assert str(amounts.validate_python(5)) == "5.00"
    assert quantities.validate_python("0.125") == Decimal("0.125")


@pytest.mark.parametrize("amount", ["-0.01", "0.001", "NaN", "Infinity", "1e20"])
def test_negative_overprecise_or_unbounded_amounts_are_refused(amount: str) -> None:
    with pytest.raises(ValidationError):
        amounts.validate_python(amount)


@pytest.mark.parametrize("written", ["1_000", "1_000.00", " 12.50", "12.50 ", "+12.50", "12,50", "0x10", "1e", "."])
def test_an_amount_or_quantity_written_as_no_till_writes_one_is_unreadable(written: str) -> None:
    for kind in (amounts, quantities):
        with pytest.raises(ValidationError) as refused:
            kind.validate_python(written)
        assert refused.value.errors()[0]["type"] == "decimal_parsing"


@pytest.mark.parametrize(("written", "amount"), [("1234.50", "1234.50"), ("2E+1", "20.00"), ("12.", "12.00"), (".5", "0.50")])
def test_an_amount_written_as_tills_print_decimals_is_read(written: str, amount: str) -> None:
    assert amounts.validate_python(written) == Decimal(amount)


@pytest.mark.parametrize("qty", ["0", "-1", "0.0005", "NaN"])
def test_zero_negative_or_overprecise_quantities_are_refused(qty: str) -> None:
    with pytest.raises(ValidationError):
        quantities.validate_python(qty)


def test_the_event_contracts_publish_the_same_rules_as_the_types() -> None:
    """The contracts use the types themselves, so their published schema shows the same rules."""
    schema = PurchaseMadeV1.model_json_schema(mode="validation")
    assert schema["properties"]["store_id"] | {"title": None} == store_ids.json_schema() | {"title": None}
    assert schema["properties"]["pos_txn_id"] | {"title": None} == txn_ids.json_schema() | {"title": None}
    card = schema["$defs"]["CustomerRef"]["properties"]["card_no"]["anyOf"][0]
    assert card == cards.json_schema()
