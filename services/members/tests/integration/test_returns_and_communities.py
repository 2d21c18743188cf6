"""Returns against members' spend, in whatever order sale and return arrive; communities by alias."""

import json
from decimal import Decimal

import pytest
from sqlmodel import select

from members.adapters.tables import MemberRow, PurchaseRow, ReturnRow
from members.domain.spend import ReturnTooLarge
from shared.auth import Role
from shared.events import contracts as c
from shared.outbox import OutboxRecord
from tests.support.factories import line
from tests.support.members import deliver_refund, deliver_sale, desk, outbox, register

pytestmark = pytest.mark.integration

RICE = line(sku="rice", qty="2", unit_price="50.00")      # 100.00
OIL = line(sku="oil", qty="1", unit_price="80.00")        # 80.00


async def member_row(members, member_id: str) -> MemberRow:
    async with members.app.state.sessions() as s:
        return (await s.exec(select(MemberRow).where(MemberRow.id == member_id))).one()


def payloads(rows: list[OutboxRecord], model):
    return [model.model_validate(json.loads(r.envelope)["data"]) for r in rows]


async def test_a_return_lowers_spend_and_is_announced_for_the_member(members, env) -> None:
    m = await register(members, env)
    txn = await deliver_sale(members, card_no=m["card_no"], lines=[RICE, OIL])
    await deliver_refund(members, txn=txn, lines=[OIL])
    row = await member_row(members, m["id"])
    assert row.lifetime_spend == Decimal("100.00") and row.purchase_count == 1
    [ret] = payloads(await outbox(members, "crm.members.return_attributed.v1"), c.ReturnAttributedV1)
    assert ret.member_id == m["id"] and ret.amount == Decimal("80.00") and ret.sale_total == Decimal("180.00")
    assert [ln.sku for ln in ret.lines] == ["oil"]


async def test_a_return_arriving_before_its_sale_waits_and_counts_once_the_sale_arrives(members, env) -> None:
    m = await register(members, env)
    await deliver_refund(members, txn="T-early", lines=[OIL])
    assert await outbox(members, "crm.members.return_attributed.v1") == []
    await deliver_sale(members, card_no=m["card_no"], txn="T-early", lines=[RICE, OIL])
    assert (await member_row(members, m["id"])).lifetime_spend == Decimal("100.00")
    types = [r.event_type for r in await outbox(members, "crm.members.purchase_attributed.v1")] + [
        r.event_type for r in await outbox(members, "crm.members.return_attributed.v1")]
    assert types == ["crm.members.purchase_attributed.v1", "crm.members.return_attributed.v1"]


async def test_returns_of_sales_made_before_registration_count_at_registration(members, env) -> None:
    txn = await deliver_sale(members, card_no="8800000055555", lines=[RICE, OIL])
    await deliver_refund(members, txn=txn, lines=[RICE])
    m = await register(members, env, card_no="8800000055555")
    row = await member_row(members, m["id"])
    assert row.lifetime_spend == Decimal("80.00")
    [ret] = payloads(await outbox(members, "crm.members.return_attributed.v1"), c.ReturnAttributedV1)
    assert ret.late_match and ret.member_id == m["id"]


async def test_the_same_return_under_another_event_id_counts_once(members, env) -> None:
    m = await register(members, env)
    txn = await deliver_sale(members, card_no=m["card_no"], lines=[RICE, OIL])
    await deliver_refund(members, txn=txn, lines=[OIL], refund_id="R-1", event_id="e-1")
    await deliver_refund(members, txn=txn, lines=[OIL], refund_id="R-1", event_id="e-2")
    await deliver_refund(members, txn=txn, lines=[OIL], refund_id="R-1", event_id="e-1")
    assert (await member_row(members, m["id"])).lifetime_spend == Decimal("100.00")


async def test_a_return_beyond_what_is_left_of_the_sale_is_refused_and_changes_nothing(members, env) -> None:
    m = await register(members, env)
    txn = await deliver_sale(members, card_no=m["card_no"], lines=[RICE])
    await deliver_refund(members, txn=txn, lines=[RICE], refund_id="R-a")
    # Nothing is left of the sale: the handler refuses, so the consumer retries and dead-letters it.
    with pytest.raises(ReturnTooLarge):
        await deliver_refund(members, txn=txn, lines=[RICE], refund_id="R-b")
    assert (await member_row(members, m["id"])).lifetime_spend == Decimal("0.00")
    async with members.app.state.sessions() as s:
        refunds = (await s.exec(select(ReturnRow.refund_id).where(ReturnRow.pos_txn_id == txn))).all()
        sale = (await s.exec(select(PurchaseRow).where(PurchaseRow.pos_txn_id == txn))).one()
    assert refunds == ["R-a"] and sale.returned == Decimal("100.00")


async def test_a_return_at_another_store_reverses_its_sales_spend_once(members, env) -> None:
    """Bought at S001, brought back to S002: the return (S002's, naming S001 as the sale's store)
    lowers the sale's spend once, and the store of the sale keeps the figure, as for any return."""
    m = await register(members, env, community="阳光花园", address="3幢2单元401")
    txn = await deliver_sale(members, card_no=m["card_no"], lines=[RICE, OIL], store="S001")
    # S002 has a sale under the same transaction id: not the one returned.
    await deliver_sale(members, card_no=m["card_no"], lines=[RICE], store="S002", txn=txn)
    for event_id in ("e-1", "e-2"):  # redelivered under another event id: counted once
        await deliver_refund(members, txn=txn, lines=[OIL], store="S002", sale_store="S001", refund_id="R-1",
                             card_no=m["card_no"], event_id=event_id)
    row = await member_row(members, m["id"])
    assert row.lifetime_spend == Decimal("200.00") and row.purchase_count == 2
    [ret] = payloads(await outbox(members, "crm.members.return_attributed.v1"), c.ReturnAttributedV1)
    async with members.app.state.sessions() as s:
        sold = {p.store_id: p for p in (await s.exec(select(PurchaseRow).where(PurchaseRow.pos_txn_id == txn))).all()}
        stored = (await s.exec(select(ReturnRow).where(ReturnRow.refund_id == "R-1"))).one()
    assert ret.sale_event_id == sold["S001"].sale_event_id
    assert (ret.store_id, ret.sale_store_id, ret.amount) == ("S002", "S001", Decimal("80.00"))
    assert (sold["S001"].returned, sold["S002"].returned) == (Decimal("80.00"), Decimal("0.00"))
    assert (stored.store_id, stored.sale_store_id, stored.purchase_id) == ("S002", "S001", sold["S001"].id)
    # Store figures: the return lowers the sale's store (S001), not the store that paid it back.
    by_store = {}
    for store in ("S001", "S002"):
        r = await members.get("/v1/infobase/communities", params={"store_id": store}, headers=env.auth(Role.MARKETING))
        assert r.status_code == 200, r.text
        by_store[store] = {i["name"]: Decimal(i["spend"]) for i in r.json()["items"]}["阳光花园"]
    assert by_store == {"S001": Decimal("100.00"), "S002": Decimal("100.00")}


async def test_a_return_at_another_store_arriving_before_its_sale_waits_for_that_sale(members, env) -> None:
    """An anonymous-looking return read before its sale waits for the sale of the store it names,
    not for a sale of the returning store under the same transaction id."""
    m = await register(members, env)
    await deliver_refund(members, txn="T-far", lines=[OIL], store="S002", sale_store="S001")
    await deliver_sale(members, card_no=m["card_no"], txn="T-far", lines=[RICE, OIL], store="S002")
    assert await outbox(members, "crm.members.return_attributed.v1") == []
    await deliver_sale(members, card_no=m["card_no"], txn="T-far", lines=[RICE, OIL], store="S001")
    assert (await member_row(members, m["id"])).lifetime_spend == Decimal("280.00")
    [ret] = payloads(await outbox(members, "crm.members.return_attributed.v1"), c.ReturnAttributedV1)
    async with members.app.state.sessions() as s:
        sale = (await s.exec(select(PurchaseRow).where(PurchaseRow.store_id == "S001", PurchaseRow.pos_txn_id == "T-far"))).one()
    assert (ret.sale_event_id, ret.sale_total, sale.returned) == (sale.sale_event_id, Decimal("180.00"), Decimal("80.00"))


async def test_community_names_with_and_without_the_suffix_are_one_community(members, env) -> None:
    a = await register(members, env, community="阳光花园", address="1幢101")
    b = await register(members, env, community="阳光花园小区", address="1 幢 101")
    c_ = await register(members, env, community="ＡＢＣ 家园", address="2幢")
    d = await register(members, env, community="abc家园", address="3幢")
    rows = {m["id"]: await member_row(members, m["id"]) for m in (a, b, c_, d)}
    assert rows[a["id"]].community_id == rows[b["id"]].community_id
    assert rows[a["id"]].household_id == rows[b["id"]].household_id  # same address, written differently
    assert rows[c_["id"]].community_id == rows[d["id"]].community_id != rows[a["id"]].community_id
    assert rows[c_["id"]].household_id != rows[d["id"]].household_id
    found = (await members.get("/v1/members", params={"community": "阳光花园小区"}, headers=desk(env))).json()
    assert {x["id"] for x in found["items"]} == {a["id"], b["id"]}
