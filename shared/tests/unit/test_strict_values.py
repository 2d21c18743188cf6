"""Booleans and dates that book something real are taken only as JSON writes them (`shared.strict`)."""

from datetime import date, datetime

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from shared.strict import StrictBool, StrictDate


class Answer(BaseModel):
    granted: StrictBool
    maybe: StrictBool | None = None
    birthday: StrictDate | None = None


@pytest.mark.parametrize("value", ["yes", "true", "on", "1", 1, 0, 1.0, "", []])
def test_only_json_true_or_false_is_a_boolean(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        Answer(granted=value)
    [error] = exc.value.errors()
    assert error["loc"] == ("granted",) and "must be true or false" in error["msg"]


def test_true_false_and_an_optional_null_are_taken() -> None:
    assert Answer(granted=True).granted is True and Answer(granted=False).granted is False
    assert Answer(granted=True, maybe=None).maybe is None
    with pytest.raises(ValidationError, match="maybe"):
        Answer(granted=True, maybe="no")


@pytest.mark.parametrize("value", [0, "0", 1e9, "1990-01-01T00:00:00", "19900101", "1990-1-1", "１９９０-01-01",
                                   datetime(1990, 1, 1), b"1990-01-01"])
def test_only_an_iso_date_string_is_a_date(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        Answer(granted=True, birthday=value)
    [error] = exc.value.errors()
    assert error["loc"] == ("birthday",) and "YYYY-MM-DD" in error["msg"]


@pytest.mark.parametrize("value", ["1990-02-30", "0000-01-01", "1990-13-01"])
def test_a_date_shaped_string_must_still_be_a_real_day(value: str) -> None:
    with pytest.raises(ValidationError, match="birthday"):
        Answer(granted=True, birthday=value)


def test_iso_dates_and_python_dates_are_taken() -> None:
    assert Answer(granted=True, birthday="1990-05-17").birthday == date(1990, 5, 17)
    # A model built from another model's values (the app's sign-up copied into a registration).
    assert Answer(granted=True, birthday=date(1990, 5, 17)).birthday == date(1990, 5, 17)


async def test_a_request_body_with_yes_or_0_is_a_422_naming_the_field() -> None:
    app = FastAPI()

    @app.post("/answers")
    async def answer(body: Answer) -> dict[str, object]:
        return body.model_dump(mode="json")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        ok = await client.post("/answers", json={"granted": False, "birthday": "1990-05-17"})
        assert ok.status_code == 200 and ok.json() == {"granted": False, "maybe": None, "birthday": "1990-05-17"}
        yes = await client.post("/answers", json={"granted": "yes"})
        zero = await client.post("/answers", json={"granted": True, "birthday": 0})
    assert yes.status_code == 422 and yes.json()["detail"][0]["loc"] == ["body", "granted"]
    assert zero.status_code == 422 and zero.json()["detail"][0]["loc"] == ["body", "birthday"]
