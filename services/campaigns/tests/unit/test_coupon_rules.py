"""Coupon templates and what a set of codes takes off one basket."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from campaigns.api.coupon_schemas import TemplateIn
from campaigns.domain.coupons import (
    Basket,
    BasketLine,
    CouponState,
    IllegalTransition,
    Reason,
    State,
    TemplateSpec,
    check_transition,
    evaluate,
    judge_one,
    messages,
)

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
TXN = ("S001", "T-1")
D = Decimal


def spec(**overrides: Any) -> TemplateSpec:
    values: dict[str, Any] = {
        "name": "满100减20", "kind": "threshold", "amount": "20", "threshold": "100",
        "validity": {"valid_from": "2026-12-01T00:00:00+08:00", "valid_until": "2027-01-01T00:00:00+08:00"},
    }
    values.update(overrides)
    return TemplateSpec.model_validate(values)


def line(amount: str, *, sku: str = "6900000000001", category: str = "grain", unit_price: str | None = None) -> BasketLine:
    return BasketLine(sku=sku, category=category, amount=D(amount), unit_price=D(unit_price or amount))


def basket(*lines: BasketLine, store: str = "S001", channel: str = "retail", at: datetime = NOW, txn: tuple[str, str] = TXN,
           now: datetime = NOW) -> Basket:
    return Basket(store_id=store, channel=channel, at=at, lines=tuple(lines), txn=txn, zone=SHANGHAI, now=now)


def coupon(code: str = "CODE1", template: TemplateSpec | None = None, *, state: State = State.ISSUED,
           valid_from: datetime = NOW - timedelta(days=1), valid_until: datetime = NOW + timedelta(days=1),
           reserved_for: tuple[str, str] | None = None, reserved_until: datetime | None = None) -> CouponState:
    return CouponState(code, template or spec(), state, valid_from, valid_until, reserved_for, reserved_until)


def one(c: CouponState | None, b: Basket, code: str = "CODE1", **kw: Any):
    return judge_one(c, code, b, **kw)


# --- templates


def reject(**overrides: Any) -> str:
    with pytest.raises(ValidationError) as info:
        spec(**overrides)
    return str(info.value)


def test_each_kind_needs_its_own_fields_and_no_others() -> None:
    assert "percent is required" in reject(kind="percent_off", amount=None, threshold=None, max_discount="30")
    assert "max_discount is required" in reject(kind="percent_off", amount=None, threshold=None, percent="10")
    assert "threshold does not apply" in reject(kind="amount_off")
    assert "gift_sku is required" in reject(kind="free_gift", amount=None, threshold=None)
    assert "repeat applies to threshold" in reject(kind="amount_off", threshold=None, repeat=True)
    assert "amount: more off than the threshold" in reject(amount="150")
    spec(kind="percent_off", amount=None, threshold=None, percent="15", max_discount="30")
    spec(kind="free_gift", amount=None, threshold=None, gift_sku="6900000000099")


def test_validity_is_fixed_dates_or_days_from_issue() -> None:
    assert "either valid_from" in reject(validity={})
    assert "either valid_from" in reject(validity={"days": 7, "valid_from": "2026-12-01T00:00:00+08:00"})
    assert "both valid_from and valid_until" in reject(validity={"valid_from": "2026-12-01T00:00:00+08:00", "valid_until": None})
    assert "valid_until must be after" in reject(validity={"valid_from": "2026-12-02T00:00:00Z", "valid_until": "2026-12-01T00:00:00Z"})
    assert "timezone" in reject(validity={"valid_from": "2026-12-01T00:00:00", "valid_until": "2026-12-02T00:00:00"})


def test_days_of_validity_run_to_the_end_of_the_local_day_they_end_on() -> None:
    # Issued at 18:00 in Shanghai on 5 December: 30 days end on 4 January at 18:00, and the coupon
    # is good all of that day, to midnight in Shanghai.
    assert spec(validity={"days": 30}).validity.window(NOW, SHANGHAI) == (NOW, datetime(2027, 1, 5, tzinfo=SHANGHAI))
    # Issued at 00:30 local time (16:30 UTC the day before): the local date counts, not UTC's.
    late = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)
    assert spec(validity={"days": 1}).validity.window(late, SHANGHAI)[1] == datetime(2026, 12, 7, tzinfo=SHANGHAI)
    fixed = spec().validity
    assert fixed.window(NOW, SHANGHAI) == fixed.dates() == (fixed.valid_from, fixed.valid_until)


def test_bad_values_are_refused_with_their_field() -> None:
    assert "amount" in reject(amount="-1")
    assert "percent" in reject(kind="percent_off", amount=None, threshold=None, percent="100", max_discount="1")
    assert "max_per_sale applies to joint" in reject(stacking={"mode": "exclusive", "max_per_sale": 2})
    assert "per_member_per_period and period_days" in reject(caps={"per_member_per_period": 1})
    assert "generic_code: a generic code may not have 12" in reject(generic_code="SPRINGSALE20")
    assert "Extra inputs are not permitted" in reject(caps={"bogus": 1})


def test_generic_codes_are_normalised() -> None:
    assert spec(generic_code=" SPRING20 ").generic_code == "SPRING20"


def template_in(**overrides: Any) -> TemplateIn:
    return TemplateIn.model_validate({**spec().model_dump(mode="json"), **overrides})


def refused_in(**overrides: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as info:
        template_in(**overrides)
    return [(e["loc"], e["msg"]) for e in info.value.errors()]


def test_a_templates_skus_and_categories_are_stripped_as_the_till_strips_a_lines_sku() -> None:
    """The till strips a sale line's sku: a gift sku or a limit kept with its spaces never matched a basket."""
    gift = template_in(kind="free_gift", amount=None, threshold=None, gift_sku=" 6901234567890")
    assert gift.gift_sku == "6901234567890"
    limited = template_in(limits={"skus": [" 6901234567890 ", "6900000000002"], "categories": ["\u3000乳品 "]})
    assert (limited.limits.skus, limited.limits.categories) == (["6901234567890", "6900000000002"], ["乳品"])
    # As the till sends it, stripped: the gift is found in the basket.
    assert one(coupon(template=gift), basket(line("12.00", sku="6901234567890"))).discount == D("12.00")


@pytest.mark.parametrize(("overrides", "loc"), [
    ({"limits": {"skus": [" 6901234567890 ", ""]}}, ("limits", "skus", 1)),
    ({"limits": {"categories": ["", "  "]}}, ("limits", "categories", 0)),
    ({"limits": {"categories": ["乳品", "\u200b "]}}, ("limits", "categories", 1)),
    ({"kind": "free_gift", "amount": None, "threshold": None, "gift_sku": "   "}, ("gift_sku",)),
])
def test_a_blank_sku_or_category_of_a_template_is_refused_naming_its_place(overrides: dict, loc: tuple) -> None:
    assert (loc, "Value error, must not be blank") in refused_in(**overrides)


def test_a_templates_sku_or_category_longer_than_a_tills_is_refused_in_characters() -> None:
    assert refused_in(limits={"skus": ["6" * 65]}) == [(("limits", "skus", 0), "String should have at most 64 characters")]
    assert refused_in(kind="free_gift", amount=None, threshold=None, gift_sku="6" * 65) == [
        (("gift_sku",), "String should have at most 64 characters")]


def test_a_stored_template_with_a_blank_sku_is_still_read_back() -> None:
    """The rule is for templates marketing sends: one stored before it must still be read at the till."""
    stored = spec(limits={"skus": [" 6901234567890 ", ""]}, kind="free_gift", amount=None, threshold=None, gift_sku=" 1")
    assert (stored.limits.skus, stored.gift_sku) == ([" 6901234567890 ", ""], " 1")


@pytest.mark.parametrize("value", ["no", "off", "1", "t", "y", "true", 1, 0])
@pytest.mark.parametrize("field", ["repeat", "returns_on_refund"])
def test_a_templates_switches_are_json_true_or_false_only(field: str, value: object) -> None:
    [(loc, msg)] = refused_in(**{field: value})
    assert loc == (field,) and "must be true or false (a JSON boolean)" in msg
    assert getattr(template_in(**{field: True}), field) is True


# --- the state machine


def test_transitions_follow_the_state_machine() -> None:
    check_transition(State.ISSUED, State.RESERVED)
    check_transition(State.ISSUED, State.REDEEMED)  # a till publishing straight to Kafka
    check_transition(State.RESERVED, State.REDEEMED)
    check_transition(State.RESERVED, State.ISSUED)
    check_transition(State.REDEEMED, State.REVERSED)
    check_transition(State.REDEEMED, State.ISSUED)
    for current, new in [(State.REDEEMED, State.RESERVED), (State.REVERSED, State.ISSUED), (State.RELEASED, State.RESERVED),
                         (State.ISSUED, State.REVERSED)]:
        with pytest.raises(IllegalTransition):
            check_transition(current, new)


# --- discounts


def test_threshold_gives_its_amount_once_the_threshold_is_reached() -> None:
    assert one(coupon(), basket(line("100.00"))).discount == D("20.00")
    assert one(coupon(), basket(line("299.00"))).discount == D("20.00")
    short = one(coupon(), basket(line("99.50")))
    assert short.reason is Reason.BASKET_TOO_SMALL and "0.50" in short.message_en and "100.00" in short.message_zh


def test_repeating_threshold_gives_its_amount_per_full_threshold() -> None:
    repeat = coupon(template=spec(repeat=True))
    assert one(repeat, basket(line("299.00"))).discount == D("40.00")
    assert one(repeat, basket(line("300.00"))).discount == D("60.00")


def test_amount_off_is_never_more_than_the_eligible_amount() -> None:
    c = coupon(template=spec(kind="amount_off", threshold=None, amount="50", limits={"categories": ["dairy"]}))
    assert one(c, basket(line("30.00", category="dairy"), line("100.00"))).discount == D("30.00")
    assert one(c, basket(line("80.00", category="dairy"))).discount == D("50.00")


def test_percent_off_rounds_down_to_the_fen_and_stops_at_its_cap() -> None:
    c = coupon(template=spec(kind="percent_off", amount=None, threshold=None, percent="15", max_discount="30"))
    assert one(c, basket(line("33.33"))).discount == D("4.99")  # 4.9995 -> 4.99
    assert one(c, basket(line("1000.00"))).discount == D("30.00")


def test_a_percent_of_qualifying_items_coming_to_less_than_a_fen_says_so_and_how_much_more_it_takes() -> None:
    """5 % of 0.10 of dairy is 0.005, nothing once rounded to the fen: the dairy does qualify, so
    'no item qualifies' would send the cashier looking for the wrong thing. 5 % takes a fen off
    from 0.20, 3 % from 0.34 (0.33 gives 0.0099)."""
    five = coupon(template=spec(kind="percent_off", amount=None, threshold=None, percent="5", max_discount="30",
                                limits={"categories": ["dairy"]}))
    tiny = one(five, basket(line("0.10", category="dairy"), line("50.00")))
    assert (tiny.ok, tiny.discount, tiny.reason) == (False, D("0.00"), Reason.DISCOUNT_TOO_SMALL)
    assert (tiny.message_zh, tiny.message_en) == messages(Reason.DISCOUNT_TOO_SMALL, short="0.10", needed="0.20")
    assert "less than 0.01" in tiny.message_en and "spend 0.10 more" in tiny.message_en and "0.20" in tiny.message_zh
    assert one(five, basket(line("0.19", category="dairy"))).reason is Reason.DISCOUNT_TOO_SMALL
    assert one(five, basket(line("0.20", category="dairy"))).discount == D("0.01")  # the least it names is enough
    assert one(five, basket(line("50.00"))).reason is Reason.NOT_FOR_THESE_ITEMS  # no dairy at all: as before
    three = coupon(template=spec(kind="percent_off", amount=None, threshold=None, percent="3", max_discount="30"))
    short = one(three, basket(line("0.33")))
    assert short.reason is Reason.DISCOUNT_TOO_SMALL and "spend 0.01 more" in short.message_en and "0.34" in short.message_en
    assert one(three, basket(line("0.34"))).discount == D("0.01")


def test_free_gift_takes_one_unit_of_the_gift_off() -> None:
    c = coupon(template=spec(kind="free_gift", amount=None, threshold=None, gift_sku="GIFT1"))
    assert one(c, basket(line("20.00", sku="GIFT1", unit_price="10.00"), line("50.00"))).discount == D("10.00")
    missing = one(c, basket(line("50.00")))
    assert missing.reason is Reason.NOT_FOR_THESE_ITEMS


def test_limits_to_categories_and_skus_count_only_those_lines() -> None:
    c = coupon(template=spec(limits={"categories": ["grain"], "skus": ["OIL5L"]}))
    assert one(c, basket(line("60.00"), line("40.00", sku="OIL5L", category="oil"), line("500.00", category="tv"))).discount == D("20.00")
    assert one(c, basket(line("60.00"), line("500.00", category="tv"))).reason is Reason.BASKET_TOO_SMALL
    assert one(c, basket(line("500.00", category="tv"))).reason is Reason.NOT_FOR_THESE_ITEMS


def test_minimum_basket_counts_the_whole_basket() -> None:
    c = coupon(template=spec(kind="amount_off", threshold=None, amount="5", min_basket="50", limits={"categories": ["dairy"]}))
    assert one(c, basket(line("10.00", category="dairy"), line("45.00"))).discount == D("5.00")
    small = one(c, basket(line("10.00", category="dairy")))
    assert small.reason is Reason.BASKET_TOO_SMALL and "40.00" in small.message_en


def test_stores_and_channel_limit_where_it_applies() -> None:
    c = coupon(template=spec(limits={"stores": ["S002"], "channel": "retail"}))
    assert one(c, basket(line("100.00"), store="S001")).reason is Reason.NOT_FOR_THIS_STORE
    assert one(c, basket(line("100.00"), store="S002", channel="partner")).reason is Reason.NOT_FOR_THIS_STORE
    assert one(c, basket(line("100.00"), store="S002")).ok


# --- reasons


def test_time_window_is_from_inclusive_until_exclusive() -> None:
    c = coupon(valid_from=NOW, valid_until=NOW + timedelta(hours=1))
    assert one(c, basket(line("100"))).ok
    early = one(c, basket(line("100"), at=NOW - timedelta(seconds=1)))
    assert early.reason is Reason.NOT_YET_VALID
    expired = one(c, basket(line("100"), at=NOW + timedelta(hours=1)))
    assert expired.reason is Reason.EXPIRED
    # The cashier reads the chain's local time, not UTC in ISO form.
    assert (early.message_zh, early.message_en) == ("优惠券自2026-12-05 18:00起可用", "This coupon is valid from 2026-12-05 18:00")
    # Named by the last minute it could be used in: the stored end (19:00) is exclusive.
    assert (expired.message_zh, expired.message_en) == ("优惠券已过期（有效期至2026-12-05 18:59）",
                                                        "This coupon has expired (valid until 2026-12-05 18:59)")


def test_an_expired_coupon_of_days_names_its_last_valid_day_not_the_midnight_after() -> None:
    # Valid 16 days from 18:00 on 5 December: good all of 21 December, ending at 22 December 00:00
    # (exclusive). Told it expired "on 2026-12-22 00:00", a customer would think the 22nd was theirs.
    valid_from, valid_until = spec(validity={"days": 16}).validity.window(NOW, SHANGHAI)
    assert valid_until == datetime(2026, 12, 22, tzinfo=SHANGHAI)  # the stored end stays exclusive
    last_moment = one(coupon(valid_from=valid_from, valid_until=valid_until),
                      basket(line("100"), at=valid_until - timedelta(microseconds=1), now=valid_until))
    assert last_moment.ok
    expired = one(coupon(valid_from=valid_from, valid_until=valid_until), basket(line("100"), at=valid_until, now=valid_until))
    assert expired.reason is Reason.EXPIRED
    assert (expired.message_zh, expired.message_en) == ("优惠券已过期（有效期至2026-12-21 23:59）",
                                                        "This coupon has expired (valid until 2026-12-21 23:59)")
    assert "12-22" not in expired.message_zh + expired.message_en


def test_a_used_or_unknown_code_gives_nothing() -> None:
    assert one(None, basket(line("100"))).reason is Reason.UNKNOWN_CODE
    for state in (State.REDEEMED, State.REVERSED, State.RELEASED):
        verdict = one(coupon(state=state), basket(line("100")))
        assert verdict.reason is Reason.ALREADY_USED and verdict.discount == 0


def test_a_reservation_blocks_other_sales_until_it_expires() -> None:
    held = coupon(state=State.RESERVED, reserved_for=("S001", "T-other"), reserved_until=NOW + timedelta(minutes=5))
    assert one(held, basket(line("100"))).reason is Reason.RESERVED_ELSEWHERE
    mine = coupon(state=State.RESERVED, reserved_for=TXN, reserved_until=NOW + timedelta(minutes=5))
    assert one(mine, basket(line("100"))).ok
    lapsed = coupon(state=State.RESERVED, reserved_for=("S001", "T-other"), reserved_until=NOW)
    assert one(lapsed, basket(line("100"))).ok


def test_whether_a_reservation_holds_is_judged_by_the_services_clock_not_the_tills() -> None:
    held = coupon(state=State.RESERVED, reserved_for=("S001", "T-other"), reserved_until=NOW + timedelta(minutes=2))
    ahead = basket(line("100"), at=NOW + timedelta(minutes=4))  # a till's clock four minutes fast
    assert one(held, ahead).reason is Reason.RESERVED_ELSEWHERE
    lapsed = coupon(state=State.RESERVED, reserved_for=("S001", "T-other"), reserved_until=NOW - timedelta(minutes=1))
    behind = basket(line("100"), at=NOW - timedelta(minutes=10))  # a basket judged at an earlier time
    assert one(lapsed, behind).ok


def test_a_coupon_reserved_for_the_sale_before_it_expired_stays_good_for_it_while_reserved() -> None:
    reserved = coupon(state=State.RESERVED, reserved_for=TXN, valid_until=NOW - timedelta(minutes=1),
                      reserved_until=NOW + timedelta(minutes=10))
    assert one(reserved, basket(line("100"))).ok
    assert one(reserved, basket(line("100"), txn=("S001", "T-other"))).reason is Reason.RESERVED_ELSEWHERE
    lapsed = coupon(state=State.RESERVED, reserved_for=TXN, valid_until=NOW - timedelta(minutes=1), reserved_until=NOW)
    assert one(lapsed, basket(line("100"))).reason is Reason.EXPIRED


def test_caps_and_a_missing_member_are_reported_after_the_basket_rules() -> None:
    assert one(coupon(), basket(line("100")), capped=True).reason is Reason.CAP_REACHED
    assert one(coupon(), basket(line("100")), member_missing=True).reason is Reason.MEMBER_REQUIRED
    assert one(coupon(), basket(line("10")), capped=True).reason is Reason.BASKET_TOO_SMALL


def test_another_members_coupon_is_said_before_the_basket_rules() -> None:
    # No basket makes it this card's: asking for more spend would only send the customer shopping.
    assert one(coupon(), basket(line("10")), other_members=True).reason is Reason.OTHER_MEMBERS
    assert one(coupon(), basket(line("100")), other_members=True).reason is Reason.OTHER_MEMBERS
    assert one(coupon(), basket(line("10")), member_missing=True).reason is Reason.BASKET_TOO_SMALL


@pytest.mark.parametrize("because", [Reason.CARD_UNKNOWN, Reason.CARD_REPLACED])
def test_a_card_that_leads_to_nobody_is_named_as_such_not_asked_for(because: Reason) -> None:
    verdict = one(coupon(), basket(line("100")), member_missing=True, missing_because=because)
    assert verdict.reason is because
    assert "请先出示会员卡" not in verdict.message_zh and "Present the member card" not in verdict.message_en


def test_every_reason_has_a_message_in_both_languages() -> None:
    params = {"last": "x", "since": "x", "short": "1", "needed": "2", "other": "ABC"}
    for reason in Reason:
        zh, en = messages(reason, **params)
        assert zh and en and zh != en


# --- several codes in one sale


def joint(n: int, **overrides: Any) -> TemplateSpec:
    return spec(kind="amount_off", threshold=None, amount="10", stacking={"mode": "joint", "max_per_sale": n}, **overrides)


def test_an_exclusive_coupon_stands_alone_and_names_the_other_code() -> None:
    coupons = {"AAAA": coupon("AAAA"), "BBBB": coupon("BBBB", joint(3))}
    result = evaluate(basket(line("200")), ["AAAA", "BBBB"], coupons)
    assert result.of("AAAA").discount == D("20.00")
    second = result.of("BBBB")
    assert second.reason is Reason.CANNOT_COMBINE and "AAAA" in second.message_en and "AAAA" in second.message_zh
    result = evaluate(basket(line("200")), ["BBBB", "AAAA"], coupons)
    assert result.of("BBBB").ok and result.of("AAAA").reason is Reason.CANNOT_COMBINE


def test_joint_coupons_combine_up_to_the_smallest_maximum() -> None:
    coupons = {"AAAA": coupon("AAAA", joint(2)), "BBBB": coupon("BBBB", joint(3)), "CCCC": coupon("CCCC", joint(3))}
    result = evaluate(basket(line("200")), ["AAAA", "BBBB", "CCCC"], coupons)
    assert [v.ok for v in result.verdicts] == [True, True, False]
    assert result.total == D("20.00") and "AAAA" in result.of("CCCC").message_en
    result = evaluate(basket(line("200")), ["BBBB", "CCCC"], coupons)
    assert result.total == D("20.00")


def test_refused_codes_do_not_take_a_place_in_the_stack() -> None:
    coupons = {"AAAA": coupon("AAAA", state=State.REDEEMED), "BBBB": coupon("BBBB")}
    result = evaluate(basket(line("200")), ["AAAA", "BBBB", "ZZZZ"], coupons)
    assert [v.reason for v in result.verdicts] == [Reason.ALREADY_USED, None, Reason.UNKNOWN_CODE]


def test_the_discounts_of_a_sale_never_exceed_the_basket() -> None:
    coupons = {c: coupon(c, joint(3)) for c in ("AAAA", "BBBB", "CCCC")}
    result = evaluate(basket(line("15.00")), ["AAAA", "BBBB", "CCCC"], coupons)
    assert [v.discount for v in result.verdicts] == [D("10.00"), D("5.00"), D("0.00")]
    assert result.of("CCCC").reason is Reason.BASKET_TOO_SMALL
    assert result.total == D("15.00")
