"""The 422 every service answers: each error's field and reason, and never an answer that grows
with the number of bad fields a body holds."""

import pytest

from shared.validation_errors import MAX_ERRORS, summarise

pytestmark = pytest.mark.unit


def unknown(key: str) -> dict:
    return {"loc": ("body", key), "msg": "Extra inputs are not permitted", "type": "extra_forbidden", "input": "x" * 500}


def test_each_error_keeps_its_field_and_reason_and_an_excerpt_of_the_input() -> None:
    assert summarise([unknown("nickname")]) == [
        {"loc": ["body", "nickname"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden", "input": "x" * 100 + "…"}]


def test_thousands_of_bad_fields_are_the_first_few_and_a_count_of_the_rest() -> None:
    summary = summarise(unknown(f"k{n}") for n in range(50_000))
    assert [e["loc"] for e in summary[:MAX_ERRORS]] == [["body", f"k{n}"] for n in range(MAX_ERRORS)]
    assert summary[MAX_ERRORS:] == [{"loc": [], "msg": f"{50_000 - MAX_ERRORS} more problems not listed", "type": "too_many_errors"}]
    # Exactly the limit: every error listed, no count.
    assert len(summarise(unknown(f"k{n}") for n in range(MAX_ERRORS))) == MAX_ERRORS
