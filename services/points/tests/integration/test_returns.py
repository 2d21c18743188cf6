"""Returns reverse what the returned lines earned: proportional, once, never more than earned."""

from datetime import UTC, datetime

import pytest

from points.adapters.tables import EarningRuleRow

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
