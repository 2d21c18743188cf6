"""The import of past sales (`POST /v1/sales/import`, what `crm import-sales` sends): recorded as
live sales are, refused one by one with the field and the reason, and never counted twice, on
SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func
from sqlmodel import select

from members.adapters.tables import MemberRow, PurchaseLineRow, PurchaseRow
from members.adapters.tables.infobase import MemberDaySpendRow
from members.service_layer.sales_batch import AnotherSale
from shared.auth import Role
from shared.outbox import OutboxRecord
from tests.support.factories import line, spend_line
from tests.support.members import deliver_sale, register

pytestmark = pytest.mark.integration

ATTRIBUTED = "crm.members.purchase_attributed.v1"
IMPORTED = "crm.members.sales_imported.v1"
SKU = line()["sku"]


def admin(env) -> dict[str, str]:
    return env.auth(Role.ADMIN)


def past_sale(txn: str, *, card_no: str | None = None, phone: str | None = None, total: str | None = None,
              lines: list[dict] | None = None, at: str = "2019-03-01T10:15:00+08:00", store: str = "S001") -> dict:
    sale: dict = {"store_id": store, "pos_txn_id": txn, "occurred_at": at}
    if card_no:
        sale["card_no"] = card_no
    if phone:
        sale["phone"] = phone
    if total is not None:
        sale["total"] = total
    if lines is not None or total is None:
        sale["lines"] = lines if lines is not None else [line(qty="1", unit_price="50.00")]
    return sale


async def send(members, env, sales: list[dict], points: str = "rule-at-time", *, dry_run: bool = False) -> dict:
    r = await members.post("/v1/sales/import", json={"points": points, "sales": sales, "dry_run": dry_run}, headers=admin(env))
    assert r.status_code == 200, r.text
    return r.json()


async def counts(members) -> dict[str, int]:
    async with members.app.state.sessions() as s:
        return {
            model.__name__: (await s.exec(select(func.count()).select_from(model))).one()
            for model in (PurchaseRow, PurchaseLineRow, OutboxRecord, MemberDaySpendRow)
        }


async def member_row(members, member_id: str) -> MemberRow:
    async with members.app.state.sessions() as s:
        return (await s.exec(select(MemberRow).where(MemberRow.id == member_id))).one()


async def announced(members, event_type: str = ATTRIBUTED) -> list[dict]:
    async with members.app.state.sessions() as s:
        rows = (await s.exec(select(OutboxRecord).where(OutboxRecord.event_type == event_type).order_by(OutboxRecord.id))).all()
    return [json.loads(r.envelope)["data"] for r in rows]


async def told_the_gateway(members) -> list[tuple[str, str, str, dict[str, str]]]:
    """(store, transaction, total, sku -> quantity) of every sale the `sales_imported` events list."""
    return [(s["store_id"], s["pos_txn_id"], s["total"], {q["sku"]: q["qty"] for q in s["sold"]})
            for e in await announced(members, IMPORTED) for s in e["sales"]]


async def test_past_sales_count_like_live_ones_and_are_announced_as_imported(members, env) -> None:
    by_card = await register(members, env)
    by_phone = await register(members, env, phone="13300000077")
    answer = await send(members, env, [
        past_sale("H-1", card_no=by_card["card_no"]),
        past_sale("H-2", phone="13300000077", lines=[line(qty="2", unit_price="10.00"), line(sku="oil", qty="1", unit_price="5.50")]),
        past_sale("H-3"),  # anonymous
        past_sale("H-4", card_no=by_card["card_no"], total="30.00", at="2020-06-01T09:00:00+08:00"),  # only a total
    ])
    assert (answer["imported"], answer["present"], answer["rejected"]) == (4, 0, 0)
    assert [r["status"] for r in answer["results"]] == ["imported"] * 4
    card = await member_row(members, by_card["id"])
    assert (card.lifetime_spend, card.purchase_count) == (Decimal("80.00"), 2)
    assert card.first_purchase_at is not None and card.first_purchase_at.year == 2019
    assert card.last_purchase_at is not None and card.last_purchase_at.year == 2020
    phone = await member_row(members, by_phone["id"])
    assert (phone.lifetime_spend, phone.purchase_count) == (Decimal("25.50"), 1)
    # The outbox: two events of each registration, the three member sales' announcements, and the
    # batch's transactions for the gateway (the anonymous one too: a till may not take its id either).
    assert await counts(members) == {"PurchaseRow": 4, "PurchaseLineRow": 4, "OutboxRecord": 8, "MemberDaySpendRow": 3}
    assert await told_the_gateway(members) == [
        ("S001", "H-1", "50.00", {SKU: "1"}), ("S001", "H-2", "25.50", {SKU: "2", "oil": "1"}),
        ("S001", "H-3", "50.00", {SKU: "1"}), ("S001", "H-4", "30.00", {})]
    # What a return at the till is held to: each sku's categories and what its lines came to.
    [h2] = [s for e in await announced(members, IMPORTED) for s in e["sales"] if s["pos_txn_id"] == "H-2"]
    assert [(q["sku"], q["categories"], q["amount"]) for q in h2["sold"]] == [(SKU, ["grain"], "20.00"), ("oil", ["grain"], "5.50")]
    events = await announced(members)
    assert [(e["pos_txn_id"], e["member_id"], e["imported"], e["earns_points"], len(e["lines"])) for e in events] == [
        ("H-1", by_card["id"], True, True, 1), ("H-2", by_phone["id"], True, True, 2), ("H-4", by_card["id"], True, True, 0)]
    assert events[2]["total"] == "30.00"
    assert datetime.fromisoformat(events[2]["occurred_at"]) == datetime(2020, 6, 1, 1, 0, tzinfo=UTC)


async def test_what_the_old_system_took_off_a_sale_is_not_spent_as_at_a_till(members, env) -> None:
    m = await register(members, env)
    lines = [line(qty="2", unit_price="40.00")]
    answer = await send(members, env, [
        {**past_sale("D-1", card_no=m["card_no"], lines=lines), "discount": "15.50"},
        {**past_sale("D-2", card_no=m["card_no"], total="30.00", lines=[]), "discount": "30.00"},  # all of it off
        {**past_sale("D-3", card_no=m["card_no"], lines=lines), "discount": "80.01"},
    ])
    assert [(r["status"], r["reason"]) for r in answer["results"]] == [
        ("imported", None), ("imported", None), ("rejected", "discount: 80.01 is more than the total 80.00")]
    async with members.app.state.sessions() as s:
        kept = (await s.exec(select(PurchaseRow.pos_txn_id, PurchaseRow.total, PurchaseRow.discount).order_by(PurchaseRow.pos_txn_id))).all()
        day_spend = (await s.exec(select(func.sum(MemberDaySpendRow.spend)))).one()
    assert [tuple(r) for r in kept] == [("D-1", Decimal("80.00"), Decimal("15.50")), ("D-2", Decimal("30.00"), Decimal("30.00"))]
    # The customer's spend (tiers, VIP) and the information base count what was paid.
    member = await member_row(members, m["id"])
    assert (member.lifetime_spend, member.purchase_count, day_spend) == (Decimal("64.50"), 2, Decimal("64.50"))
    # Points earn on what was paid, as they do for a till's discounted sale.
    assert [(e["pos_txn_id"], e["total"], e["discount"]) for e in await announced(members)] == [
        ("D-1", "80.00", "15.50"), ("D-2", "30.00", "30.00")]
    # A receipt shows it as a till's: the total and what was taken off it (newest first: the same
    # time, the later recorded).
    r = await members.get(f"/v1/members/{m['id']}/purchases", headers=admin(env))
    assert [(p["pos_txn_id"], p["total"], p["discount"]) for p in r.json()] == [("D-2", "30.00", "30.00"), ("D-1", "80.00", "15.50")]


async def test_importing_again_changes_nothing_and_says_present(members, env) -> None:
    m = await register(members, env)
    sales = [past_sale(f"R-{i}", card_no=m["card_no"]) for i in range(5)] + [past_sale("R-anon")]
    assert (await send(members, env, sales))["imported"] == 6
    before, spend = await counts(members), (await member_row(members, m["id"])).lifetime_spend
    again = await send(members, env, sales)
    assert (again["imported"], again["present"], again["rejected"]) == (0, 6, 0)
    assert await counts(members) == before
    assert (await member_row(members, m["id"])).lifetime_spend == spend == Decimal("250.00")


async def test_an_interrupted_import_resumed_counts_the_rest_once(members, env) -> None:
    m = await register(members, env)
    sales = [past_sale(f"P-{i}", card_no=m["card_no"]) for i in range(6)]
    await send(members, env, sales[:4])  # the run stopped after these
    resumed = await send(members, env, sales)
    assert [r["status"] for r in resumed["results"]] == ["present"] * 4 + ["imported"] * 2
    row = await member_row(members, m["id"])
    assert (row.lifetime_spend, row.purchase_count) == (Decimal("300.00"), 6)
    assert len(await announced(members)) == 6
    assert [txn for _, txn, _, _ in await told_the_gateway(members)] == [f"P-{i}" for i in range(6)]


async def test_a_sale_received_live_is_already_present_and_a_transaction_twice_counts_once(members, env) -> None:
    m = await register(members, env)
    txn = await deliver_sale(members, card_no=m["card_no"])
    live = await counts(members)
    answer = await send(members, env, [
        # The till's sale as the old system kept it: its time to the minute, in the chain's zone.
        past_sale(txn, card_no=m["card_no"], lines=[line(qty="2")], at="2026-11-23T10:15:00+08:00"),
        past_sale("D-1", card_no=m["card_no"]), past_sale("D-1", card_no=m["card_no"]),
    ])
    assert [r["status"] for r in answer["results"]] == ["present", "imported", "present"]
    after = await counts(members)
    # D-1's purchase_attributed, and the gateway told of D-1 alone: the live sale's id it has.
    assert (after["PurchaseRow"], after["OutboxRecord"]) == (live["PurchaseRow"] + 1, live["OutboxRecord"] + 2)
    assert [txn for _, txn, _, _ in await told_the_gateway(members)] == ["D-1"]


async def test_a_tills_sale_under_an_imported_id_counts_once_if_it_is_that_sale_and_is_refused_if_not(members, env) -> None:
    """The gateway hears of an import a moment after members recorded it: a till's sale under one
    of its transaction ids in that moment reaches members. The same sale counts once; another sale
    is an error of the handler, which the consumer dead-letters for operators, never dropped."""
    m = await register(members, env)
    await send(members, env, [past_sale("I-1", card_no=m["card_no"])])
    before = await counts(members)
    with pytest.raises(AnotherSale, match=r"S001/I-1 is recorded already as another sale, of 50.00 .* of 120.00"):
        await deliver_sale(members, card_no=m["card_no"], txn="I-1", lines=[line(qty="3", unit_price="40.00")])
    assert await counts(members) == before
    # Under the same event id (the gateway's, from store and transaction id), as the other would be.
    await deliver_sale(members, card_no=m["card_no"], txn="I-1", lines=[line(qty="1", unit_price="50.00")])
    assert await counts(members) == before
    assert (await member_row(members, m["id"])).lifetime_spend == Decimal("50.00")


async def test_a_past_sale_that_makes_a_vip_goes_the_one_by_one_way_and_is_still_announced_as_imported(members, env) -> None:
    m = await register(members, env)
    answer = await send(members, env, [
        past_sale("V-1", card_no=m["card_no"], lines=[spend_line("3000.00")]),
        past_sale("V-2", card_no=m["card_no"], lines=[spend_line("2500.00")], at="2019-04-01T10:00:00+08:00"),
        past_sale("V-3", card_no=m["card_no"], lines=[spend_line("100.00")], at="2019-05-01T10:00:00+08:00"),
    ], points="none")
    assert answer["imported"] == 3
    row = await member_row(members, m["id"])
    assert (row.tier, row.lifetime_spend, row.purchase_count) == ("vip", Decimal("5600.00"), 3)
    assert [(e["pos_txn_id"], e["imported"], e["earns_points"]) for e in await announced(members)] == [
        ("V-1", True, False), ("V-2", True, False), ("V-3", True, False)]
    async with members.app.state.sessions() as s:
        changes = (await s.exec(select(OutboxRecord).where(OutboxRecord.event_type == "crm.members.tier_changed.v1"))).all()
    assert len(changes) == 1


async def test_points_none_is_announced_as_earning_nothing(members, env) -> None:
    m = await register(members, env)
    await send(members, env, [past_sale("N-1", card_no=m["card_no"])], points="none")
    [event] = await announced(members)
    assert (event["imported"], event["earns_points"]) == (True, False)


async def test_each_bad_sale_is_refused_with_its_field_and_the_others_are_recorded(members, env) -> None:
    m = await register(members, env)
    answer = await send(members, env, [
        past_sale("B-0", card_no=m["card_no"]),
        past_sale("B-1", card_no="88000000000000"),
        past_sale("B-2", phone="13900000000"),
        past_sale("B-3", at="2019-03-01T10:15:00"),
        past_sale("B-4", at="2999-01-01T00:00:00+08:00"),
        past_sale("B-5", total="99.00", lines=[line(qty="1", unit_price="50.00")]),
        past_sale("B-6", card_no=m["card_no"], phone="13300000001"),
        {**past_sale("B-7"), "customer": "x"},
    ])
    assert [(r["status"], r["reason"]) for r in answer["results"]] == [
        ("imported", None),
        ("rejected", "card_no: no member has this card"),
        ("rejected", "phone: no member has this phone"),
        ("rejected", "occurred_at: a time needs its UTC offset, e.g. 2019-03-01T10:15:00+08:00, or the import its local time zone (--local-time-zone)"),
        ("rejected", "occurred_at: later than now; an import brings past sales"),
        ("rejected", "total: 99.00 is not the sum of the lines (50.00)"),
        ("rejected", "phone: give a card number or a phone, not both"),
        ("rejected", "customer: Extra inputs are not permitted"),
    ]
    assert (await counts(members))["PurchaseRow"] == 1


async def test_times_without_their_offset_are_taken_in_the_local_time_zone_the_import_names(members, env) -> None:
    body = {"points": "none", "sales": [past_sale("Z-1", at="2019-03-01 10:15:00"),
                                        past_sale("Z-2", at="2019-03-01T10:15:00+09:00")],
            "local_time_zone": "Asia/Shanghai"}
    r = await members.post("/v1/sales/import", json=body, headers=admin(env))
    assert r.status_code == 200 and r.json()["imported"] == 2, r.text
    async with members.app.state.sessions() as s:
        times = (await s.exec(select(PurchaseRow.occurred_at).order_by(PurchaseRow.pos_txn_id))).all()
    assert times == [datetime(2019, 3, 1, 2, 15, tzinfo=UTC), datetime(2019, 3, 1, 1, 15, tzinfo=UTC)]
    r = await members.post("/v1/sales/import", json={**body, "local_time_zone": "Asia/Shangai"}, headers=admin(env))
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", "local_time_zone"] and "not a time zone of the IANA database" in error["msg"]


async def test_a_dry_run_answers_what_the_import_would_and_records_nothing(members, env) -> None:
    m = await register(members, env)
    await send(members, env, [past_sale("D-0", card_no=m["card_no"])])
    before = await counts(members)
    sales = [past_sale("D-0", card_no=m["card_no"]), past_sale("D-1", card_no=m["card_no"]),
             past_sale("D-1", card_no=m["card_no"]), past_sale("D-2", card_no="88000000000000"), past_sale("D-3", at="2019-03-01")]
    r = await members.post("/v1/sales/import", json={"points": "none", "sales": sales, "dry_run": True}, headers=admin(env))
    assert r.status_code == 200, r.text
    checked = [(x["status"], x["reason"]) for x in r.json()["results"]]
    assert checked[:4] == [("present", None), ("imported", None), ("present", None),
                           ("rejected", "card_no: no member has this card")]
    assert checked[4][0] == "rejected" and checked[4][1].startswith("occurred_at:")
    assert await counts(members) == before
    assert (await member_row(members, m["id"])).purchase_count == 1
    done = await send(members, env, sales, points="none")
    assert [(x["status"], x["reason"]) for x in done["results"]] == checked


@pytest.mark.parametrize("dry_run", [False, True])
async def test_another_sale_under_an_id_earlier_in_the_same_batch_is_refused_naming_it(members, env, dry_run) -> None:
    m, other = await register(members, env), await register(members, env)
    first = past_sale("E-1", card_no=m["card_no"], total="5.00")
    answer = await send(members, env, [
        first,
        past_sale("E-1", card_no=m["card_no"], total="600.00"),
        # Not only another amount or day: another card, or time, is another sale too.
        past_sale("E-1", card_no=other["card_no"], total="5.00"),
        past_sale("E-1", card_no=m["card_no"], total="5.00", at="2019-03-01T18:40:00+08:00"),
        {**first, "total": "5"},  # the same sale, its amount written otherwise
    ], dry_run=dry_run)
    conflict = "pos_txn_id: conflicts with sale 1 of this batch (same store and transaction id, different sale)"
    assert [(r["status"], r["reason"]) for r in answer["results"]] == [
        ("imported", None), ("rejected", conflict), ("rejected", conflict), ("rejected", conflict), ("present", None)]


async def test_a_repeat_in_the_batch_shares_the_outcome_of_its_first_sale(members, env) -> None:
    m = await register(members, env)
    await send(members, env, [past_sale("F-1", card_no=m["card_no"], total="5.00")])
    answer = await send(members, env, [
        past_sale("F-1", card_no=m["card_no"], total="5.00"), past_sale("F-1", card_no=m["card_no"], total="5.00"),
        past_sale("F-2", card_no="88000000000000"), past_sale("F-2", card_no="88000000000000"),
        past_sale("F-1", card_no=m["card_no"], total="9.00"),
    ])
    assert [(r["status"], r["reason"]) for r in answer["results"]] == [
        ("present", None), ("present", None),
        ("rejected", "card_no: no member has this card"), ("rejected", "card_no: no member has this card"),
        ("rejected", "pos_txn_id: conflicts with sale 1 of this batch (same store and transaction id, different sale)")]
    assert (await member_row(members, m["id"])).lifetime_spend == Decimal("5.00")


@pytest.mark.parametrize("earlier_in_the_batch", [False, True])
async def test_the_same_id_and_amount_on_another_day_is_another_sale_not_present(members, env, earlier_in_the_batch) -> None:
    # An old system whose receipt numbers start again every day: receipt 0001 of 5.00 on two days
    # is two sales. Answered present, the second would be lost from the history without a word.
    m = await register(members, env)
    first = past_sale("R-0001", card_no=m["card_no"], total="5.00", at="2019-03-01T10:15:00+08:00")
    again = past_sale("R-0001", card_no=m["card_no"], total="5.00", at="2019-03-02T09:00:00+08:00")
    same_day = past_sale("R-0001", card_no=m["card_no"], total="5.00", at="2019-03-01T10:15:59+08:00")
    if earlier_in_the_batch:
        answer = await send(members, env, [first, again, same_day])
    else:
        await send(members, env, [first])
        answer = {"results": [r for sale in (again, same_day) for r in (await send(members, env, [sale]))["results"]]}
    results = [(r["status"], r["reason"]) for r in answer["results"]][-2:]
    if earlier_in_the_batch:
        # A batch comes from one file, which holds each sale once as it was: another time is another sale.
        conflict = "pos_txn_id: conflicts with sale 1 of this batch (same store and transaction id, different sale)"
        assert results == [("rejected", conflict), ("rejected", conflict)]
        return
    # The same sale again, its time written to the minute by another export: present.
    assert results == [("rejected", "pos_txn_id: S001/R-0001 is recorded already as another sale, on 2019-03-01 (not 2019-03-02)"),
                       ("present", None)]


async def test_only_admins_import_and_a_batch_is_bounded(members, env) -> None:
    body = {"points": "none", "sales": [past_sale("A-1")]}
    r = await members.post("/v1/sales/import", json=body, headers=env.auth(Role.SERVICE_DESK, store_id="S001"))
    assert r.status_code == 403
    r = await members.post("/v1/sales/import", json={"points": "some", "sales": [past_sale("A-1")]}, headers=admin(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "points"]
    r = await members.post("/v1/sales/import", json={"points": "none", "sales": [{}] * 5001}, headers=admin(env))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "sales"]
    assert (await counts(members))["PurchaseRow"] == 0


async def test_another_sale_under_a_transaction_id_a_till_took_is_refused_naming_both_amounts(members, env) -> None:
    m = await register(members, env)
    txn = await deliver_sale(members, card_no=m["card_no"])  # 79.80, live
    before = await counts(members)
    answer = await send(members, env, [past_sale(txn, card_no=m["card_no"], total="12.00")])
    assert (answer["imported"], answer["present"], answer["rejected"]) == (0, 0, 1)
    assert answer["results"][0]["reason"] == (
        f"pos_txn_id: S001/{txn} is recorded already as another sale, of 79.80 (not 12.00)")
    assert await counts(members) == before
