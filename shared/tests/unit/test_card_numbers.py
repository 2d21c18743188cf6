"""A card number is read in capitals: the card a cashier types in small letters is the card printed."""

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.cards import CardNumber

CARD = TypeAdapter(CardNumber)


def test_a_card_typed_in_small_letters_is_read_in_capitals() -> None:
    assert CARD.validate_python("qa12b34") == "QA12B34" == CARD.validate_python("QA12b34")
    assert CARD.validate_python("8800000012345") == "8800000012345"


def test_a_card_typed_in_full_width_mode_is_the_same_card_in_ascii() -> None:
    # A Chinese input method left in full-width mode, or a column pasted from a spreadsheet into a
    # bulk bonus: refused as "not in the expected format" where an import reads it as the card.
    assert CARD.validate_python("８８００００００１２３４５") == "8800000012345"
    assert CARD.validate_python("ｑａ１２Ｂ３４") == "QA12B34"


@pytest.mark.parametrize("typed", ["ab1", "qa-12b34", "卡12345", "x" * 33, "８８０\u3000０１２３", "٨٨٠٠١٢٣٤"])
def test_what_is_no_card_number_is_still_refused(typed: str) -> None:
    with pytest.raises(ValidationError):
        CARD.validate_python(typed)


def test_the_published_schema_of_a_card_number_is_unchanged() -> None:
    assert CARD.json_schema() == {"type": "string", "minLength": 4, "maxLength": 32, "pattern": "^[0-9A-Za-z]+$"}
