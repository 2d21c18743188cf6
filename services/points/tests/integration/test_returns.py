"""Returns reverse what the returned lines earned: proportional, once, never more than earned."""

from datetime import UTC, datetime

import pytest

from points.adapters.repository import AccountRepository
from points.adapters.tables import EarningRuleRow
from points.domain.model import Source
from points.jobs import expire_points

pytestmark = pytest.mark.integration


async def test_a_partial_return_reverses_in_proportion(pts) -> None:
    sale = pts.sale("r1", [("grain", "118.80"), ("appliances", "100.00")])  # 218 points
    await pts.apply(sale)
    await pts.apply(pts.ret(sale, [("appliances", "100.00")], refund="R1"))
    acc = await pts.account("r1")
    assert acc["balance"] == 218 - 100
    reverse = acc["entries"][0]
    assert (reverse["entry_type"], reverse["points"], reverse["source_ref"]) == ("reverse", -100, "return:S001/R1")


async def test_a_redelivered_return_is_reversed_once(pts) -> None:
    sale = pts.sale("r2", "80.00")
    ret = pts.ret(sale, "40.00", refund="R2")
    await pts.apply(sale, ret, ret)
    await pts.apply(ret)
    await pts.apply(pts.ret(sale, "40.00", refund="R2"))  # the same return under a new event id
    assert await pts.balance("r2") == 40


async def test_a_return_at_another_store_reverses_its_sales_points_once(pts) -> None:
    """Bought at S001, brought back to S002: S002's return R1 reverses what S001's sale earned, once
    however often it arrives, and is another return than S001's own R1; S002's sale under the same
    transaction id keeps its points."""
    sale = pts.sale("r6", [("grain", "118.80"), ("appliances", "100.00")], txn="T-6")  # 218 points
    same_txn_elsewhere = pts.sale("r6", "50.00", txn="T-6", store="S002")
    elsewhere = pts.ret(sale, [("appliances", "100.00")], refund="R1", store="S002")
    resent = pts.ret(sale, [("appliances", "100.00")], refund="R1", store="S002")  # under a new event id
    await pts.apply(sale, same_txn_elsewhere, elsewhere, elsewhere)
    await pts.apply(resent, pts.ret(sale, [("grain", "18.80")], refund="R1"))  # S001's own R1
    acc = await pts.account("r6")
    assert acc["balance"] == 218 + 50 - 100 - 18
    reversals = sorted((e["source_ref"], e["points"], e["reason"]) for e in acc["entries"] if e["entry_type"] == "reverse")
    assert reversals == [("return:S001/R1", -18, "return S001/R1 of sale S001/T-6"),
                         ("return:S002/R1", -100, "return S002/R1 of sale S001/T-6")]


async def test_a_return_at_another_store_read_before_its_sale_waits_for_it(pts) -> None:
    sale = pts.sale("r7", "80.00", txn="T-7")
    await pts.apply(pts.ret(sale, "30.00", refund="R1", store="S002"))
    await pts.apply(sale)
    assert await pts.balance("r7") == 50


async def test_several_returns_never_take_back_more_than_the_sale_earned(pts) -> None:
    sale = pts.sale("r3", "100.99")
    await pts.apply(sale, pts.ret(sale, "33.33"), pts.ret(sale, "33.33"), pts.ret(sale, "34.33"), pts.ret(sale, "10.00"))
    assert await pts.balance("r3") == 0
    assert await pts.ledger_sum("r3") == 0


async def test_returning_an_excluded_line_reverses_nothing(pts) -> None:
    async with pts.app.state.sessions() as s:  # a version excluding tobacco, in force since long before the sale
        s.add(EarningRuleRow(version=2, effective_from=datetime(2020, 1, 1, tzinfo=UTC),
                             body={"category_multipliers": {"tobacco": "0"}}, reason="tobacco earns nothing",
                             created_by="test", created_at=datetime.now(UTC)))
        await s.commit()
    sale = pts.sale("r4", [("tobacco", "200.00"), ("grain", "50.50")])
    await pts.apply(sale)
    assert await pts.balance("r4") == 50
    await pts.apply(pts.ret(sale, [("tobacco", "200.00")]))
    assert await pts.balance("r4") == 50


async def test_a_return_after_spending_drives_the_balance_negative_and_blocks_redemption(pts) -> None:
    sale = pts.sale("r5", "12000.00")
    await pts.apply(pts.registered("r5"), sale)
    await pts.stock("cushion", "S001", 5)
    assert (await pts.redeem("r5", "cushion")).status_code == 201  # 12,000 - 10,000 = 2,000 left
    await pts.apply(pts.ret(sale, "12000.00"))
    acc = await pts.account("r5")
    assert acc["balance"] == -10_000 and acc["redemptions_blocked"] is True
    await pts.apply(pts.sale("r5", "9000.00"))  # -1,000: still blocked, even for a cheap gift
    r = await pts.redeem("r5", "cushion")
    assert r.status_code == 409 and "negative" in r.json()["detail"]
    await pts.apply(pts.sale("r5", "11000.00"))  # 10,000: back above zero
    assert (await pts.redeem("r5", "cushion")).status_code == 201


async def test_a_return_that_arrives_before_its_sale_is_applied_when_the_sale_is_booked(pts) -> None:
    sale = pts.sale("r6", "300.00")
    ret = pts.ret(sale, "100.00")
    await pts.apply(ret)
    assert (await pts.client.get("/v1/accounts/r6", headers=pts.desk())).status_code == 404  # nothing booked yet
    await pts.apply(ret)  # redelivered while waiting: still one
    await pts.apply(sale)
    acc = await pts.account("r6")
    assert acc["balance"] == 200
    assert [e["entry_type"] for e in acc["entries"]] == ["reverse", "earn"]
    await pts.apply(pts.ret(sale, "100.00", refund=ret.data["refund_id"]))  # and once more, later
    assert await pts.balance("r6") == 200


async def test_a_waiting_return_in_the_same_batch_as_its_sale_is_applied(pts) -> None:
    sale = pts.sale("r7", "50.00")
    ret = pts.ret(sale, "50.00")
    await pts.apply(ret, sale, pts.sale("r7", "10.00"))
    assert await pts.balance("r7") == 10 == await pts.ledger_sum("r7")


EARNED_2024 = datetime(2024, 6, 1, 4, tzinfo=UTC)  # valid until 2025-12-31
AFTER_EXPIRY = datetime(2026, 1, 2, 4, tzinfo=UTC)


async def test_a_return_does_not_take_back_points_of_its_sale_that_already_expired(pts) -> None:
    # The audit's case: the 2024 sale's 10,000 points expired, then the sale came back in full.
    old = pts.sale("r8", "10000.00", at=EARNED_2024)
    await pts.apply(old, pts.sale("r8", "500.00"))
    expired = await expire_points(pts.app.state.commands, pts.app.state.settings, AFTER_EXPIRY)
    assert expired["points_expired"] == 10_000 and await pts.balance("r8") == 500
    await pts.apply(pts.ret(old, "10000.00", refund="R8"))
    acc = await pts.account("r8")
    assert acc["balance"] == 500 == await pts.ledger_sum("r8")  # was -9,500
    reverse = acc["entries"][0]
    assert (reverse["entry_type"], reverse["points"], reverse["source_ref"]) == ("reverse", 0, "return:S001/R8")
    assert "the goods earned 10000; 10000 of the sale's points had already expired" in reverse["reason"]


async def test_a_return_takes_back_what_of_its_sale_was_spent_but_not_what_expired(pts) -> None:
    old = pts.sale("r9", "10000.00", at=EARNED_2024)
    await pts.apply(old)
    async with pts.app.state.sessions() as s:  # 3,000 of the sale's points bought a gift in 2025
        repo = AccountRepository(s, EARNED_2024)
        account = await repo.lock("r9")
        account.redeem(3_000, reason="gift", source=Source(ref="redemption:test-r9"), at=datetime(2025, 3, 1, tzinfo=UTC))
        await repo.save(account)
        await s.commit()
    await expire_points(pts.app.state.commands, pts.app.state.settings, AFTER_EXPIRY)
    await pts.apply(pts.sale("r9", "1000.00"))
    assert await pts.balance("r9") == 1_000
    half = pts.ret(old, "5000.00", refund="R9a")  # the goods earned 5,000; 3,000 of the sale's are open
    await pts.apply(half)
    assert await pts.balance("r9") == -2_000
    await pts.apply(pts.ret(old, "5000.00", refund="R9b"), half)  # the rest: nothing left to take back
    acc = await pts.account("r9")
    assert acc["balance"] == -2_000 == await pts.ledger_sum("r9")
    assert [(e["entry_type"], e["points"]) for e in acc["entries"][:2]] == [("reverse", 0), ("reverse", -3_000)]


async def test_a_return_before_its_sale_s_points_expired_takes_everything_back_as_before(pts) -> None:
    old = pts.sale("r10", "800.00", at=EARNED_2024)
    await pts.apply(old, pts.sale("r10", "200.00"))
    await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2025, 12, 20, tzinfo=UTC))  # warns only
    await pts.apply(pts.ret(old, "800.00"))
    assert await pts.balance("r10") == 200


async def test_a_return_takes_back_its_own_sale_s_points_not_older_ones_about_to_expire(pts) -> None:
    """100 points of 2024 end on 2025-12-31; a sale on 2025-12-20 earns 100 valid until 2026-12-31 and
    comes back the next day. What is left are the 2024 points, and they expire at the new year: the
    return took back the new sale's points, not the oldest ones (which left the new ones standing a
    year longer, a free extension of points about to expire)."""
    await pts.apply(pts.sale("r11", "100.00", at=EARNED_2024))
    late = pts.sale("r11", "100.00", at=datetime(2025, 12, 20, 4, tzinfo=UTC))
    await pts.apply(late, pts.ret(late, "100.00", refund="R11", at=datetime(2025, 12, 21, 4, tzinfo=UTC)))
    assert await pts.balance("r11") == 100
    expired = await expire_points(pts.app.state.commands, pts.app.state.settings, AFTER_EXPIRY)
    assert expired["points_expired"] == 100
    assert await pts.balance("r11") == 0 == await pts.ledger_sum("r11")
