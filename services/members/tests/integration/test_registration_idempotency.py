"""Registration with an Idempotency-Key: a retry returns the member it registered."""

import pytest

from tests.support.factories import member_body
from tests.support.members import desk
from tests.support.platform import TestEnv

pytestmark = pytest.mark.integration


async def test_a_retry_with_the_same_key_and_body_returns_the_same_member(members, env: TestEnv) -> None:
    body, headers = member_body(), {**desk(env), "Idempotency-Key": "reg-7f3a9c21"}
    first = await members.post("/v1/members", json=body, headers=headers)
    again = await members.post("/v1/members", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    found = await members.get(f"/v1/members?phone={body['phone']}", headers=desk(env))
    assert found.json()["total"] == 1


async def test_the_same_key_for_another_registration_is_409(members, env: TestEnv) -> None:
    headers = {**desk(env), "Idempotency-Key": "reg-0b5e44d2"}
    assert (await members.post("/v1/members", json=member_body(), headers=headers)).status_code == 201
    r = await members.post("/v1/members", json=member_body(), headers=headers)
    assert r.status_code == 409 and "Idempotency-Key" in r.json()["detail"]


async def test_without_a_key_a_second_registration_of_a_phone_is_still_409(members, env: TestEnv) -> None:
    body = member_body()
    assert (await members.post("/v1/members", json=body, headers=desk(env))).status_code == 201
    assert (await members.post("/v1/members", json=body, headers=desk(env))).status_code == 409


async def test_a_key_shorter_than_8_characters_is_422(members, env: TestEnv) -> None:
    r = await members.post("/v1/members", json=member_body(), headers={**desk(env), "Idempotency-Key": "short"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
