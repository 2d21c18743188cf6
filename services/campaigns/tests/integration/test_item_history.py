"""Each member's item history for the offer lists: sales and returns in batches, in any order and
more than once, net per sale and SKU; erasure removes it. Against SQLite and PostgreSQL."""

from datetime import timedelta
from decimal import Decimal

import pytest

from campaigns.service_layer import item_history
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event
from shared.events.registry import PURCHASE_ATTRIBUTED, RETURN_ATTRIBUTED
from tests.support.audience import T0, erased, registered

pytestmark = pytest.mark.integration

MILK, RICE = "6907992500133", "6901234567890"


def _sale(member_id: str, txn: str, lines: list[tuple[str, str, str, str]], at=T0) -> Envelope:
    items = [c.AttributedLine(sku=s, category=cat, qty=Decimal(q), amount=Decimal(a)) for s, cat, q, a in lines]
    data = c.PurchaseAttributedV1(member_id=member_id, sale_event_id=f"sale-{txn}", store_id="S001", pos_txn_id=txn,
                                  occurred_at=at, total=sum((i.amount for i in items), Decimal("0.00")), lines=items)
    return new_event(PURCHASE_ATTRIBUTED, data, source="crm/members", subject=member_id)


def _return(member_id: str, txn: str, lines: list[tuple[str, str, str, str]], at=T0) -> Envelope:
    items = [c.AttributedLine(sku=s, category=cat, qty=Decimal(q), amount=Decimal(a)) for s, cat, q, a in lines]
    total = sum((i.amount for i in items), Decimal("0.00"))
    data = c.ReturnAttributedV1(member_id=member_id, refund_event_id=f"refund-{txn}", sale_event_id=f"sale-{txn}",
                                store_id="S001", refund_id=f"{txn}-R", pos_txn_id=txn, occurred_at=at, amount=total,
                                sale_total=total, lines=items)
    return new_event(RETURN_ATTRIBUTED, data, source="crm/members", subject=member_id)


async def lines(cmp, member_id: str, until=None) -> dict[str, tuple[Decimal, Decimal]]:
    async with cmp.app.state.commands() as uow:
        found = await item_history.lines_of(uow.session, T0 - timedelta(days=400), until or T0 + timedelta(days=30), [member_id])
    return {f"{ln.sku}@{ln.occurred_at:%m-%d}": (ln.qty, ln.amount) for ln in found}


async def test_a_batch_of_sales_is_kept_per_item_and_a_sku_on_two_lines_is_one_item(cmp) -> None:
    await cmp.apply(registered("m1"), registered("m2"))
    first = _sale("m1", "T1", [(MILK, "dairy", "1", "59.90"), (MILK, "dairy", "2", "119.80"), (RICE, "grain", "1.5", "39.90")])
    later = _sale("m1", "T2", [(MILK, "dairy", "1", "59.90")], at=T0 + timedelta(days=8))
    other = _sale("m2", "T3", [(RICE, "grain", "1", "39.90")])
    await cmp.apply(first, later, other)
    await cmp.apply(first)  # redelivered: skipped by its id
    await cmp.apply(_sale("m1", "T1", [(MILK, "dairy", "3", "179.70")]))  # republished under a new id
    assert await lines(cmp, "m1") == {
        f"{MILK}@12-05": (Decimal("3.000"), Decimal("179.70")), f"{RICE}@12-05": (Decimal("1.500"), Decimal("39.90")),
        f"{MILK}@12-13": (Decimal("1.000"), Decimal("59.90")),
    }
    assert await lines(cmp, "m2") == {f"{RICE}@12-05": (Decimal("1.000"), Decimal("39.90"))}


async def test_returns_net_the_sale_whichever_comes_first_and_a_full_return_drops_the_item(cmp) -> None:
    await cmp.apply(registered("m1"))
    back = _return("m1", "T1", [(MILK, "dairy", "1", "59.90"), (RICE, "grain", "1", "39.90")], at=T0 + timedelta(days=2))
    await cmp.apply(back)  # before its sale
    await cmp.apply(_sale("m1", "T1", [(MILK, "dairy", "2", "119.80"), (RICE, "grain", "1", "39.90")]))
    await cmp.apply(back)
    # The sale keeps its own time; what was returned is netted; rice went back whole.
    assert await lines(cmp, "m1") == {f"{MILK}@12-05": (Decimal("1.000"), Decimal("59.90"))}
    # Split before the return: it is not known yet, so the sale counts whole.
    assert await lines(cmp, "m1", until=T0 + timedelta(days=1)) == {
        f"{MILK}@12-05": (Decimal("2.000"), Decimal("119.80")), f"{RICE}@12-05": (Decimal("1.000"), Decimal("39.90"))}


async def test_erasure_removes_the_history_and_later_sales_are_not_kept(cmp) -> None:
    await cmp.apply(registered("m1"), registered("m2"))
    await cmp.apply(_sale("m1", "T1", [(MILK, "dairy", "1", "59.90")]), _sale("m2", "T2", [(MILK, "dairy", "1", "59.90")]))
    await cmp.apply(erased("m1"))
    await cmp.apply(_sale("m1", "T3", [(RICE, "grain", "1", "39.90")], at=T0 + timedelta(days=1)))
    assert await lines(cmp, "m1") == {}
    assert len(await lines(cmp, "m2")) == 1
    async with cmp.app.state.commands() as uow:
        assert await item_history.members_with_history(uow.session, T0 - timedelta(days=1), T0 + timedelta(days=5)) == ["m2"]


async def test_histories_give_the_days_of_each_sku_category_and_visit_and_the_last_unit_price(cmp) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    yogurt = "6900000000011"
    await cmp.apply(registered("m1"), registered("m2"))
    await cmp.apply(
        _sale("m1", "T1", [(MILK, "dairy", "1", "59.90"), (MILK, "dairy", "2", "119.80"), (RICE, "grain", "1.5", "39.90")]),
        _sale("m1", "T2", [(MILK, "dairy", "1", "61.00")], at=T0 + timedelta(days=8)),
        _sale("m1", "T3", [(yogurt, "dairy", "1", "5.50")], at=T0 + timedelta(days=3)),
        _return("m1", "T3", [(yogurt, "dairy", "1", "5.50")], at=T0 + timedelta(days=4)),  # in full: not a purchase
        _sale("m2", "T4", [(RICE, "grain", "1", "30.00")], at=T0 + timedelta(days=1)),
    )
    async with cmp.app.state.commands() as uow:
        found = await item_history.histories(uow.session, T0 - timedelta(days=400), T0 + timedelta(days=30), ["m1", "m3"], zone)
    day = T0.astimezone(zone).date().toordinal()
    assert set(found) == {"m1"}  # m2 was not asked for, m3 has no history
    m1 = found["m1"]
    assert m1.history == {f"sku:{MILK}": [day, day + 8], f"sku:{RICE}": [day], "category:dairy": [day, day + 8],
                          "category:grain": [day]}
    assert m1.visits == [day, day + 8]
    assert m1.paid_last == {MILK: Decimal("61.00"), RICE: Decimal("26.60")}
