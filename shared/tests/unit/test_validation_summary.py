"""The 422 every service answers: each error's field and reason, and never an answer that grows
with the number of bad fields a body holds."""

import pytest

from shared.validation_errors import MAX_ERRORS, summarise

pytestmark = pytest.mark.unit


def unknown(key: str) -> dict:
    return {"loc": ("body", key), "msg": "Extra inputs are not permitted", "type": "extra_forbidden", "input": "x" * 500}


def test_each_error_keeps_its_field_and_reason_and_an_excerpt_of_the_input() -> None:
    long = {"loc": ("body", "nickname"), "msg": "String should have at most 20 characters", "type": "string_too_long",
            "input": "x" * 500, "ctx": {"max_length": 20}}
    assert summarise([long]) == [{**long, "loc": ["body", "nickname"], "input": "x" * 100 + "…"}]


def test_thousands_of_bad_fields_are_the_first_few_and_a_count_of_the_rest() -> None:
    summary = summarise(unknown(f"k{n}") for n in range(50_000))
    assert [e["loc"] for e in summary[:MAX_ERRORS]] == [["body", f"k{n}"] for n in range(MAX_ERRORS)]
    assert summary[MAX_ERRORS:] == [{"loc": [], "msg": f"{50_000 - MAX_ERRORS} more problems not listed", "type": "too_many_errors"}]
    # Exactly the limit: every error listed, no count.
    assert len(summarise(unknown(f"k{n}") for n in range(MAX_ERRORS))) == MAX_ERRORS


@pytest.mark.parametrize("field", ["password", "new_password", "totp_code", "refresh_token", "client_secret",
                                   "access_token", "Password", "Token", "sms_code", "code"])
def test_a_secret_is_named_but_never_echoed(field) -> None:
    error = {"loc": ("body", field), "msg": "String should have at least 12 characters", "type": "string_too_short",
             "input": "hunter2", "ctx": {"min_length": 12}}
    assert summarise([error]) == [{**error, "loc": ["body", field], "input": "(hidden)"}]
    # A rule across fields refuses the whole body: the other fields show, the secret does not.
    whole = {"loc": ("body",), "msg": "Value error, pick one", "type": "value_error",
             "input": {"login": "wang.li", field: "hunter2"}}
    (item,) = summarise([whole])
    assert "hunter2" not in str(item) and "wang.li" in str(item)


def test_a_field_not_taken_and_a_body_that_is_no_object_are_not_echoed() -> None:
    # Most often a misspelt field (`Pasword`), and a login's fields sent as a list: both could be secrets.
    assert summarise([unknown("Pasword")])[0]["input"] == "(hidden)"
    listed = {"loc": ("body",), "msg": "Input should be a valid dictionary", "type": "dict_type", "input": ["li.na", "hunter2"]}
    assert summarise([listed])[0]["input"] == "(hidden)"
    # A missing body has nothing to hide, and a field named for no secret shows its excerpt.
    missing = {"loc": ("body",), "msg": "Field required", "type": "missing", "input": None}
    assert summarise([missing])[0]["input"] is None
    limit = {"loc": ("query", "limit"), "msg": "Input should be a valid integer", "type": "int_parsing", "input": "ten"}
    assert summarise([limit])[0]["input"] == "ten"


def test_a_field_not_taken_is_not_echoed_by_the_error_of_a_field_missing_beside_it() -> None:
    # `{"logn": ..., "pasword": "hunter2"}`: "login" missing echoes the body it is missing from, and
    # that body holds the misspelt password its own error hides.
    body = {"logn": "wang.li", "pasword": "hunter2"}
    errors = [{"loc": ("body", "login"), "msg": "Field required", "type": "missing", "input": body},
              {**unknown("logn"), "input": "wang.li"}, {**unknown("pasword"), "input": "hunter2"}]
    assert "hunter2" not in str(summarise(errors)) and "pasword" in str(summarise(errors)[0]["input"])
    # Nested likewise: a till's member with a phone where only a card is taken.
    member = {"loc": ("body", "member", "card_no"), "msg": "Field required", "type": "missing",
              "input": {"phone": "13912345678"}}
    phone = {"loc": ("body", "member", "phone"), "msg": "Extra inputs are not permitted", "type": "extra_forbidden",
             "input": "13912345678"}
    assert "13912345678" not in str(summarise([member, phone]))
    # A rule across the fields of the object echoes it too.
    whole = {"loc": ("body",), "msg": "Value error, pick one", "type": "value_error", "input": body}
    assert "hunter2" not in str(summarise([whole, {**unknown("pasword"), "input": "hunter2"}]))
