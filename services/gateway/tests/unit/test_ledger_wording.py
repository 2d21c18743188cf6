"""What each kind of points ledger entry says to the member, built from the entry as points answers
it: its kind, its source and, where points keeps a fact only there, its reason."""

from datetime import date

import pytest

from gateway.domain.ledger_wording import GENERIC, Names, describe, named
from shared import ledger_reasons as reasons

pytestmark = pytest.mark.unit

NAMES = Names(stores={"S001": "城东大卖场", "S002": "城西店"}, gifts={"rice-cooker": ("电饭锅", "Rice cooker")})
NO_NAMES = Names(stores={}, gifts={})


def entry(entry_type: str, source_ref: str, reason: str) -> dict[str, object]:
    return {"id": 1, "entry_type": entry_type, "points": 1, "balance_after": 1, "reason": reason, "source_ref": source_ref}


# Each source as points writes it, and each reason written as points writes it (staff write the
# reasons of adjustments and bonuses).
@pytest.mark.parametrize(("booked", "zh", "en"), [
    (entry("earn", "sale:S001/T1001", reasons.purchase("S001/T1001", earns_points=True, below_minimum=False, capped_at=None)),
     "购物：城东大卖场，小票 T1001", "Purchase at 城东大卖场, receipt T1001"),
    (entry("earn", "sale:S001/POS-7/2026/88", reasons.purchase("S001/POS-7/2026/88", earns_points=True, below_minimum=False, capped_at=None)),
     "购物：城东大卖场，小票 POS-7/2026/88", "Purchase at 城东大卖场, receipt POS-7/2026/88"),
    (entry("earn", "sale:S002/T9", reasons.purchase("S002/T9", earns_points=False, below_minimum=False, capped_at=None)),
     "导入的购物记录：城西店，小票 T9（不积分）", "Imported purchase at 城西店, receipt T9 (earns no points)"),
    (entry("earn", "sale:S001/T2", reasons.purchase("S001/T2", earns_points=True, below_minimum=True, capped_at=None)),
     "购物：城东大卖场，小票 T2（未达积分最低消费金额）", "Purchase at 城东大卖场, receipt T2 (below the minimum amount that earns points)"),
    (entry("earn", "sale:S001/T3", reasons.purchase("S001/T3", earns_points=True, below_minimum=False, capped_at=1_000_000)),
     "购物：城东大卖场，小票 T3（单笔积分已达上限）", "Purchase at 城东大卖场, receipt T3 (points capped for one purchase)"),
    (entry("reverse", "return:S002/R1", reasons.sale_return("S002/R1", "S001/T1001")),
     "退货：城西店，退货单 R1，原小票 T1001", "Return at 城西店, refund R1, of receipt T1001"),
    (entry("reverse", "return:S001/R2", reasons.sale_return("S001/R2", "S001/T5", goods_earned=80, expired=30)),
     "退货：城东大卖场，退货单 R2，原小票 T5", "Return at 城东大卖场, refund R2, of receipt T5"),
    (entry("redeem", "redemption:7d1c", reasons.gift_redeemed("rice-cooker", "S001")),
     "兑换礼品：电饭锅（城东大卖场）", "Gift redeemed: Rice cooker (城东大卖场)"),
    (entry("cancel_redeem", "redemption:7d1c", reasons.gift_cancelled("rice-cooker", "changed my mind")),
     "取消兑换，积分退回：电饭锅", "Gift reservation cancelled, points returned: Rice cooker"),
    (entry("adjust", "adjust:key-1", "points of sale T77 missed by the till"), "积分调整", "Points adjustment"),
    (entry("bonus", "bonus:key-2", "welcome gift"), "赠送积分", "Bonus points"),
    (entry("bonus", "bulk:job-9", "double points weekend"), "活动赠送积分", "Bonus points from a promotion"),
    (entry("bonus", "complaint:c-1", "complaint compensation"), "投诉补偿积分", "Compensation for your complaint"),
    (entry("expire", "expiry:2026-12-31@2027-01-01", reasons.points_expired(date(2026, 12, 31))),
     "积分过期（有效期至 2026-12-31）", "Points expired (valid until 2026-12-31)"),
    (entry("expire", "expiry:2026-12-31@2027-01-01#2", reasons.points_expired(date(2026, 12, 31))),
     "积分过期（有效期至 2026-12-31）", "Points expired (valid until 2026-12-31)"),
])
def test_each_kind_of_entry_is_described_in_chinese_and_english(booked, zh, en) -> None:
    assert describe(booked, NAMES) == (zh, en)


def test_a_store_or_gift_without_a_known_name_is_named_by_its_id() -> None:
    assert describe(entry("earn", "sale:S009/T1", "purchase S009/T1"), NO_NAMES) == ("购物：S009，小票 T1", "Purchase at S009, receipt T1")
    assert describe(entry("redeem", "redemption:x", "gift kettle at S001"), NAMES) == (
        "兑换礼品：kettle（城东大卖场）", "Gift redeemed: kettle (城东大卖场)")


def test_an_entry_whose_reason_says_less_than_points_writes_is_still_described() -> None:
    # After an erasure points replaces the reasons of entries staff caused: the kind still tells.
    assert describe(entry("redeem", "redemption:x", "（已注销）"), NAMES) == ("兑换礼品：礼品", "Gift redeemed: a gift")
    assert describe(entry("cancel_redeem", "redemption:x", "（已注销）"), NAMES) == (
        "取消兑换，积分退回：礼品", "Gift reservation cancelled, points returned: a gift")
    assert describe(entry("reverse", "return:S001/R3", "（已注销）"), NAMES) == ("退货：城东大卖场，退货单 R3", "Return at 城东大卖场, refund R3")


def test_a_kind_points_adds_later_is_a_change_of_points() -> None:
    assert describe(entry("transfer", "transfer:1", "moved from card 88"), NAMES) == GENERIC
    assert describe({"entry_type": "earn"}, NAMES) == GENERIC


def test_the_stores_and_gifts_a_page_names_are_gathered_for_their_names() -> None:
    page = [entry("earn", "sale:S001/T1", "purchase S001/T1"), entry("reverse", "return:S002/R1", "return S002/R1 of sale S001/T1"),
            entry("redeem", "redemption:a", "gift rice-cooker at S003"), entry("cancel_redeem", "redemption:b", "cancelled gift kettle: x"),
            entry("expire", "expiry:2026-12-31@2027-01-01", "points valid until 2026-12-31 expired")]
    assert named(page) == ({"S001", "S002", "S003"}, {"rice-cooker", "kettle"})
    assert named([entry("bonus", "bulk:j", "promo")]) == (set(), set())
