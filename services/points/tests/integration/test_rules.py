"""Earning rule versions (admin, audited, effective dates) and the basket preview."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from shared.auth import Role

pytestmark = pytest.mark.integration


def rule(effective_from: datetime, **fields) -> dict:
    return {"effective_from": effective_from.isoformat(), "reason": "new season rules", **fields}


async def test_admins_add_versions_that_are_listed_with_who_and_why(pts, env) -> None:
    start = datetime.now(UTC) + timedelta(hours=1)
    r = await pts.client.post("/v1/earning-rules", json=rule(start, excluded_categories=["tobacco"], channel_rates={"partner": "1.5"},
                                                              min_sale_amount="5.00"), headers=env.auth(Role.ADMIN))
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and r.json()["category_multipliers"] == {"tobacco": "0"}
    listed = (await pts.client.get("/v1/earning-rules", headers=env.auth(Role.STORE_MANAGER))).json()
    assert [(v["version"], v["created_by"]) for v in listed] == [(1, "system"), (2, "test-admin")]
    assert listed[1]["reason"] == "new season rules" and listed[1]["min_sale_amount"] == "5.00"


async def test_only_admins_change_rules_and_never_into_the_past(pts, env) -> None:
    future = rule(datetime.now(UTC) + timedelta(days=1))
    assert (await pts.client.post("/v1/earning-rules", json=future, headers=env.auth(Role.STORE_MANAGER))).status_code == 403
    past = await pts.client.post("/v1/earning-rules", json=rule(datetime.now(UTC) - timedelta(days=1)), headers=env.auth(Role.ADMIN))
    assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body", "effective_from"]
    bad = await pts.client.post("/v1/earning-rules", json=rule(datetime.now(UTC) + timedelta(days=1), store_rates={"S001": "0"}),
                                headers=env.auth(Role.ADMIN))
    assert bad.status_code == 422 and "store_rates.S001" in bad.text
    no_reason = {k: v for k, v in future.items() if k != "reason"}
    assert (await pts.client.post("/v1/earning-rules", json=no_reason, headers=env.auth(Role.ADMIN))).status_code == 422


@pytest.mark.parametrize(("change", "says"), [
    ({"points_per_yuan": "1000"}, "points_per_yuan"),  # a mistyped rate, in force at once
    ({"points_per_yuan": "-1"}, "Input should be greater than 0"),  # the rule's bound, not a rate's "or equal"
    ({"points_per_yuan": "0"}, "Input should be greater than 0"),
    ({"category_multipliers": {"": "2"}}, "category_multipliers"),  # would multiply every uncategorised line
    ({"excluded_categories": ["  "]}, "excluded_categories"),
    ({"store_rates": {"S 1": "2"}}, "store_rates"),
    ({"category_multipliers": {"tobacco": "3"}, "excluded_categories": ["tobacco"]}, "tobacco also in excluded_categories"),
])
async def test_a_rule_that_would_not_do_what_it_says_is_422_naming_the_field(pts, env, change, says) -> None:
    r = await pts.client.post("/v1/earning-rules", json=rule(datetime.now(UTC) + timedelta(days=1), **change), headers=env.auth(Role.ADMIN))
    assert r.status_code == 422 and says in r.text, r.text


async def test_a_late_sale_earns_by_the_rules_of_its_own_time(pts, env) -> None:
    switch = datetime.now(UTC)
    r = await pts.client.post("/v1/earning-rules", json=rule(switch, points_per_yuan="2"), headers=env.auth(Role.ADMIN))
    assert r.status_code == 201, r.text
    before = pts.sale("late1", "100.00", at=switch - timedelta(hours=2))  # made before, arrives after the switch
    after = pts.sale("late1", "100.00", at=switch + timedelta(seconds=1))
    await pts.apply(after, before)
    assert await pts.balance("late1") == 100 + 200


async def test_a_rule_from_a_moment_just_past_starts_now_so_sales_of_those_minutes_keep_one_version(clocked, env) -> None:
    pts, clock = clocked
    now = clock.now
    booked = pts.sale("skew1", "100.00", at=now - timedelta(minutes=1))
    await pts.apply(booked)
    # An admin's screen a few minutes slow: within the tolerance, but the start is the server's now.
    r = await pts.client.post("/v1/earning-rules", json=rule(now - timedelta(minutes=3), points_per_yuan="2"),
                              headers=env.auth(Role.ADMIN))
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["effective_from"]) == now
    # A sale of the same minute arriving later (a till's backlog) earns as the one booked already.
    late = pts.sale("skew1", "100.00", at=now - timedelta(seconds=30))
    await pts.apply(late, pts.sale("skew1", "100.00", at=now + timedelta(seconds=1)))
    assert await pts.balance("skew1") == 100 + 100 + 200


async def test_preview_tells_a_till_what_a_basket_earns_and_books_nothing(pts, env) -> None:
    await pts.apply(pts.registered("p1", channel="partner", card_no="8800000099999"))
    r = await pts.client.post("/v1/earning-rules", json=rule(datetime.now(UTC), channel_rates={"partner": "1.5"},
                                                              excluded_categories=["tobacco"]), headers=env.auth(Role.ADMIN))
    assert r.status_code == 201
    basket = {"store_id": "S001", "lines": [{"category": "tobacco", "amount": "100.00"}, {"category": "grain", "amount": "20.50"}]}
    pos = env.auth(Role.POS, store_id="S001")
    anonymous = (await pts.client.post("/v1/earning/preview", json=basket, headers=pos)).json()
    assert (anonymous["points"], anonymous["channel"], anonymous["member_known"]) == (20, "retail", False)
    carded = (await pts.client.post("/v1/earning/preview", json={**basket, "card_no": "8800000099999"}, headers=pos)).json()
    assert (carded["points"], carded["channel"], carded["member_known"], carded["rule_version"]) == (30, "partner", True, 2)
    assert (await pts.account("p1"))["entries"] == []
    other_store = await pts.client.post("/v1/earning/preview", json={**basket, "store_id": "S002"}, headers=pos)
    assert other_store.status_code == 403
    bad = await pts.client.post("/v1/earning/preview", json={"store_id": "S001", "lines": [{"amount": "-1"}]}, headers=pos)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][:2] == ["body", "lines"]
    # The sale will earn on what is paid: the preview takes its discounts off first (20.50 eligible
    # of 120.50, with 60.25 off: 10.25 earning, at 1.5 for the partner's card).
    discounted = (await pts.client.post("/v1/earning/preview", json={**basket, "card_no": "8800000099999", "discount": "60.25"},
                                        headers=pos)).json()
    assert discounted["points"] == 15
    too_much = await pts.client.post("/v1/earning/preview", json={**basket, "discount": "120.51"}, headers=pos)
    assert too_much.status_code == 422 and "discount: 120.51 exceeds the basket's 120.50" in too_much.text


async def test_preview_by_the_member_a_till_found_by_phone_answers_as_by_their_card(pts, env) -> None:
    # Points keeps no phones: the gateway asks members whose phone it is and sends the member.
    await pts.apply(pts.registered("p2", channel="partner", card_no="8800000099998"))
    basket = {"store_id": "S001", "lines": [{"category": "grain", "amount": "20.50"}]}
    pos = env.auth(Role.POS, store_id="S001")
    by_card = (await pts.client.post("/v1/earning/preview", json={**basket, "card_no": "8800000099998"}, headers=pos)).json()
    by_member = (await pts.client.post("/v1/earning/preview", json={**basket, "member_id": "p2"}, headers=pos)).json()
    assert by_member == by_card and (by_member["channel"], by_member["member_known"]) == ("partner", True)
    assert "p2" not in str(by_member)  # the till hears no member id
    # A member points has no account for yet (registered a moment ago) is not known yet, as a new card is.
    newcomer = (await pts.client.post("/v1/earning/preview", json={**basket, "member_id": "p-new"}, headers=pos)).json()
    assert (newcomer["channel"], newcomer["member_known"]) == ("retail", False)
    both = await pts.client.post("/v1/earning/preview", json={**basket, "card_no": "8800000099998", "member_id": "p2"}, headers=pos)
    assert both.status_code == 422 and "give card_no or member_id, not both" in both.text


async def test_rules_added_at_the_same_moment_take_versions_in_turn(pts, env) -> None:
    start = datetime.now(UTC) + timedelta(days=2)
    answers = await asyncio.gather(*(
        pts.client.post("/v1/earning-rules", json=rule(start + timedelta(hours=n)), headers=env.auth(Role.ADMIN))
        for n in range(4)
    ))
    assert [r.status_code for r in answers] == [201] * 4, [r.text for r in answers]
    assert sorted(r.json()["version"] for r in answers) == [2, 3, 4, 5]


async def test_a_rule_sent_again_under_its_key_adds_one_version(pts, env) -> None:
    admin = env.auth(Role.ADMIN)
    body = {"points_per_yuan": "2", "reason": "double points week"}  # no start: from now
    first = await pts.client.post("/v1/earning-rules", json=body, headers={**admin, "Idempotency-Key": "rule-form-0001"})
    assert first.status_code == 201, first.text
    assert datetime.fromisoformat(first.json()["effective_from"]) <= datetime.now(UTC)
    again = await pts.client.post("/v1/earning-rules", json=body, headers={**admin, "Idempotency-Key": "rule-form-0001"})
    assert again.status_code == 200 and again.json() == first.json()
    other = await pts.client.post("/v1/earning-rules", json={**body, "points_per_yuan": "3"},
                                  headers={**admin, "Idempotency-Key": "rule-form-0001"})
    assert other.status_code == 409 and "another rule" in other.text
    listed = (await pts.client.get("/v1/earning-rules", headers=admin)).json()
    assert [v["version"] for v in listed] == [1, 2]
    # Without a key each request adds a version, as before.
    assert (await pts.client.post("/v1/earning-rules", json=body, headers=admin)).json()["version"] == 3


async def test_concurrent_retries_under_one_key_add_one_version(pts, env) -> None:
    headers = {**env.auth(Role.ADMIN), "Idempotency-Key": "rule-form-0002"}
    body = {"points_per_yuan": "1.5", "reason": "spring rules"}
    answers = await asyncio.gather(*(pts.client.post("/v1/earning-rules", json=body, headers=headers) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert {a.json()["version"] for a in answers} == {2}
