"""Sales with coupons: spend (lifetime spend, tiers, milestones, the information base) follows
what the customer paid; line amounts stay as sold; returns give back their share of what was paid.
"""

import json
from decimal import Decimal

import pytest
from sqlmodel import select

from members.adapters.tables import MemberRow, PurchaseRow
from members.adapters.tables.infobase import MemberDaySpendRow
from shared.events import contracts as c
from tests.support.factories import line, spend_line
from tests.support.members import deliver_refund, deliver_sale, desk, outbox, register

pytestmark = pytest.mark.integration

RICE = line(sku="rice", qty="2", unit_price="50.00")      # 100.00
OIL = line(sku="oil", qty="1", unit_price="80.00")        # 80.00
COUPON = {"code": "K7QM2XWD9P", "amount": "20.00", "label": "满100减20"}
PROMOTION = {"amount": "16.00", "label": "会员日"}


async def member_row(members, member_id: str) -> MemberRow:
    async with members.app.state.sessions() as s:
        return (await s.exec(select(MemberRow).where(MemberRow.id == member_id))).one()


def payloads(rows, model) -> list:
    return [model.model_validate(json.loads(r.envelope)["data"]) for r in rows]


async def test_a_discounted_sale_counts_what_was_paid_and_announces_its_discount(members, env) -> None:
    m = await register(members, env)
    txn = await deliver_sale(members, card_no=m["card_no"], lines=[RICE, OIL], coupons=["K7QM2XWD9P"],
                             discounts=[COUPON, PROMOTION])
    row = await member_row(members, m["id"])
    assert row.lifetime_spend == Decimal("144.00") and row.purchase_count == 1
    [sale] = payloads(await outbox(members, "crm.members.purchase_attributed.v1"), c.PurchaseAttributedV1)
    assert (sale.total, sale.discount) == (Decimal("180.00"), Decimal("36.00"))
    # Lines stay at what the goods sold for: category analytics weigh goods, not coupons.
    assert [(ln.sku, ln.amount) for ln in sale.lines] == [("rice", Decimal("100.00")), ("oil", Decimal("80.00"))]
    async with members.app.state.sessions() as s:
        purchase = (await s.exec(select(PurchaseRow).where(PurchaseRow.pos_txn_id == txn))).one()
        day = (await s.exec(select(MemberDaySpendRow).where(MemberDaySpendRow.member_id == m["id"]))).all()
    assert (purchase.total, purchase.discount) == (Decimal("180.00"), Decimal("36.00"))
    assert [d.spend for d in day] == [Decimal("144.00")]
    [listed] = (await members.get(f"/v1/members/{m['id']}/purchases", headers=desk(env))).json()
    assert (listed["total"], listed["discount"]) == ("180.00", "36.00")


async def test_a_return_of_a_discounted_sale_gives_back_its_share_of_what_was_paid(members, env) -> None:
    m = await register(members, env)
    txn = await deliver_sale(members, card_no=m["card_no"], lines=[RICE, OIL], discounts=[PROMOTION, {"amount": "20.00"}])
    await deliver_refund(members, txn=txn, lines=[OIL])  # 80 of 180 returned; 144 of 180 paid
    row = await member_row(members, m["id"])
    assert row.lifetime_spend == Decimal("80.00")  # 144 - 80 x 144/180 = 144 - 64
    [ret] = payloads(await outbox(members, "crm.members.return_attributed.v1"), c.ReturnAttributedV1)
    # The event keeps line amounts: the share returned is amount / sale_total, as without a discount.
    assert (ret.amount, ret.sale_total) == (Decimal("80.00"), Decimal("180.00"))
    async with members.app.state.sessions() as s:
        day = (await s.exec(select(MemberDaySpendRow).where(MemberDaySpendRow.member_id == m["id"]))).all()
    assert [d.spend for d in day] == [Decimal("80.00")]
    await deliver_refund(members, txn=txn, lines=[RICE])
    assert (await member_row(members, m["id"])).lifetime_spend == Decimal("0.00")


async def test_a_discounted_sale_before_registration_counts_what_was_paid_at_registration(members, env) -> None:
    txn = await deliver_sale(members, card_no="8800000066666", lines=[RICE, OIL], coupons=["K7QM2XWD9P"], discounts=[COUPON])
    await deliver_refund(members, txn=txn, lines=[RICE])  # 100 of 180: gives back 100 x 160/180 = 88.89
    m = await register(members, env, card_no="8800000066666")
    assert (await member_row(members, m["id"])).lifetime_spend == Decimal("71.11")
    [sale] = payloads(await outbox(members, "crm.members.purchase_attributed.v1"), c.PurchaseAttributedV1)
    assert sale.late_match and sale.discount == Decimal("20.00")


async def test_the_vip_threshold_is_reached_on_what_was_paid_not_on_shelf_prices(members, env) -> None:
    m = await register(members, env)
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("5100.00")], coupons=["SPRING200"],
                       discounts=[{"code": "SPRING200", "amount": "200.00"}])
    row = await member_row(members, m["id"])
    assert row.lifetime_spend == Decimal("4900.00") and row.tier == "member"
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("100.00")])
    assert (await member_row(members, m["id"])).tier == "vip"


async def test_the_purchase_list_adds_up_to_what_levels_1_and_2_count(members, env) -> None:
    """Level 3 shows each discounted sale's discounts as a row of their own, and what a return of
    it kept of them, so that its amounts add up to the spend levels 1 and 2 count."""
    m = await register(members, env, community="翠苑")
    txn = await deliver_sale(members, card_no=m["card_no"], lines=[RICE, OIL], discounts=[PROMOTION, {"amount": "20.00"}])
    plain = await deliver_sale(members, card_no=m["card_no"], lines=[OIL])
    await deliver_refund(members, txn=txn, lines=[OIL])  # gives back 64.00 of the 80.00 the oil sold for
    r = await members.get(f"/v1/infobase/members/{m['id']}/purchases", headers=desk(env))
    assert r.status_code == 200, r.text
    rows = [(i["kind"], i["pos_txn_id"], i["sku"], Decimal(i["qty"]), Decimal(i["amount"])) for i in r.json()["items"]]
    assert sorted(rows, key=lambda row: row[1] != plain) == [
        ("sale", plain, "oil", Decimal("1"), Decimal("80.00")),
        ("sale", txn, "rice", Decimal("2"), Decimal("100.00")),
        ("sale", txn, "oil", Decimal("1"), Decimal("80.00")),
        ("discount", txn, "", Decimal("-1"), Decimal("-36.00")),  # one row of -1 x 36.00
        ("return", txn, "oil", Decimal("-1"), Decimal("-80.00")),
        ("return_discount", txn, "", Decimal("1"), Decimal("16.00")),
    ]
    assert r.json()["total"] == 6
    customers = await members.get(f"/v1/infobase/communities/{(await member_row(members, m['id'])).community_id}/customers",
                                  headers=desk(env))
    [customer] = customers.json()["items"]
    assert Decimal(customer["spend"]) == sum(amount for *_, amount in rows) == Decimal("160.00")  # 144 - 64 + 80
    printed = await members.get(f"/v1/infobase/members/{m['id']}/purchases", params={"format": "csv"}, headers=desk(env))
    assert "折扣 Discounts" in printed.text and "退货扣回折扣" in printed.text
