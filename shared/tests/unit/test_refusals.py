"""The one mapping of service-layer refusals to HTTP answers that `build_service_app` gives every
service: routes raise, never catch."""

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from shared.errors import (
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    InvalidBodyField,
    NotFound,
    ServiceError,
    TooManyRequests,
)
from shared.service import ServiceSpec, build_service_app
from shared.settings import ServiceSettings


class NoSuchGift(NotFound):
    """A refusal named for its case, as services declare them."""


REFUSALS: dict[str, ServiceError] = {
    "not-found": NoSuchGift("no gift G1"),
    "conflict": Conflict("the gift is retired"),
    "forbidden": Forbidden("not your store"),
    "gone": Gone("this link expired on 2026-01-01T00:00+00:00"),
    "too-many": TooManyRequests("slow down"),
    "invalid": Invalid("quantity", "must be positive"),
    "invalid-body-field": InvalidBodyField("store_id", "unknown or inactive store S9"),
}


def make_app() -> FastAPI:
    router = APIRouter()

    @router.get("/refuse/{case}")
    async def refuse(case: str) -> None:
        raise REFUSALS[case]

    return build_service_app(ServiceSettings(environment="test"), ServiceSpec("t", "t", [router], migrations=Path(".")))


async def answer(case: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app()), base_url="http://test") as c:
        return await c.get(f"/refuse/{case}")


@pytest.mark.parametrize(
    ("case", "status", "detail"),
    [
        ("not-found", 404, "no gift G1"),
        ("conflict", 409, "the gift is retired"),
        ("forbidden", 403, "not your store"),
        ("gone", 410, "this link expired on 2026-01-01T00:00+00:00"),
        ("too-many", 429, "slow down"),
        ("invalid", 422, "quantity: must be positive"),
    ],
)
async def test_each_refusal_is_its_status_with_the_message_as_detail(case: str, status: int, detail: str) -> None:
    r = await answer(case)
    assert r.status_code == status
    assert r.json() == {"detail": detail}


async def test_an_invalid_body_field_answers_in_the_shape_of_request_validation() -> None:
    r = await answer("invalid-body-field")
    assert r.status_code == 422
    assert r.json() == {"detail": [
        {"loc": ["body", "store_id"], "msg": "unknown or inactive store S9", "type": "value_error", "input": None},
    ]}


def test_an_invalid_body_field_is_still_an_invalid_naming_its_field() -> None:
    refusal = InvalidBodyField("amount", "exceeds what is left")
    assert isinstance(refusal, Invalid) and refusal.field == "amount" and refusal.message == "exceeds what is left"
    assert str(refusal) == "amount: exceeds what is left"
