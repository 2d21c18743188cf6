"""The shared input types: one home for each rule about what a client may send."""

from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from shared.idempotency import OptionalIdempotencyKey, is_idempotency_key
from shared.identifiers import RecordId
from shared.integers import INT64_MAX, Int64
from shared.money import Money, PositiveMoney, Quantity, Rate
from shared.text import NonBlankText, Text, stripped_not_blank
from shared.zones import TimeZoneName


class Body(BaseModel):
    name: Text = ""
    record: RecordId = "r-1"
    count: Int64 = 0
    amount: Money = Decimal("0")
    qty: Quantity = Decimal("1")
    rate: Rate = Decimal("1")


# The C1 controls (U+0080-U+009F) too: U+009B opens a terminal escape as ESC [ does.
@pytest.mark.parametrize("name", ["王\x00小明", "\x00", "a\x1bb", "x\ud800", "\udfff", "a\x9b31mRED", "\x80", "line\x85next"])
def test_text_refuses_nul_control_characters_and_lone_surrogates(name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Body(name=name)
    [error] = exc.value.errors()
    assert error["loc"] == ("name",) and "must not contain" in error["msg"]


@pytest.mark.parametrize("name", ["\u202e1234", "王\u202d小明", "a\u2066b\u2069"])
def test_text_refuses_controls_that_reorder_what_staff_read(name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Body(name=name)
    [error] = exc.value.errors()
    assert error["loc"] == ("name",) and "text-direction control U+" in error["msg"]


@pytest.mark.parametrize(("record", "why"), [("", "at least 1"), ("x" * 37, "at most 36"), ("m\x00", "U+0000")])
def test_a_record_id_is_1_to_36_characters_without_control_characters(record: str, why: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Body(record=record)
    [error] = exc.value.errors()
    assert error["loc"] == ("record",) and why in error["msg"]


@pytest.mark.parametrize("name", ["王小明", "line one\nline two\ttab", "emoji 😀 ok", "金龙鱼大米 5kg", "family 👨\u200d👩\u200d👧"])
def test_text_keeps_ordinary_unicode(name: str) -> None:
    assert Body(name=name).name == name


class Titled(BaseModel):
    title: NonBlankText


@pytest.mark.parametrize("title", ["", "   ", "\u3000", "\u200b", "\u200b\u200c\u200d", "\ufeff \u2060"])
def test_a_name_of_spaces_or_invisible_characters_alone_is_blank(title: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Titled(title=title)
    [error] = exc.value.errors()
    assert error["loc"] == ("title",) and "must not be blank" in error["msg"]
    with pytest.raises(ValueError, match="must not be blank"):
        stripped_not_blank(title)


@pytest.mark.parametrize("title", ["王小明", " 王\u200b小明 ", "family 👨\u200d👩\u200d👧"])
def test_a_name_with_something_visible_is_kept_stripped(title: str) -> None:
    assert Titled(title=title).title == title.strip() == stripped_not_blank(title)


@pytest.mark.parametrize("count", [INT64_MAX + 1, -(2**63) - 1, 99999999999999999999999])
def test_integers_beyond_64_bits_are_refused(count: int) -> None:
    with pytest.raises(ValidationError, match="count"):
        Body(count=count)


def test_integers_at_the_64_bit_bounds_are_accepted() -> None:
    assert Body(count=INT64_MAX).count == INT64_MAX


@pytest.mark.parametrize("field", ["amount", "qty", "rate"])
@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_amounts_quantities_and_rates_refuse_non_finite_and_huge_json_numbers(field: str, raw: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Body.model_validate_json(f'{{"{field}": {raw}}}')
    assert exc.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize("raw", ['"1e309"', '"123456789.5"', '"0.00001"'])
def test_a_rate_needs_at_most_4_integer_digits_and_4_decimals(raw: str) -> None:
    with pytest.raises(ValidationError, match="rate"):
        Body.model_validate_json(f'{{"rate": {raw}}}')


@pytest.mark.parametrize(("field", "raw", "places"), [
    ("amount", "0.30000000000000004", 2), ("amount", "79.999", 2), ("qty", "0.30000000000000004", 3),
    ("rate", "1.00001", 4), ("amount", '"0.30000000000000004"', 2),
])
def test_a_float_artefact_is_refused_for_its_decimals_not_for_its_length(field: str, raw: str, places: int) -> None:
    with pytest.raises(ValidationError) as exc:
        Body.model_validate_json(f'{{"{field}": {raw}}}')
    [error] = exc.value.errors()
    assert error["type"] == "decimal_max_places" and error["ctx"] == {"decimal_places": places}
    assert error["msg"] == f"Decimal input should have no more than {places} decimal places"


def test_trailing_zeros_and_exponents_are_no_decimals_and_length_is_still_counted() -> None:
    assert Body.model_validate_json('{"amount": "79.8000", "qty": 2.5000, "rate": "1E+1"}').amount == Decimal("79.80")
    with pytest.raises(ValidationError, match="no more than 14 digits in total"):
        Body.model_validate_json('{"amount": 100000000000000000}')


class Price(BaseModel):
    price: PositiveMoney


@pytest.mark.parametrize("raw", ["-1", "0", "-0.00", "0.00"])
def test_a_positive_amount_refuses_nothing_and_less_as_not_greater_than_zero(raw: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Price(price=raw)
    [error] = exc.value.errors()
    assert error["type"] == "greater_than" and error["msg"] == "Input should be greater than 0"


def test_a_positive_amount_is_money_otherwise() -> None:
    assert Price(price="12.3").price == Decimal("12.30")
    with pytest.raises(ValidationError, match="no more than 2 decimal places"):
        Price(price="0.001")
    with pytest.raises(ValidationError, match="valid decimal"):
        Price(price="1_000")


def test_a_fields_own_bounds_still_apply_on_top_of_int64() -> None:
    from pydantic import Field

    class Compensation(BaseModel):
        points: Int64 = Field(default=0, ge=0)

    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Compensation(points=-1)


@pytest.mark.parametrize("key", ["short", "x" * 201, "key-0001\r\nX-Evil: 1", "key-0001\n", "钥匙钥匙钥匙钥匙", "key\x00-0001"])
def test_an_idempotency_key_is_8_to_200_printable_ascii_characters(key: str) -> None:
    assert not is_idempotency_key(key)


@pytest.mark.parametrize("key", ["reg-0001-abcdef", "x" * 200, "3f2b9c1e-0d4a-4b8e-9f6a-2c7d1e5b8a90", "desk key 0001"])
def test_ordinary_idempotency_keys_are_accepted(key: str) -> None:
    assert is_idempotency_key(key)


async def test_the_header_refuses_a_key_the_shared_rule_refuses() -> None:
    app = FastAPI()

    @app.post("/things")
    async def create(key: OptionalIdempotencyKey = None) -> dict[str, str | None]:
        return {"key": key}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        accepted = await client.post("/things", headers={"Idempotency-Key": "reg-0001-abcdef"})
        assert accepted.json() == {"key": "reg-0001-abcdef"}
        assert (await client.post("/things")).json() == {"key": None}
        refused = await client.post("/things", headers={"Idempotency-Key": "short"})
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


class Zoned(BaseModel):
    zone: TimeZoneName


@pytest.mark.parametrize("zone", ["Asia/Shangai", "Asia", "", "../etc/passwd", "/etc/localtime", "UTC\x00", "x" * 65])
def test_a_time_zone_is_a_name_of_the_iana_database(zone: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Zoned(zone=zone)
    [error] = exc.value.errors()
    assert error["loc"] == ("zone",)
    assert Zoned(zone="Asia/Shanghai").zone == "Asia/Shanghai"
