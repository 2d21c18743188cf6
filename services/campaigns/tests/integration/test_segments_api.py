"""Saved segments and previews through the app, on SQLite and PostgreSQL, with the access policy."""

import asyncio
from datetime import timedelta

import pytest

from campaigns.domain.segments import SegmentRule
from campaigns.service_layer import segments
from shared.auth import Role
from shared.policy import POLICY
from tests.support.audience import T0, attributes, consent, erased, registered, sale

pytestmark = pytest.mark.integration

KEY_AT_RISK = {
    "and": [
        {"field": "value_class", "op": "in", "value": ["key"]},
        {"field": "churn_risk", "op": "in", "value": ["high", "lost"]},
        {"field": "community", "op": "in", "value": ["C1"]},
    ]
}


async def seed(cmp) -> None:
    await cmp.apply(
        registered("m-1"), attributes("m-1", value_class="key", churn_risk="high", community_id="C1"),
        registered("m-2"), attributes("m-2", value_class="key", churn_risk="lost", community_id="C1"),
        registered("m-3"), attributes("m-3", value_class="key", churn_risk="low", community_id="C1"),
        registered("m-4"), attributes("m-4", value_class="key", churn_risk="high", community_id="C2"),
        registered("m-5"), attributes("m-5", value_class="key", churn_risk="high", community_id="C1"),
        consent("m-1", "marketing_sms", True), consent("m-2", "marketing_sms", False),
    )
    await cmp.apply(erased("m-5", at=T0 + timedelta(hours=1)))


async def test_marketing_saves_previews_changes_and_archives_a_segment(cmp) -> None:
    await seed(cmp)
    h = cmp.marketing()
    r = await cmp.client.post("/v1/segments", json={"name": "Key at risk, C1", "rule": KEY_AT_RISK}, headers=h)
    assert r.status_code == 201, r.text
    segment = r.json()
    assert (segment["status"], segment["version"], segment["created_by"]) == ("active", 1, "test-marketing")
    assert SegmentRule.from_json(segment["rule"]) == SegmentRule.from_json(KEY_AT_RISK)

    r = await cmp.client.get(f"/v1/segments/{segment['id']}/preview", headers=h)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["size"] == 2  # m-5 is erased, m-3 is not at risk, m-4 lives elsewhere
    assert preview["sample"] == [
        {"member_id": m, "tier": "member", "value_class": "key", "churn_risk": risk, "community_id": "C1", "home_store_id": "S001"}
        for m, risk in (("m-1", "high"), ("m-2", "lost"))
    ]

    # The same name twice is refused; a change bumps the version.
    r = await cmp.client.post("/v1/segments", json={"name": "Key at risk, C1", "rule": KEY_AT_RISK}, headers=h)
    assert r.status_code == 409 and "name" in r.json()["detail"]
    wider = {"and": [KEY_AT_RISK["and"][0], KEY_AT_RISK["and"][1]]}
    r = await cmp.client.put(f"/v1/segments/{segment['id']}", json={"name": "Key at risk", "description": "all communities",
                                                                      "rule": wider}, headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["name"]) == (2, "Key at risk")
    r = await cmp.client.get(f"/v1/segments/{segment['id']}/preview", headers=h)
    assert r.json()["size"] == 3

    r = await cmp.client.get("/v1/segments", headers=h)
    assert [s["id"] for s in r.json()] == [segment["id"]]
    r = await cmp.client.delete(f"/v1/segments/{segment['id']}", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "archived"
    assert (await cmp.client.get("/v1/segments", headers=h)).json() == []
    archived = (await cmp.client.get("/v1/segments?include_archived=true", headers=h)).json()
    assert [s["status"] for s in archived] == ["archived"]
    r = await cmp.client.put(f"/v1/segments/{segment['id']}", json={"name": "x", "rule": wider}, headers=h)
    assert r.status_code == 409
    # Its name is free again for a new segment.
    r = await cmp.client.post("/v1/segments", json={"name": "Key at risk", "rule": wider}, headers=h)
    assert r.status_code == 201


async def test_a_save_sent_again_under_its_key_answers_the_segment_it_saved(cmp) -> None:
    h = cmp.marketing()
    keyed = {**h, "Idempotency-Key": "segment-form-0001"}
    first = await cmp.client.post("/v1/segments", json={"name": "Key at risk, C1", "rule": KEY_AT_RISK}, headers=keyed)
    again = await cmp.client.post("/v1/segments", json={"name": "Key at risk, C1", "rule": KEY_AT_RISK}, headers=keyed)

    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    assert [s["id"] for s in (await cmp.client.get("/v1/segments", headers=h)).json()] == [first.json()["id"]]
    # The key with another segment is refused, and a new key for the same name meets the name taken.
    other = await cmp.client.post("/v1/segments", json={"name": "Key at risk, C2", "rule": KEY_AT_RISK}, headers=keyed)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    same_name = await cmp.client.post("/v1/segments", json={"name": "Key at risk, C1", "rule": KEY_AT_RISK},
                                      headers={**h, "Idempotency-Key": "segment-form-0002"})
    assert same_name.status_code == 409 and "name" in same_name.json()["detail"]


async def test_unknown_segment_is_404(cmp) -> None:
    for method, path in (("GET", "/v1/segments/nope"), ("GET", "/v1/segments/nope/preview"), ("DELETE", "/v1/segments/nope")):
        r = await cmp.client.request(method, path, headers=cmp.marketing())
        assert r.status_code == 404, (method, path, r.text)


@pytest.mark.parametrize(("rule", "loc", "msg"), [
    ({"field": "favourite_colour", "op": "in", "value": ["red"]}, ["field"],
     "Input should be 'tier', 'value_class', 'churn_risk', 'community', 'home_store', 'channel', 'birth_month', 'recency', "
     "'frequency', 'monetary', 'days_since_last_purchase', 'lifetime_spend', 'categories_bought' or 'marketing_consent'"),
    ({"field": "churn_risk", "op": "gte", "value": ["high"]}, ["op"], "Input should be 'in' or 'not_in'"),
    ({"field": "churn_risk", "op": "in", "value": ["very high"]}, ["value", 0], "Input should be 'low', 'medium', 'high', 'lost' or 'unknown'"),
    ({"field": "categories_bought", "categories": ["fresh"], "days": 99999}, ["days"], "Input should be less than or equal to 3660"),
    # Both shapes a comparison's value may have were tried: one refusal, of the one its operator takes.
    ({"and": [{"field": "lifetime_spend", "op": "between", "value": ["100.5", "abc"]}]}, ["and", 0, "value", 1],
     "Input should be a valid decimal"),
    ({"field": "recency", "op": "gt", "value": 7}, ["value"], "Input should be less than or equal to 5"),
    ({"or": [{"field": "tier", "op": "in", "value": ["vip"]}, {"not": {"field": "recency", "op": "lt", "value": [1, 2]}}]},
     ["or", 1, "not", "value"], "Value error, lt takes one value, not a list"),
])
async def test_bad_rules_are_422_once_at_the_place_in_the_rule_as_sent(cmp, rule, loc, msg) -> None:
    for path in ("/v1/segments/preview", "/v1/segments"):
        body = {"rule": rule} if path.endswith("preview") else {"name": "n", "rule": rule}
        r = await cmp.client.post(path, json=body, headers=cmp.marketing())
        assert r.status_code == 422, r.text
        [error] = r.json()["detail"]
        assert (error["loc"], error["msg"]) == (["body", "rule", *loc], msg), error


async def test_a_rule_too_deep_or_too_large_is_422_before_it_is_parsed(cmp) -> None:
    deep: dict = {"field": "tier", "op": "in", "value": ["vip"]}
    for _ in range(500):
        deep = {"not": deep}
    r = await cmp.client.post("/v1/segments/preview", json={"rule": deep}, headers=cmp.marketing())
    assert r.status_code == 422 and "nested deeper" in r.text
    wide = {"or": [{"field": "tier", "op": "in", "value": ["vip"]}] * 1000}
    r = await cmp.client.post("/v1/segments/preview", json={"rule": wide}, headers=cmp.marketing())
    assert r.status_code == 422 and "more than" in r.text


async def test_the_audience_for_a_campaign_respects_erasure_and_consent(cmp) -> None:
    await seed(cmp)
    await cmp.apply(sale("m-1", [("fresh", "10.00")]))
    rule = SegmentRule.from_json(KEY_AT_RISK)
    async with cmp.app.state.commands() as uow:
        assert await segments.audience(uow, rule, cmp.clock()) == ["m-1", "m-2"]
        assert await segments.audience(uow, rule, cmp.clock(), consent="sms") == ["m-1"]
        assert await segments.audience(uow, rule, cmp.clock(), consent="email") == []


ROLES_ALLOWED = {"campaigns.segment.read": {Role.MARKETING, Role.ADMIN}, "campaigns.segment.write": {Role.MARKETING, Role.ADMIN}}


async def test_only_marketing_and_admins_work_with_segments(cmp) -> None:
    assert {a: set(POLICY[a]) for a in ROLES_ALLOWED} == ROLES_ALLOWED
    claims = {Role.SERVICE_DESK: {"store_id": "S001"}, Role.STORE_MANAGER: {"store_id": "S001"},
              Role.POS: {"store_id": "S001"}, Role.MEMBER: {"member_id": "m-1"}}
    for role in Role:
        h = cmp.env.auth(role, **claims.get(role, {}))
        answers = [
            (await cmp.client.post("/v1/segments/preview", json={"rule": KEY_AT_RISK}, headers=h)).status_code,
            (await cmp.client.get("/v1/segments", headers=h)).status_code,
            (await cmp.client.post("/v1/segments", json={"name": f"by {role.value}", "rule": KEY_AT_RISK}, headers=h)).status_code,
        ]
        expected = [200, 200, 201] if role in (Role.MARKETING, Role.ADMIN) else [403, 403, 403]
        assert answers == expected, role
    assert (await cmp.client.get("/v1/segments")).status_code == 401


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite runs one writer at a time
async def test_a_segment_saved_twice_at_once_is_one_segment_and_changes_at_once_each_count(cmp) -> None:
    # A double click on save: both requests find the name free before either is written.
    h = cmp.marketing()
    answers = await asyncio.gather(*(
        cmp.client.post("/v1/segments", json={"name": "Key at risk, C1", "rule": KEY_AT_RISK}, headers=h) for _ in range(6)))
    assert sorted(r.status_code for r in answers) == [201] + [409] * 5, [r.text for r in answers]
    assert all("name" in r.json()["detail"] for r in answers if r.status_code == 409)
    [saved] = (await cmp.client.get("/v1/segments", headers=h)).json()
    # Two desks changing it at once: each change is a version of its own, none is lost.
    changes = await asyncio.gather(*(
        cmp.client.put(f"/v1/segments/{saved['id']}", json={"name": "Key at risk, C1", "description": f"change {n}",
                                                           "rule": KEY_AT_RISK}, headers=h) for n in range(4)))
    assert all(r.status_code == 200 for r in changes), [r.text for r in changes]
    assert sorted(r.json()["version"] for r in changes) == [2, 3, 4, 5]
