"""Creating a campaign, a coupon template or a promotion once per Idempotency-Key: a double click, a
form sent again or a retry after a lost answer makes one, and is answered the one it made."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from shared.auth import Role
from tests.support.audience import T0
from tests.support.campaigns import template_body
from tests.support.factories import keyed

pytestmark = pytest.mark.integration

PROMOTION = {"title": "伊利纯牛奶 立减5元", "sku": "6907992500133", "amount_off": "5.00",
             "valid_from": T0.isoformat(), "valid_until": (T0 + timedelta(days=14)).isoformat()}


async def bodies(cmp) -> dict[str, tuple[str, dict[str, Any], dict[str, Any]]]:
    """Per kind: its path, a body, and another body (another request under the same key)."""
    template_id = await cmp.template()
    campaign = {"name": "Win them back", "kind": "triggered", "trigger": "win_back", "coupon_template_id": template_id,
                "message": {"template": "coupon_offer"}}
    return {
        "campaign": ("/v1/campaigns", campaign, {**campaign, "name": "Win them back again"}),
        "coupon_template": ("/v1/coupon-templates", template_body(name="满200减50"), template_body(name="满200减50", amount="40")),
        "promotion": ("/v1/promotions", PROMOTION, {**PROMOTION, "amount_off": "6.00"}),
    }


async def ids_listed(cmp, path: str) -> list[str]:
    r = await cmp.client.get(path, headers=cmp.marketing())
    assert r.status_code == 200, r.text
    return [made["id"] for made in r.json()]


@pytest.mark.parametrize("kind", ["campaign", "coupon_template", "promotion"])
async def test_a_create_sent_again_with_its_key_answers_what_the_first_made(cmp, kind) -> None:
    path, body, other = (await bodies(cmp))[kind]
    before = await ids_listed(cmp, path)
    headers = keyed(cmp.marketing(), "form-0001-made-when-shown")
    first = await cmp.client.post(path, json=body, headers=headers)
    again = await cmp.client.post(path, json=body, headers=headers)
    # The retry answers 200, as every service answers a retry under its key.
    assert (first.status_code, again.status_code) == (201, 200), (first.text, again.text)
    assert again.json() == first.json()
    made = first.json()["id"]
    assert sorted(await ids_listed(cmp, path)) == sorted([made, *before])
    # The key stands for one intended thing: with another body it is refused, not answered with the first.
    r = await cmp.client.post(path, json=other, headers=headers)
    assert r.status_code == 409, r.text
    assert r.json()["detail"] == (f"Idempotency-Key form-0001-made-when-shown was already used for a different "
                                  f"{kind.replace('_', ' ')}; a new {kind.replace('_', ' ')} needs a new key")
    # Keys are per caller: an admin's request under the same key is a request of its own.
    r = await cmp.client.post(path, json=body, headers=keyed(cmp.env.auth(Role.ADMIN), "form-0001-made-when-shown"))
    assert r.status_code == 201 and r.json()["id"] != made, r.text
    assert len(await ids_listed(cmp, path)) == len(before) + 2


async def test_a_create_without_a_key_or_with_a_bad_one_is_422_naming_the_header(cmp) -> None:
    for path, body, _ in (await bodies(cmp)).values():
        before = await ids_listed(cmp, path)
        for headers in (cmp.marketing(), keyed(cmp.marketing(), "short")):
            r = await cmp.client.post(path, json=body, headers=headers)
            assert r.status_code == 422, (path, r.text)
            [error] = r.json()["detail"]
            assert error["loc"] == ["header", "Idempotency-Key"], (path, error)
        assert await ids_listed(cmp, path) == before


async def test_the_key_of_one_create_is_refused_for_another_kind_of_thing(cmp) -> None:
    made = await bodies(cmp)
    headers = keyed(cmp.marketing())
    path, body, _ = made["coupon_template"]
    assert (await cmp.client.post(path, json=body, headers=headers)).status_code == 201
    campaigns_before = await ids_listed(cmp, "/v1/campaigns")
    path, body, _ = made["campaign"]
    r = await cmp.client.post(path, json=body, headers=headers)
    assert r.status_code == 409 and "was already used for another request (a coupon template)" in r.json()["detail"], r.text
    assert await ids_listed(cmp, "/v1/campaigns") == campaigns_before


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite runs one writer at a time
@pytest.mark.parametrize("kind", ["campaign", "coupon_template", "generic_code", "promotion"])
async def test_one_create_sent_several_times_at_once_makes_one(cmp, kind) -> None:
    # A double click: the requests all find the key free before any is written.
    if kind == "generic_code":  # a template's code is unique too: the retries must not clash on it
        path, body = "/v1/coupon-templates", template_body(name="冬季", generic_code="WINTER20")
    else:
        path, body, _ = (await bodies(cmp))[kind]
    before = await ids_listed(cmp, path)
    headers = keyed(cmp.marketing())
    answers = await asyncio.gather(*(cmp.client.post(path, json=body, headers=headers) for _ in range(6)))
    # One made it (201); the others are answered as retries (200).
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert sorted(await ids_listed(cmp, path)) == sorted([answers[0].json()["id"], *before])
