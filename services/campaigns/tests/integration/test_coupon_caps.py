"""Budgets and caps: counted when a coupon is held or used, given back when it is released or a
return gives it back, and never passed, whatever the order of tills and sales."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from campaigns.service_layer.coupons.counters import counter, period_of
from shared.events.registry import COUPON_RELEASED
from tests.support.factories import keyed

pytestmark = pytest.mark.integration


async def members_with_coupons(cmp, n: int, *, campaign: bool = False, **template: object) -> tuple[str, list[str]]:
    """`campaign`: issued under a running campaign of the template, whose caps count apart."""
    members = [f"m-{i}" for i in range(n)]
    await cmp.apply(*(cmp.registered(m) for m in members))
    template_id = await cmp.template(**template)
    await cmp.issue(template_id, members, await running_campaign(cmp, template_id) if campaign else None)
    return template_id, [await cmp.code_of(m) for m in members]


async def running_campaign(cmp, template_id: str) -> str:
    made = await cmp.client.post("/v1/campaigns", headers=keyed(cmp.marketing()), json={
        "name": "birthday gift", "kind": "triggered", "trigger": "birthday", "coupon_template_id": template_id})
    assert made.status_code == 201, made.text
    launched = await cmp.client.post(f"/v1/campaigns/{made.json()['id']}/launch", headers=cmp.marketing())
    assert launched.status_code == 200 and launched.json()["state"] == "running", launched.text
    return made.json()["id"]


async def used(cmp, key: str) -> tuple[int, Decimal]:
    async with cmp.app.state.sessions() as s:
        row = await counter(s, key)
    return (row.used_count, row.used_amount) if row else (0, Decimal("0.00"))


async def test_the_redemption_cap_counts_holds_and_gives_back_releases(cmp) -> None:
    template_id, codes = await members_with_coupons(cmp, 3, campaign=True, caps={"redemptions": 2})
    campaign_id = (await cmp.wallet("m-0"))[0]["campaign_id"]
    assert (await cmp.reserve([codes[0]], txn="T-0")).json()["codes"][0]["ok"]
    assert (await cmp.reserve([codes[1]], txn="T-1")).json()["codes"][0]["ok"]
    full = (await cmp.reserve([codes[2]], txn="T-2")).json()["codes"][0]
    assert full["reason"] == "cap_reached" and full["discount"] == "0.00"
    assert (await cmp.validate([codes[2]], txn="T-2")).json()["codes"][0]["reason"] == "cap_reached"
    assert await used(cmp, f"{template_id}|{campaign_id}|redemptions") == (2, Decimal("40.00"))
    await cmp.release("T-0")
    assert (await cmp.reserve([codes[2]], txn="T-2")).json()["codes"][0]["ok"]
    assert (await cmp.wallet("m-2"))[0]["state"] == "reserved"


async def test_reserving_the_same_sale_again_counts_once(cmp) -> None:
    template_id, codes = await members_with_coupons(cmp, 1, caps={"redemptions": 1})
    for _ in range(3):
        assert (await cmp.reserve([codes[0]])).json()["codes"][0]["ok"]
    assert await used(cmp, f"{template_id}|-|redemptions") == (1, Decimal("20.00"))


async def test_the_money_budget_stops_a_use_that_would_pass_it(cmp) -> None:
    template_id, codes = await members_with_coupons(cmp, 3, caps={"amount": "50"})
    results = [(await cmp.reserve([code], txn=f"T-{i}")).json()["codes"][0] for i, code in enumerate(codes)]
    assert [r["ok"] for r in results] == [True, True, False] and results[2]["reason"] == "cap_reached"
    assert await used(cmp, f"{template_id}|-|redemptions") == (2, Decimal("40.00"))


async def test_the_budget_counts_the_discount_the_sale_actually_gave(cmp) -> None:
    template_id, codes = await members_with_coupons(cmp, 1)
    await cmp.reserve([codes[0]])
    await cmp.apply(cmp.sale([codes[0]], discounts={codes[0]: "15.00"}))
    assert await used(cmp, f"{template_id}|-|redemptions") == (1, Decimal("15.00"))


async def test_the_per_store_cap_is_per_store(cmp) -> None:
    _, codes = await members_with_coupons(cmp, 3, caps={"per_store": 1})
    assert (await cmp.reserve([codes[0]], txn="T-0")).json()["codes"][0]["ok"]
    assert (await cmp.reserve([codes[1]], txn="T-1")).json()["codes"][0]["reason"] == "cap_reached"
    assert (await cmp.reserve([codes[1]], txn="T-1", store="S002")).json()["codes"][0]["ok"]


async def test_the_issued_cap_issues_up_to_it_and_counts_the_rest(cmp) -> None:
    await cmp.apply(*(cmp.registered(f"m-{i}") for i in range(5)))
    template_id = await cmp.template(caps={"issued": 3})
    assert await cmp.issue(template_id, ["m-0", "m-1"]) == {"requested": 2, "issued": 2, "already_held": 0, "over_budget": 0, "unknown": 0, "unknown_member_ids": [],
                      "held_out": 0, "held_out_member_ids": []}
    assert await cmp.issue(template_id, ["m-2", "m-3", "m-4"]) == {"requested": 3, "issued": 1, "already_held": 0, "over_budget": 2, "unknown": 0, "unknown_member_ids": [],
                      "held_out": 0, "held_out_member_ids": []}
    assert await cmp.wallet("m-4") == []


async def test_a_returned_coupon_gives_its_use_back_only_when_it_comes_back(cmp) -> None:
    back, (code_back,) = await members_with_coupons(cmp, 1, returns_on_refund=True, caps={"redemptions": 5})
    await cmp.apply(cmp.sale([code_back], txn="T-b"))
    await cmp.apply(cmp.refund("T-b", refund_id="R-b"))
    assert await used(cmp, f"{back}|-|redemptions") == (0, Decimal("0.00"))
    await cmp.apply(cmp.registered("m-k"))
    kept = await cmp.template(caps={"redemptions": 5})
    await cmp.issue(kept, ["m-k"])
    code_kept = await cmp.code_of("m-k")
    await cmp.apply(cmp.sale([code_kept], txn="T-k"))
    await cmp.apply(cmp.refund("T-k", refund_id="R-k"))
    assert await used(cmp, f"{kept}|-|redemptions") == (1, Decimal("20.00"))


async def test_a_sale_past_a_cap_is_recorded_as_refused(cmp) -> None:
    from sqlmodel import select

    from campaigns.adapters.tables import CouponRejectionRow

    _, codes = await members_with_coupons(cmp, 2, caps={"redemptions": 1})
    await cmp.apply(cmp.sale([codes[0]], txn="T-0"), cmp.sale([codes[1]], txn="T-1"))
    async with cmp.app.state.sessions() as s:
        (rejection,) = (await s.exec(select(CouponRejectionRow))).all()
    assert (rejection.code, rejection.reason, rejection.pos_txn_id) == (codes[1], "cap_reached", "T-1")
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"


# --- generic codes


async def generic(cmp, **template: object) -> str:
    await cmp.template(generic_code="WINTER20", **template)
    return "WINTER20"


async def test_a_generic_code_is_for_everybody_and_counted_per_member_through_the_card(cmp) -> None:
    code = await generic(cmp, caps={"per_member": 1})
    await cmp.apply(cmp.registered("m-a"), cmp.registered("m-b"))
    no_card = (await cmp.validate([code])).json()["codes"][0]
    assert no_card["reason"] == "member_required" and no_card["message_en"]
    assert (await cmp.reserve([code], txn="T-a1", card=cmp.cards["m-a"])).json()["codes"][0]["ok"]
    await cmp.apply(cmp.sale([code], txn="T-a1", card=cmp.cards["m-a"]))
    again = (await cmp.reserve([code], txn="T-a2", card=cmp.cards["m-a"])).json()["codes"][0]
    assert again["reason"] == "cap_reached"
    assert (await cmp.reserve([code], txn="T-b1", card=cmp.cards["m-b"])).json()["codes"][0]["ok"]
    assert await cmp.wallet("m-a") == []  # a generic code's uses are not coupons in the wallet


async def test_the_per_member_period_cap_starts_again_in_the_next_period(cmp) -> None:
    code = await generic(cmp, caps={"per_member_per_period": 1, "period_days": 7},
                         validity={"valid_from": "2026-12-01T00:00:00Z", "valid_until": "2027-03-01T00:00:00Z"})
    await cmp.apply(cmp.registered("m-a"))
    card = cmp.cards["m-a"]
    await cmp.apply(cmp.sale([code], txn="T-1", card=card))
    assert (await cmp.validate([code], txn="T-2", card=card)).json()["codes"][0]["reason"] == "cap_reached"
    cmp.clock.advance(days=7)
    assert (await cmp.validate([code], txn="T-2", card=card)).json()["codes"][0]["ok"]


async def test_a_daily_cap_counts_the_chains_local_day(cmp) -> None:
    code = await generic(cmp, caps={"per_member_per_period": 1, "period_days": 1},
                         validity={"valid_from": "2026-12-01T00:00:00Z", "valid_until": "2027-03-01T00:00:00Z"})
    await cmp.apply(cmp.registered("m-a"))
    card = cmp.cards["m-a"]
    cmp.clock.advance(hours=22, minutes=40)  # 08:40 on 6 December in Shanghai (00:40 UTC)
    # Used at 07:30 the same local morning, which is still 5 December in UTC.
    await cmp.apply(cmp.sale([code], txn="T-1", card=card, at=datetime(2026, 12, 5, 23, 30, tzinfo=UTC)))
    assert (await cmp.validate([code], txn="T-2", card=card)).json()["codes"][0]["reason"] == "cap_reached"
    cmp.clock.advance(hours=15, minutes=30)  # 00:10 on 7 December in Shanghai, still 6 December in UTC
    assert (await cmp.validate([code], txn="T-2", card=card)).json()["codes"][0]["ok"]


def test_periods_are_local_days_and_weeks_start_on_monday() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    monday = datetime(2026, 12, 7, 0, 0, tzinfo=shanghai)
    assert period_of(monday, 7, shanghai) == period_of(monday + timedelta(days=6, hours=23), 7, shanghai)
    assert period_of(monday - timedelta(minutes=1), 7, shanghai) == period_of(monday, 7, shanghai) - 1
    assert period_of(monday - timedelta(minutes=1), 1, shanghai) == period_of(monday, 1, shanghai) - 1


async def test_an_erased_members_card_no_longer_resolves(cmp) -> None:
    code = await generic(cmp, caps={"per_member": 1})
    await cmp.apply(cmp.registered("m-a"))
    card = cmp.cards["m-a"]
    assert (await cmp.validate([code], card=card)).json()["codes"][0]["ok"]
    await cmp.apply(cmp.card_replaced("m-a", "8800000077773"))
    await cmp.apply(cmp.erased("m-a"))
    # Both unknown, as a number never registered: neither says the customer was a member.
    for shown in (card, "8800000077773"):
        assert (await cmp.validate([code], card=shown)).json()["codes"][0]["reason"] == "card_unknown"


async def test_a_replaced_cards_coupons_go_with_the_new_card_and_the_lost_one_applies_none(cmp) -> None:
    code = await generic(cmp, caps={"per_member": 1})
    await cmp.apply(cmp.registered("m-a"))
    lost = cmp.cards["m-a"]
    await cmp.apply(cmp.card_replaced("m-a", "8800000077772"))
    assert (await cmp.validate([code], card="8800000077772")).json()["codes"][0]["ok"]
    old = (await cmp.validate([code], card=lost)).json()["codes"][0]
    assert (old["reason"], old["message_en"]) == (
        "card_replaced", "This member card has been replaced and is no longer valid; ask the customer for the new card")
    assert "8800000077772" not in str(old)  # the old card never leads to the new one


async def test_a_card_shown_but_unknown_is_said_to_be_unknown_not_asked_for(cmp) -> None:
    # The till sent the card the customer showed; "present the member card" sent the cashier round in circles.
    _, codes = await members_with_coupons(cmp, 1)
    code = await generic(cmp, caps={"per_member": 1})
    for shown in (codes[0], code):
        unknown = (await cmp.validate([shown], card="8800000099991")).json()["codes"][0]
        assert unknown["reason"] == "card_unknown", unknown
        assert "not registered" in unknown["message_en"] and "未登记" in unknown["message_zh"]
        assert "Present the member card" not in unknown["message_en"]
    reserved = (await cmp.reserve([code], card="8800000099991")).json()["codes"][0]
    assert reserved["reason"] == "card_unknown"
    # Without a card it is still the card that is asked for.
    assert (await cmp.validate([code])).json()["codes"][0]["reason"] == "member_required"



async def test_a_sale_taking_over_a_lapsed_reservation_counts_the_coupon_once(cmp) -> None:
    template_id, codes = await members_with_coupons(cmp, 1, caps={"redemptions": 5})
    await cmp.reserve([codes[0]], txn="T-held")
    cmp.clock.advance(seconds=cmp.app.state.settings.coupon_reservation_ttl_s + 1)
    # The release job has not run yet: the sale itself ends the lapsed hold before counting its own use.
    await cmp.apply(cmp.sale([codes[0]], txn="T-sale", discounts={codes[0]: "20.00"}))
    assert (await cmp.wallet("m-0"))[0]["state"] == "redeemed"
    assert await used(cmp, f"{template_id}|-|redemptions") == (1, Decimal("20.00"))
    (released,) = await cmp.outbox(COUPON_RELEASED)
    assert released["pos_txn_id"] == "T-held" and released["reason"] == "expired"


async def test_validate_answers_what_reserve_does_for_a_coupon_whose_hold_lapsed(cmp) -> None:
    _, codes = await members_with_coupons(cmp, 1, caps={"redemptions": 1})
    await cmp.reserve([codes[0]], txn="T-held")
    cmp.clock.advance(seconds=cmp.app.state.settings.coupon_reservation_ttl_s + 1)
    # The lapsed hold still counts until it is released; taking the coupon over gives it back first.
    validated = (await cmp.validate([codes[0]], txn="T-next")).json()["codes"][0]
    reserved = (await cmp.reserve([codes[0]], txn="T-next")).json()["codes"][0]
    assert (validated["ok"], validated["reason"]) == (reserved["ok"], reserved["reason"]) == (True, None)
