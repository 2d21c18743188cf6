"""A coupon's life through the API and the sales: issued, validated and reserved at the till,
redeemed by the sale, released when the hold lapses or the sale is voided, reversed by a return."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from campaigns.adapters.tables import MemberCardRow
from campaigns.service_layer.coupons.cards import Card, Holder, holder_of_card
from shared.events.registry import COUPON_ISSUED, COUPON_REDEEMED, COUPON_RELEASED, COUPON_REVERSED
from tests.support.campaigns import sale_line

pytestmark = pytest.mark.integration


async def issued_code(cmp, member: str = "m-1", **template: object) -> tuple[str, str]:
    await cmp.apply(cmp.registered(member))
    template_id = await cmp.template(**template)
    result = await cmp.issue(template_id, [member])
    assert result == {"requested": 1, "issued": 1, "already_held": 0, "over_budget": 0, "unknown": 0, "unknown_member_ids": [],
                      "held_out": 0, "held_out_member_ids": []}
    return template_id, await cmp.code_of(member)


async def test_issue_puts_one_coupon_per_member_in_the_wallet_and_announces_it(cmp) -> None:
    template_id, code = await issued_code(cmp)
    again = await cmp.issue(template_id, ["m-1", "m-2", "m-2"])
    assert again == {"requested": 2, "issued": 1, "already_held": 1, "over_budget": 0, "unknown": 0, "unknown_member_ids": [],
                      "held_out": 0, "held_out_member_ids": []}
    (coupon,) = await cmp.wallet("m-1")
    assert coupon["code"] == code and coupon["state"] == "issued" and coupon["terms"]["threshold"] == "100.00"
    events = await cmp.outbox(COUPON_ISSUED)
    assert len(events) == 2 and {e["member_id"] for e in events} == {"m-1", "m-2"}
    assert all("code" not in e for e in events)  # a code is a bearer credential: never on the bus


async def test_validate_answers_the_discount_and_changes_nothing(cmp) -> None:
    _, code = await issued_code(cmp)
    r = await cmp.validate([code, "NOPE1234"])
    assert r.status_code == 200, r.text
    first, unknown = r.json()["codes"]
    assert first == {"code": code, "ok": True, "discount": "20.00", "reason": None, "message_zh": "", "message_en": ""}
    assert unknown["reason"] == "unknown_code" and unknown["message_zh"] and unknown["message_en"]
    other_till = await cmp.validate([code], txn="T-2")
    assert other_till.json()["codes"][0]["ok"]  # validating holds nothing


async def test_a_reserved_coupon_is_held_for_its_sale_and_redeemed_by_it_once(cmp) -> None:
    _, code = await issued_code(cmp)
    r = await cmp.reserve([code])
    assert r.status_code == 200 and r.json()["codes"][0]["ok"] and r.json()["reserved_until"], r.text
    assert (await cmp.reserve([code])).json()["codes"][0]["ok"]  # the same sale again: idempotent
    elsewhere = (await cmp.reserve([code], txn="T-2")).json()["codes"][0]
    assert elsewhere["reason"] == "reserved_elsewhere"
    assert (await cmp.wallet("m-1"))[0]["state"] == "reserved"
    sale = cmp.sale([code], discounts={code: "20.00"})
    await cmp.apply(sale)
    await cmp.apply(sale)  # redelivered
    (coupon,) = await cmp.wallet("m-1")
    assert coupon["state"] == "redeemed" and Decimal(coupon["discount"]) == Decimal("20.00")
    (redeemed,) = await cmp.outbox(COUPON_REDEEMED)
    assert redeemed["reserved"] is True and redeemed["discount"] == "20.00" and redeemed["pos_txn_id"] == "T-1"
    used = (await cmp.validate([code], txn="T-3")).json()["codes"][0]
    assert used["reason"] == "already_used"


async def test_a_sale_with_a_code_it_never_reserved_still_redeems_it_if_valid(cmp) -> None:
    _, code = await issued_code(cmp)
    await cmp.apply(cmp.sale([code], txn="T-direct"))
    (redeemed,) = await cmp.outbox(COUPON_REDEEMED)
    assert redeemed["reserved"] is False and redeemed["discount"] == "20.00"
    assert (await cmp.wallet("m-1"))[0]["state"] == "redeemed"


async def test_a_percent_coupon_on_too_little_of_its_items_is_refused_as_less_than_a_fen_not_as_no_item(cmp) -> None:
    """5 % off dairy, with 0.10 of dairy in the basket: the till is told the discount on the dairy
    comes to less than 0.01 and how much more dairy it takes, never that no item qualifies."""
    _, code = await issued_code(cmp, kind="percent_off", amount=None, threshold=None, percent="5", max_discount="10",
                                limits={"categories": ["dairy"]})
    tiny = [sale_line("0.10", sku="6907992500133", category="dairy"), sale_line("30.00")]
    for answer in ((await cmp.validate([code], lines=tiny)).json(), (await cmp.reserve([code], lines=tiny)).json()):
        (refused,) = answer["codes"]
        assert (refused["ok"], refused["discount"], refused["reason"]) == (False, "0.00", "discount_too_small"), answer
        assert refused["message_en"] == ("The discount on the qualifying items comes to less than 0.01; "
                                         "spend 0.10 more on them to use this coupon (minimum 0.20)")
        assert "不足0.01元" in refused["message_zh"] and "0.10" in refused["message_zh"]
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"  # nothing held for it
    enough = [sale_line("0.20", sku="6907992500133", category="dairy"), sale_line("30.00")]
    assert (await cmp.validate([code], lines=enough, txn="T-2")).json()["codes"][0]["discount"] == "0.01"
    # The till's client reads every reason the answer can carry from the schema, this one among them.
    schema = (await cmp.client.get("/openapi.json")).json()["components"]["schemas"]
    assert {"discount_too_small", "not_for_these_items", "basket_too_small"} <= set(schema["Reason"]["enum"])


async def test_a_partner_coupon_applies_on_the_partner_customers_card_alone(cmp) -> None:
    """A coupon for the customers the decoration company referred (`limits.channel: partner`): the
    till scans the card and knows nothing of its holder's channel, and a sale carries none; members
    keeps it, and that is what counts. A retail customer's card does not make a sale partner."""
    from tests.support.audience import T0, profile_changed

    template_id, code = await issued_code(cmp, "m-p", limits={"channel": "partner"})
    await cmp.apply(profile_changed("m-p", at=T0 + timedelta(minutes=1), channel="partner"))
    assert (await cmp.validate([code])).json()["codes"][0]["ok"]
    assert (await cmp.reserve([code], txn="T-held")).json()["codes"][0]["ok"]
    assert (await cmp.release("T-held")).json() == {"released": 1}
    await cmp.apply(cmp.sale([code], txn="T-direct"))  # never reserved: judged by the holder's channel too
    assert (await cmp.wallet("m-p"))[0]["state"] == "redeemed"
    await cmp.apply(cmp.registered("m-r"))
    await cmp.issue(template_id, ["m-r"])
    retail = (await cmp.validate([await cmp.code_of("m-r")], txn="T-r", channel="partner")).json()["codes"][0]
    assert retail["reason"] == "not_for_this_store"


async def test_an_invalid_code_on_a_sale_is_recorded_not_lost(cmp) -> None:
    from sqlmodel import select

    from campaigns.adapters.tables import CouponRejectionRow

    _, code = await issued_code(cmp)
    await cmp.apply(cmp.sale([code], txn="T-small", lines=[{"sku": "X1", "name": "x", "category": "grain", "qty": "1",
                                                             "unit_price": "50.00", "amount": "50.00"}], discounts={code: "20.00"}))
    async with cmp.app.state.sessions() as s:
        (rejection,) = (await s.exec(select(CouponRejectionRow))).all()
    assert (rejection.code, rejection.reason, rejection.discount_claimed) == (code, "basket_too_small", Decimal("20.00"))
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"


async def test_a_voided_sale_releases_its_coupons(cmp) -> None:
    _, code = await issued_code(cmp)
    await cmp.reserve([code])
    r = await cmp.release("T-1")
    assert r.status_code == 200 and r.json() == {"released": 1}
    assert (await cmp.release("T-1")).json() == {"released": 0}
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"
    (released,) = await cmp.outbox(COUPON_RELEASED)
    assert released["reason"] == "voided"
    assert (await cmp.reserve([code], txn="T-2")).json()["codes"][0]["ok"]


async def test_reservations_that_lapse_are_released_by_the_job_once(cmp) -> None:
    _, code = await issued_code(cmp)
    await cmp.reserve([code])
    assert await cmp.run_job("coupon-reservations") == {"released": 0}
    cmp.clock.advance(seconds=cmp.app.state.settings.coupon_reservation_ttl_s)
    assert await cmp.run_job("coupon-reservations") == {"released": 1}
    assert await cmp.run_job("coupon-reservations") == {"released": 0}
    (released,) = await cmp.outbox(COUPON_RELEASED)
    assert released["reason"] == "expired"
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"


async def test_another_till_takes_over_a_lapsed_reservation(cmp) -> None:
    _, code = await issued_code(cmp)
    await cmp.reserve([code])
    cmp.clock.advance(seconds=cmp.app.state.settings.coupon_reservation_ttl_s + 1)
    assert (await cmp.reserve([code], txn="T-2")).json()["codes"][0]["ok"]
    (released,) = await cmp.outbox(COUPON_RELEASED)
    assert released["pos_txn_id"] == "T-1" and released["reason"] == "expired"


async def test_a_till_whose_clock_runs_ahead_cannot_take_a_coupon_another_till_still_holds(cmp) -> None:
    _, code = await issued_code(cmp)
    ttl = cmp.app.state.settings.coupon_reservation_ttl_s
    held = await cmp.reserve([code])
    assert held.json()["codes"][0]["ok"]
    cmp.clock.advance(seconds=ttl - 120)  # the first till's hold runs two more minutes
    ahead = (cmp.clock() + timedelta(minutes=4)).isoformat()  # within the clock skew a till is allowed
    for call in (cmp.validate, cmp.reserve):
        other = (await call([code], txn="T-2", occurred_at=ahead)).json()["codes"][0]
        assert other["reason"] == "reserved_elsewhere", other
    assert await cmp.outbox(COUPON_RELEASED) == []
    assert (await cmp.wallet("m-1"))[0]["state"] == "reserved"


async def test_a_return_reverses_the_coupon_once_and_keeps_it_used(cmp) -> None:
    _, code = await issued_code(cmp)
    await cmp.reserve([code])
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}))
    refund = cmp.refund()
    await cmp.apply(refund)
    await cmp.apply(refund, cmp.refund(refund_id="R-2"))  # redelivered, and a second return of the same sale
    (reversed_,) = await cmp.outbox(COUPON_REVERSED)
    assert reversed_["returned"] is False and reversed_["discount"] == "20.00" and reversed_["refund_id"] == "R-1"
    assert (await cmp.wallet("m-1"))[0]["state"] == "reversed"
    assert (await cmp.validate([code], txn="T-9")).json()["codes"][0]["reason"] == "already_used"


async def test_a_return_gives_the_coupon_back_when_the_template_says_so(cmp) -> None:
    _, code = await issued_code(cmp, returns_on_refund=True)
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}))
    await cmp.apply(cmp.refund())
    (reversed_,) = await cmp.outbox(COUPON_REVERSED)
    assert reversed_["returned"] is True
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"
    assert (await cmp.validate([code], txn="T-9")).json()["codes"][0]["ok"]


async def test_a_coupon_given_back_comes_back_again_from_a_sale_of_another_store_under_the_same_transaction_id(cmp) -> None:
    """Transaction ids are a store's own: S002's T-1 is another sale than S001's T-1, and the
    coupon it redeemed, returned whole, is given back again."""
    _, code = await issued_code(cmp, returns_on_refund=True)
    for store in ("S001", "S002"):
        await cmp.apply(cmp.sale([code], store=store, discounts={code: "20.00"}))
        await cmp.apply(cmp.refund(store=store))
        assert (await cmp.wallet("m-1"))[0]["state"] == "issued", store
    assert [(r["store_id"], r["returned"]) for r in await cmp.outbox(COUPON_REVERSED)] == [("S001", True), ("S002", True)]


async def test_a_partial_return_leaves_the_coupon_used_and_the_return_completing_the_sale_gives_it_back(cmp) -> None:
    # The till refunds the returned lines' share of what was paid: the customer already gives back
    # that share of the discount, so the coupon is not theirs again until the whole sale is back.
    _, code = await issued_code(cmp, returns_on_refund=True)
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}))
    await cmp.apply(cmp.refund(refund_id="R-0", amount="0.00"), cmp.refund(refund_id="R-1", amount="1.00"))
    assert await cmp.outbox(COUPON_REVERSED) == []
    assert (await cmp.wallet("m-1"))[0]["state"] == "redeemed"
    assert (await cmp.validate([code], txn="T-9")).json()["codes"][0]["reason"] == "already_used"
    await cmp.apply(cmp.refund(refund_id="R-2", amount="119.00"))
    (reversed_,) = await cmp.outbox(COUPON_REVERSED)
    assert reversed_["returned"] is True and reversed_["refund_id"] == "R-2"
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"


async def test_returns_at_another_store_count_towards_the_sale_that_redeemed_the_coupon(cmp) -> None:
    """Bought at S001 with the coupon, brought back in parts to S002 (and to S001): every part counts
    towards S001's sale, once, and the part completing it gives the coupon back; a sale of S002
    under the same transaction id is not the one returned."""
    _, code = await issued_code(cmp, returns_on_refund=True)
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}))
    half = cmp.refund(store="S002", sale_store="S001", refund_id="R-1", amount="60.00")
    await cmp.apply(half, half.model_copy(update={"id": str(uuid.uuid4())}))  # and resent under a new event id
    await cmp.apply(cmp.refund(store="S002", refund_id="R-2", amount="60.00"))  # of S002's own T-1: not this sale
    assert await cmp.outbox(COUPON_REVERSED) == []
    assert (await cmp.wallet("m-1"))[0]["state"] == "redeemed"
    await cmp.apply(cmp.refund(refund_id="R-3", amount="60.00"))  # the rest, back at S001
    (reversed_,) = await cmp.outbox(COUPON_REVERSED)
    assert (reversed_["returned"], reversed_["store_id"], reversed_["refund_id"]) == (True, "S001", "R-3")
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"


async def test_a_return_at_another_store_read_before_its_sale_counts_when_the_sale_arrives(cmp) -> None:
    _, code = await issued_code(cmp, returns_on_refund=False)
    await cmp.reserve([code])
    await cmp.apply(cmp.refund(store="S002", sale_store="S001", refund_id="R-1", amount="120.00"))
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}))
    (reversed_,) = await cmp.outbox(COUPON_REVERSED)
    assert (reversed_["store_id"], reversed_["refund_id"]) == ("S001", "R-1")
    assert (await cmp.wallet("m-1"))[0]["state"] == "reversed"


@pytest.mark.parametrize("returns_on_refund", [True, False])
async def test_a_return_read_before_its_sale_reverses_the_coupon_when_the_sale_arrives(cmp, returns_on_refund) -> None:
    # A return naming no customer travels on another partition than its sale (a till publishing
    # straight to the topic), and may be read first; it must count as it would have afterwards.
    _, code = await issued_code(cmp, returns_on_refund=returns_on_refund)
    await cmp.reserve([code])
    await cmp.apply(cmp.refund(refund_id="R-1", amount="50.00"))
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}))
    assert await cmp.outbox(COUPON_REVERSED) == []  # 50.00 of 120.00 back: still used
    await cmp.apply(cmp.refund(refund_id="R-2", amount="70.00"))
    (reversed_,) = await cmp.outbox(COUPON_REVERSED)
    assert reversed_["returned"] is returns_on_refund and reversed_["refund_id"] == "R-2"
    assert (await cmp.wallet("m-1"))[0]["state"] == ("issued" if returns_on_refund else "reversed")


@pytest.mark.parametrize("returns_on_refund", [True, False])
async def test_a_whole_sale_returned_before_it_was_read_never_keeps_its_coupon(cmp, returns_on_refund) -> None:
    _, code = await issued_code(cmp, returns_on_refund=returns_on_refund)
    await cmp.reserve([code])
    await cmp.apply(cmp.refund(refund_id="R-1", amount="120.00"))
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}))
    (reversed_,) = await cmp.outbox(COUPON_REVERSED)
    assert reversed_["returned"] is returns_on_refund and reversed_["refund_id"] == "R-1"
    assert (await cmp.wallet("m-1"))[0]["state"] == ("issued" if returns_on_refund else "reversed")
    if returns_on_refund:  # back in the wallet, and out of the counters: usable again
        assert (await cmp.validate([code], txn="T-9")).json()["codes"][0]["ok"]


async def test_a_partial_return_sent_again_under_a_new_event_id_counts_once(cmp) -> None:
    # A till publishing straight to Kafka may resend a return under a fresh event id; members
    # counts it once by its refund id, and so must the coupon: half of the sale sent twice is
    # still half, and must not give the coupon back as if the whole sale had been returned.
    _, code = await issued_code(cmp, returns_on_refund=True)
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}))
    half = cmp.refund(refund_id="R-1", amount="60.00")
    resent = half.model_copy(update={"id": str(uuid.uuid4())})
    await cmp.apply(half)
    await cmp.apply(resent)
    assert await cmp.outbox(COUPON_REVERSED) == []
    assert (await cmp.wallet("m-1"))[0]["state"] == "redeemed"
    await cmp.apply(cmp.refund(refund_id="R-2", amount="60.00"))  # the rest of the sale
    (reversed_,) = await cmp.outbox(COUPON_REVERSED)
    assert reversed_["refund_id"] == "R-2"
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"


async def test_a_members_coupon_is_refused_with_another_members_card_or_none(cmp) -> None:
    _, code = await issued_code(cmp)
    await cmp.apply(cmp.registered("m-2"))
    other = (await cmp.validate([code], card=cmp.cards["m-2"])).json()["codes"][0]
    assert other["ok"] is False and other["reason"] == "other_members" and other["message_en"]
    assert (await cmp.reserve([code], card=None)).json()["codes"][0]["reason"] == "member_required"
    assert (await cmp.validate([code])).json()["codes"][0]["ok"]  # with the owner's own card
    # A sale published straight to Kafka with the code and someone else's card does not redeem it.
    await cmp.apply(cmp.sale([code], txn="T-other", card=cmp.cards["m-2"], discounts={code: "20.00"}))
    assert await cmp.outbox(COUPON_REDEEMED) == []
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"


@pytest.mark.parametrize("change", ["another card", "a smaller basket"])
async def test_a_hold_the_same_sale_is_refused_again_is_released_and_its_sale_redeems_nothing(cmp, change) -> None:
    _, code = await issued_code(cmp)
    await cmp.apply(cmp.registered("m-2"))
    assert (await cmp.reserve([code])).json()["codes"][0]["ok"]
    again = {"card": cmp.cards["m-2"]} if change == "another card" else {"lines": [sale_line("60.00")]}
    answer = (await cmp.reserve([code], **again)).json()
    assert answer["codes"][0]["ok"] is False, answer
    (coupon,) = await cmp.wallet("m-1")
    assert coupon["state"] == "issued", coupon  # what the till was last answered: nothing held
    (released,) = await cmp.outbox(COUPON_RELEASED)
    assert released["pos_txn_id"] == "T-1"
    # The sale that follows, with the code the till was refused, does not redeem it.
    await cmp.apply(cmp.sale([code], discounts={code: "20.00"}, **again))
    assert await cmp.outbox(COUPON_REDEEMED) == []
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"


async def test_a_sale_claiming_more_than_its_reserved_coupon_is_worth_counts_the_coupons_worth(cmp) -> None:
    _, code = await issued_code(cmp)
    assert (await cmp.reserve([code])).json()["codes"][0]["discount"] == "20.00"
    await cmp.apply(cmp.sale([code], discounts={code: "90.00"}))
    (redeemed,) = await cmp.outbox(COUPON_REDEEMED)
    assert redeemed["discount"] == "20.00"
    assert Decimal((await cmp.wallet("m-1"))[0]["discount"]) == Decimal("20.00")


async def test_a_sale_without_a_reserved_code_releases_that_reservation(cmp) -> None:
    _, code = await issued_code(cmp)
    await cmp.reserve([code])
    await cmp.apply(cmp.sale([]))
    assert (await cmp.wallet("m-1"))[0]["state"] == "issued"


async def test_a_mistyped_member_code_is_unknown(cmp) -> None:
    _, code = await issued_code(cmp)
    typo = code[:-1] + ("3" if code[-1] != "3" else "4")
    assert (await cmp.validate([typo])).json()["codes"][0]["reason"] == "unknown_code"


async def test_an_erased_members_unused_coupons_are_withdrawn_and_used_or_held_ones_stay(cmp) -> None:
    await cmp.apply(cmp.registered("m-1"), cmp.registered("m-2"))
    used, held, unused = await cmp.template(), await cmp.template(), await cmp.template()
    for template_id in (used, held, unused):
        await cmp.issue(template_id, ["m-1"])
    await cmp.issue(unused, ["m-2"])
    code = {c["template_id"]: c["code"] for c in await cmp.wallet("m-1")}
    await cmp.apply(cmp.sale([code[used]], discounts={code[used]: "20.00"}))
    assert (await cmp.reserve([code[held]], txn="T-2")).json()["codes"][0]["ok"]  # a sale in flight at a till

    async def states() -> dict[str, str]:  # as staff see them: the member's own token is refused now
        r = await cmp.client.get("/v1/members/m-1/coupons", headers=cmp.marketing())
        assert r.status_code == 200, r.text
        return {c["template_id"]: c["state"] for c in r.json()}

    for _ in range(2):  # delivered again: nothing more changes
        await cmp.apply(cmp.erased("m-1"))
        assert await states() == {used: "redeemed", held: "reserved", unused: "withdrawn"}
    assert [c["state"] for c in await cmp.wallet("m-2")] == ["issued"]
    # Nobody holds it: at a till it is a code that gives nothing, whatever card comes with it.
    answer = (await cmp.validate([code[unused]], txn="T-3", card=cmp.cards["m-2"])).json()["codes"][0]
    assert (answer["ok"], answer["reason"]) == (False, "unknown_code")
    # The sale in flight still redeems the coupon it held.
    await cmp.apply(cmp.sale([code[held]], txn="T-2", card=None, discounts={code[held]: "20.00"}))
    assert (await states())[held] == "redeemed"


async def test_an_erased_members_coupon_that_comes_back_unused_is_withdrawn(cmp) -> None:
    await cmp.apply(cmp.registered("m-1"))
    voided, returned = await cmp.template(), await cmp.template(returns_on_refund=True)
    for template_id in (voided, returned):
        await cmp.issue(template_id, ["m-1"])
    code = {c["template_id"]: c["code"] for c in await cmp.wallet("m-1")}
    assert (await cmp.reserve([code[voided]], txn="T-void")).json()["codes"][0]["ok"]
    await cmp.apply(cmp.sale([code[returned]], txn="T-sold", discounts={code[returned]: "20.00"}))
    await cmp.apply(cmp.erased("m-1"))
    # Both come back after the erasure: the held one with its voided sale, the used one with its
    # sale's return. Nobody holds them any more, so neither goes back to `issued`.
    assert (await cmp.release("T-void")).json() == {"released": 1}
    await cmp.apply(cmp.refund("T-sold"))
    r = await cmp.client.get("/v1/members/m-1/coupons", headers=cmp.marketing())
    assert {c["template_id"]: c["state"] for c in r.json()} == {voided: "withdrawn", returned: "withdrawn"}


@pytest.mark.parametrize("late", ["registered", "card_replaced"])
async def test_a_late_event_of_an_erased_member_does_not_bring_their_card_back(cmp, late) -> None:
    await cmp.apply(cmp.registered("m-1"), cmp.erased("m-1"))
    card = cmp.cards["m-1"]
    # A registration dead-lettered before the erasure and replayed after it, or a card change
    # delivered late: the card stays unknown, and no row of it comes back.
    await cmp.apply(cmp.registered("m-1") if late == "registered" else cmp.card_replaced("m-1", card))
    async with cmp.app.state.sessions() as session:
        assert await holder_of_card(session, card) == Holder(None, Card.UNKNOWN)
        assert await session.get(MemberCardRow, card) is None


async def test_the_member_the_gateway_found_by_phone_uses_their_coupons_as_with_their_card(cmp) -> None:
    """A customer who gave their phone without their card: the gateway sends the member it found
    (`member_id`), and the till is answered as for the card; never both, and an id campaigns knows
    nobody by is a sale without a card."""
    _, code = await issued_code(cmp)
    await cmp.apply(cmp.registered("m-2"))

    def by_id(member: dict) -> dict:
        return {**cmp.till_body([code], card=None), "member": member}

    r = await cmp.client.post("/v1/coupons/validate", json=by_id({"member_id": "m-1"}), headers=cmp.till())
    by_card = await cmp.validate([code])
    assert r.status_code == 200 and r.json() == by_card.json() and r.json()["codes"][0]["ok"], r.text
    for member, reason in [({"member_id": "m-2"}, "other_members"), ({"member_id": "m-nobody"}, "member_required")]:
        answer = (await cmp.client.post("/v1/coupons/validate", json=by_id(member), headers=cmp.till())).json()["codes"][0]
        assert (answer["ok"], answer["reason"]) == (False, reason), (member, answer)
    for member in ({"member_id": "m-1", "card_no": cmp.cards["m-1"]}, {}):
        r = await cmp.client.post("/v1/coupons/validate", json=by_id(member), headers=cmp.till())
        assert r.status_code == 422 and "give exactly one of card_no or member_id" in r.text, r.text
    # Held by id, redeemed by the sale paid without a card (a phone's digest campaigns cannot read).
    r = await cmp.client.post("/v1/coupons/reserve", json=by_id({"member_id": "m-1"}), headers=cmp.till())
    assert r.status_code == 200 and r.json()["codes"][0]["ok"], r.text
    await cmp.apply(cmp.sale([code], card=None, discounts={code: "20.00"}))
    (coupon,) = await cmp.wallet("m-1")
    assert coupon["state"] == "redeemed"
