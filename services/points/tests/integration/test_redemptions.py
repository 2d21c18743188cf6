"""Gift redemption at the service desk, the gift register and its export."""

import asyncio
import csv
import io
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shared.auth import Role

pytestmark = pytest.mark.integration


async def funded(pts, member_id: str, yuan: str, channel: str = "retail") -> None:
    await pts.apply(pts.registered(member_id, channel=channel), pts.sale(member_id, yuan))


async def test_the_catalogue_is_seeded_with_the_chains_prices(pts, env) -> None:
    gifts = (await pts.client.get("/v1/gifts", headers=env.auth(Role.MEMBER, member_id="x"))).json()
    prices = {g["gift_id"]: (g["prices"]["retail"], g["prices"]["partner"]) for g in gifts}
    assert prices == {"cushion": (10_000, 8_000), "electric-kettle": (18_000, 15_000), "rice-cooker": (28_000, 20_000),
                      "induction-cooker": (45_000, 36_000), "microwave-oven": (60_000, 50_000)}


async def test_a_new_gift_put_several_times_at_once_is_one_gift_with_its_prices(pts, env) -> None:
    body = {"name_zh": "保温杯", "name_en": "Vacuum flask", "prices": {"retail": 12_000, "partner": 9_000}}
    answers = await asyncio.gather(*(
        pts.client.put("/v1/gifts/vacuum-flask", json=body, headers=env.auth(Role.ADMIN)) for _ in range(5)
    ))
    assert [r.status_code for r in answers] == [200] * 5, [r.text for r in answers]
    gifts = [g for g in (await pts.client.get("/v1/gifts", headers=env.auth(Role.ADMIN))).json() if g["gift_id"] == "vacuum-flask"]
    assert [g["prices"] for g in gifts] == [{"retail": 12_000, "partner": 9_000}]


async def test_redemption_deducts_the_channel_price_takes_stock_and_writes_the_register(pts, env) -> None:
    await funded(pts, "g1", "21000.00", channel="partner")
    await pts.stock("rice-cooker", "S001", 2)
    r = await pts.redeem("g1", "rice-cooker")
    assert r.status_code == 201, r.text
    entry = r.json()
    assert (entry["points"], entry["status"], entry["channel"], entry["staff_id"]) == (20_000, "reserved", "partner", "test-service_desk")
    acc = await pts.account("g1")
    assert acc["balance"] == 1_000 and acc["entries"][0]["entry_type"] == "redeem" and acc["entries"][0]["staff_id"] == "test-service_desk"
    stock = (await pts.client.get("/v1/gifts/rice-cooker/stock", headers=pts.desk())).json()
    assert stock[0]["quantity"] == 1
    [event] = await pts.outbox("crm.points.reward_redeemed.v1")
    assert (event["member_id"], event["redemption_id"], event["points"], event["store_id"]) == ("g1", entry["redemption_id"], 20_000, "S001")


async def test_a_retry_with_the_same_key_returns_the_original_and_another_body_is_refused(pts) -> None:
    await funded(pts, "g2", "30000.00")
    await pts.stock("cushion", "S001", 5)
    first = await pts.redeem("g2", "cushion", key="desk-key-0001")
    again = await pts.redeem("g2", "cushion", key="desk-key-0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    other = await pts.redeem("g2", "electric-kettle", key="desk-key-0001")
    assert other.status_code == 409 and "different" in other.json()["detail"]
    assert await pts.balance("g2") == 20_000


async def test_redemption_needs_an_idempotency_key_enough_points_and_stock(pts) -> None:
    await funded(pts, "g3", "9999.00")
    no_key = await pts.client.post("/v1/redemptions", json={"member_id": "g3", "gift_id": "cushion", "store_id": "S001"}, headers=pts.desk())
    assert no_key.status_code == 422 and "Idempotency-Key" in no_key.text
    await pts.stock("cushion", "S001", 1)
    poor = await pts.redeem("g3", "cushion")
    assert poor.status_code == 409 and "below the price" in poor.json()["detail"]
    await pts.apply(pts.sale("g3", "30000.00"))
    empty = await pts.redeem("g3", "electric-kettle")
    assert empty.status_code == 409 and "out of stock" in empty.json()["detail"]
    unknown = await pts.redeem("g3", "nonexistent")
    assert unknown.status_code == 404 and unknown.json()["error"] == "NotFound" and "gift_id" in unknown.json()["detail"]
    assert (await pts.redeem("nobody", "cushion")).status_code == 404
    assert await pts.balance("g3") == 9_999 + 30_000


async def test_hand_over_and_cancel_follow_the_register_rules(pts, env) -> None:
    await funded(pts, "g4", "40000.00")
    await pts.stock("cushion", "S001", 2)
    a = (await pts.redeem("g4", "cushion")).json()
    b = (await pts.redeem("g4", "cushion")).json()
    handed = await pts.client.post(f"/v1/redemptions/{a['redemption_id']}/hand-over", headers=pts.desk())
    assert handed.status_code == 200 and handed.json()["status"] == "handed_over"
    assert (await pts.client.post(f"/v1/redemptions/{a['redemption_id']}/hand-over", headers=pts.desk())).status_code == 200
    no_swap = await pts.client.post(f"/v1/redemptions/{a['redemption_id']}/cancel", json={"reason": "changed mind"}, headers=pts.desk())
    assert no_swap.status_code == 409
    cancelled = await pts.client.post(f"/v1/redemptions/{b['redemption_id']}/cancel", json={"reason": "顾客放弃 member declined"}, headers=pts.desk())
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (cancelled.json()["points"], cancelled.json()["points_kept"], handed.json()["points_kept"]) == (10_000, 0, 10_000)
    again = await pts.client.post(f"/v1/redemptions/{b['redemption_id']}/cancel", json={"reason": "retry"}, headers=pts.desk())
    assert again.status_code == 200
    assert await pts.balance("g4") == 30_000 == await pts.ledger_sum("g4")
    assert (await pts.client.get("/v1/gifts/cushion/stock", headers=pts.desk())).json()[0]["quantity"] == 1
    [event] = await pts.outbox("crm.points.reward_redemption_cancelled.v1")
    assert event["points_returned"] == 10_000
    mine = await pts.client.get(f"/v1/redemptions/{a['redemption_id']}", headers=env.auth(Role.MEMBER, member_id="g4"))
    assert mine.status_code == 200
    theirs = await pts.client.get(f"/v1/redemptions/{a['redemption_id']}", headers=env.auth(Role.MEMBER, member_id="zz"))
    assert theirs.status_code == 403


async def test_the_register_exports_per_store_and_date_range_as_csv_and_printable_html(pts, env) -> None:
    await funded(pts, "g5", "50000.00")
    await pts.stock("cushion", "S001", 3)
    await pts.stock("cushion", "S002", 3)
    await pts.redeem("g5", "cushion")
    # A desk redeems for its own store's customers; an admin books the one at the other store.
    elsewhere = await pts.client.post("/v1/redemptions", json={"member_id": "g5", "gift_id": "cushion", "store_id": "S002"},
                                      headers={**env.auth(Role.ADMIN), "Idempotency-Key": uuid.uuid4().hex})
    assert elsewhere.status_code == 201, elsewhere.text
    manager = env.auth(Role.STORE_MANAGER, store_id="S001")
    params = "store_id=S001&from=2020-01-01&to=2099-12-31"
    rows = (await pts.client.get(f"/v1/gift-register?{params}", headers=manager)).json()
    assert [(r["member_id"], r["store_id"]) for r in rows] == [("g5", "S001")]
    exported = await pts.client.get(f"/v1/gift-register?{params}&format=csv", headers=manager)
    assert exported.headers["content-type"].startswith("text/csv") and exported.text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert table[0][:4] == ["日期 Date", "会员 Member", "赠品 Gift", "积分 Points"]
    assert table[1][1:4] == ["g5", "靠枕 Cushion", "10000"] and "已预留" in table[1][6]
    page = await pts.client.get(f"/v1/gift-register?{params}&format=html", headers=manager)
    assert page.headers["content-type"].startswith("text/html") and "@media print" in page.text and "赠品发放登记" in page.text
    none = await pts.client.get("/v1/gift-register?store_id=S001&from=2020-01-01&to=2020-01-02", headers=manager)
    assert none.json() == []
    wrong_store = await pts.client.get(f"/v1/gift-register?{params.replace('S001', 'S002')}", headers=pts.desk("S001"))
    assert wrong_store.status_code == 403
    backwards = await pts.client.get("/v1/gift-register?store_id=S001&from=2026-11-30&to=2026-11-01", headers=manager)
    assert (backwards.status_code, backwards.json()["detail"]) == (422, "to: must not be before from")


async def test_the_printed_register_names_customers_and_gifts_in_local_time_with_totals(pts, env) -> None:
    await funded(pts, "g6", "60000.00")
    await funded(pts, "g7", "60000.00")
    await pts.stock("cushion", "S001", 5)
    await pts.stock("rice-cooker", "S001", 5)
    pts.members.people["g6"] = {"name": "王芳", "card_no": "8800000000066"}
    kept = (await pts.redeem("g6", "rice-cooker")).json()
    await pts.redeem("g7", "cushion")
    dropped = (await pts.redeem("g6", "cushion")).json()
    await pts.client.post(f"/v1/redemptions/{dropped['redemption_id']}/cancel", json={"reason": "顾客放弃"}, headers=pts.desk())
    manager = env.auth(Role.STORE_MANAGER, store_id="S001")
    params = "store_id=S001&from=2020-01-01&to=2099-12-31&format=csv"
    table = list(csv.reader(io.StringIO((await pts.client.get(f"/v1/gift-register?{params}", headers=manager)).text.lstrip("\ufeff"))))
    header, lines, total = table[0], table[1:-1], table[-1]
    by = {h: i for i, h in enumerate(header)}
    # g7 is unknown to members (or not the caller's to see): printed by id, never left blank.
    assert [(r[by["会员 Member"]], r[by["赠品 Gift"]], r[by["会员编号 Member ID"]]) for r in lines] == [
        ("王芳 (8800000000066)", "电饭锅 Rice cooker", "g6"), ("g7", "靠枕 Cushion", "g7"), ("王芳 (8800000000066)", "靠枕 Cushion", "g6")]
    # Members was asked with the manager's own token, so its access policy decides whose name shows.
    assert set(pts.members.tokens) == {manager["Authorization"].removeprefix("Bearer ")}
    redeemed = datetime.fromisoformat(kept["redeemed_at"]).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert lines[0][by["日期 Date"]] == redeemed
    # The cancelled cushion gave its points back: the total is of the points kept.
    assert total[0] == "合计 Total (3)" and total[by["实扣积分 Points kept"]] == str(28_000 + 10_000)
    page = await pts.client.get(f"/v1/gift-register?{params.replace('csv', 'html')}", headers=manager)
    assert "王芳 (8800000000066)" in page.text and "<tfoot>" in page.text and "Asia/Shanghai" in page.text
    assert (await pts.client.get(f"/v1/gift-register?{params.removesuffix('&format=csv')}", headers=manager)).json()[0]["member_id"] == "g6"


async def test_a_register_is_not_printed_without_names_when_members_cannot_answer(pts, env) -> None:
    await funded(pts, "g8", "60000.00")
    await pts.stock("cushion", "S001", 1)
    await pts.redeem("g8", "cushion")
    pts.members.down = True
    manager = env.auth(Role.STORE_MANAGER, store_id="S001")
    printed = await pts.client.get("/v1/gift-register?store_id=S001&from=2020-01-01&to=2099-12-31&format=html", headers=manager)
    assert printed.status_code == 503 and "members answered 503" in printed.json()["detail"]
    screen = await pts.client.get("/v1/gift-register?store_id=S001&from=2020-01-01&to=2099-12-31", headers=manager)
    assert screen.status_code == 200 and [r["member_id"] for r in screen.json()] == ["g8"]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_concurrent_redemptions_of_the_last_unit_have_exactly_one_winner(pts) -> None:
    members = [f"c{i}" for i in range(12)]
    await pts.apply(*(e for m in members for e in (pts.registered(m), pts.sale(m, "20000.00"))))
    await pts.stock("microwave-oven", "S001", 0)
    await pts.stock("cushion", "S001", 1)
    results = await asyncio.gather(*(pts.redeem(m, "cushion") for m in members))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * (len(members) - 1), [r.text for r in results]
    assert all("out of stock" in r.json()["detail"] for r in results if r.status_code == 409)
    assert (await pts.client.get("/v1/gifts/cushion/stock", headers=pts.desk())).json()[0]["quantity"] == 0
    assert sorted([await pts.balance(m) for m in members]) == [10_000] + [20_000] * (len(members) - 1)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_concurrent_redemptions_by_one_member_never_overdraw_the_balance(pts) -> None:
    await funded(pts, "c-one", "25000.00")
    await pts.stock("cushion", "S001", 10)
    results = await asyncio.gather(*(pts.redeem("c-one", "cushion", key=uuid.uuid4().hex) for _ in range(8)))
    assert sorted(r.status_code for r in results) == [201, 201] + [409] * 6
    assert await pts.balance("c-one") == 5_000 == await pts.ledger_sum("c-one")
    assert (await pts.client.get("/v1/gifts/cushion/stock", headers=pts.desk())).json()[0]["quantity"] == 8


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_concurrent_retries_with_one_key_redeem_once(pts) -> None:
    await funded(pts, "c-retry", "50000.00")
    await pts.stock("cushion", "S001", 10)
    results = await asyncio.gather(*(pts.redeem("c-retry", "cushion", key="till-7-retry-key") for _ in range(6)))
    assert sorted(r.status_code for r in results) == [200] * 5 + [201]
    assert len({r.json()["redemption_id"] for r in results}) == 1
    assert await pts.balance("c-retry") == 40_000


async def test_the_stock_of_a_gift_not_in_the_catalogue_is_404_not_an_empty_list(pts) -> None:
    assert (await pts.client.get("/v1/gifts/cushion/stock", headers=pts.desk())).json() == []  # none counted yet
    r = await pts.client.get("/v1/gifts/rice_cooker/stock", headers=pts.desk())  # the id is rice-cooker
    assert r.status_code == 404 and "rice_cooker is not in the catalogue" in r.text


async def test_a_desk_reads_what_its_own_store_has_of_every_gift(pts, env) -> None:
    await pts.stock("cushion", "S001", 2)
    await pts.stock("electric-kettle", "S002", 5)
    r = await pts.client.get("/v1/gifts/stock", params={"store_id": "S001"}, headers=pts.desk())
    assert r.status_code == 200, r.text
    assert [(s["gift_id"], s["quantity"]) for s in r.json()] == [("cushion", 2)]
    assert (await pts.client.get("/v1/gifts/stock", params={"store_id": "S002"}, headers=pts.desk())).status_code == 403
    assert (await pts.client.get("/v1/gifts/stock", headers=pts.desk())).status_code == 422
    # A gift that happens to be called "stock" keeps its own address.
    assert (await pts.client.get("/v1/gifts/stock/stock", headers=env.auth(Role.ADMIN))).status_code == 404


async def test_a_gifts_stock_per_store_shows_a_store_bound_token_its_own_store_only(pts, env) -> None:
    # The list of one gift's stock in every store is the same reach as one store's list: a desk or
    # store manager of S001 does not learn S002's counts by asking per gift instead of per store.
    await pts.stock("cushion", "S001", 2)
    await pts.stock("cushion", "S002", 5)
    for headers in (pts.desk(), env.auth(Role.STORE_MANAGER, store_id="S001"), env.auth(Role.MARKETING, store_id="S001")):
        r = await pts.client.get("/v1/gifts/cushion/stock", headers=headers)
        assert r.status_code == 200, r.text
        assert [(s["store_id"], s["quantity"]) for s in r.json()] == [("S001", 2)]
    every = (await pts.client.get("/v1/gifts/cushion/stock", headers=env.auth(Role.ADMIN))).json()
    assert [(s["store_id"], s["quantity"]) for s in every] == [("S001", 2), ("S002", 5)]


async def _stock_of(pts, gift_id: str, store_id: str = "S001") -> tuple[int, int, int]:
    desk = pts.desk(store_id)
    [row] = [s for s in (await pts.client.get(f"/v1/gifts/{gift_id}/stock", headers=desk)).json() if s["store_id"] == store_id]
    [same] = [s for s in (await pts.client.get("/v1/gifts/stock", params={"store_id": store_id}, headers=desk)).json()
              if s["gift_id"] == gift_id]
    assert same == row
    return row["quantity"], row["reserved"], row["on_hand"]


async def test_a_recount_is_what_is_on_the_shelf_and_reserved_gifts_are_not_promised_twice(pts, env) -> None:
    # The audit's case: 2 kettles, one reserved (it stays on the shelf until handed over), and the
    # daily count types in the 2 on the shelf: only 1 may still be reserved, not 2.
    for m in ("k1", "k2", "k3", "k4"):
        await funded(pts, m, "20000.00")
    await pts.stock("electric-kettle", "S001", 2)
    first = await pts.redeem("k1", "electric-kettle")
    assert first.status_code == 201
    assert await _stock_of(pts, "electric-kettle") == (1, 1, 2)  # free, reserved, on hand
    counted = await pts.client.put("/v1/gifts/electric-kettle/stock/S001", json={"quantity": 2},
                                   headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert counted.status_code == 200, counted.text
    assert {k: counted.json()[k] for k in ("quantity", "reserved", "on_hand")} == {"quantity": 1, "reserved": 1, "on_hand": 2}
    answers = [await pts.redeem(m, "electric-kettle") for m in ("k2", "k3", "k4")]
    assert [r.status_code for r in answers] == [201, 409, 409]
    assert await _stock_of(pts, "electric-kettle") == (0, 2, 2)
    # Handed over: it leaves the shelf. Cancelled: its unit is free again, on top of the count.
    handed = await pts.client.post(f"/v1/redemptions/{first.json()['redemption_id']}/hand-over", headers=pts.desk())
    assert handed.status_code == 200
    assert await _stock_of(pts, "electric-kettle") == (0, 1, 1)
    await pts.stock("electric-kettle", "S001", 1)  # the count after the hand-over: the one reserved
    assert await _stock_of(pts, "electric-kettle") == (0, 1, 1)
    cancelled = await pts.client.post(f"/v1/redemptions/{answers[0].json()['redemption_id']}/cancel",
                                      json={"reason": "顾客放弃 member declined"}, headers=pts.desk())
    assert cancelled.status_code == 200
    assert await _stock_of(pts, "electric-kettle") == (1, 0, 1)
    gifts = (await pts.client.get("/v1/members/k4/gifts", headers=env.auth(Role.MEMBER, member_id="k4"))).json()["gifts"]
    assert [g["stock_at_home_store"] for g in gifts if g["gift_id"] == "electric-kettle"] == [1]


async def test_a_count_below_the_open_reservations_leaves_nothing_free(pts) -> None:
    for m in ("k5", "k6"):
        await funded(pts, m, "20000.00")
    await pts.stock("electric-kettle", "S002", 2)
    for m in ("k5", "k6"):
        assert (await pts.redeem(m, "electric-kettle", store="S002")).status_code == 201
    await pts.stock("electric-kettle", "S002", 1)  # one reserved kettle went missing
    assert await _stock_of(pts, "electric-kettle", "S002") == (0, 2, 2)
    await pts.stock("electric-kettle", "S002", 5)  # a delivery: 3 more than the 2 reserved
    assert await _stock_of(pts, "electric-kettle", "S002") == (3, 2, 5)


async def test_cancelling_a_reservation_the_count_found_no_unit_for_frees_none(pts) -> None:
    # 2 kettles reserved, the count finds 1: a cancellation is of a kettle that is not there, and
    # the one on the shelf stays promised to the other reservation.
    for m in ("k7", "k8", "k9"):
        await funded(pts, m, "20000.00")
    await pts.stock("electric-kettle", "S002", 2)
    held = [await pts.redeem(m, "electric-kettle", store="S002") for m in ("k7", "k8")]
    assert [r.status_code for r in held] == [201, 201]
    await pts.stock("electric-kettle", "S002", 1)
    cancel = f"/v1/redemptions/{held[0].json()['redemption_id']}/cancel"
    assert (await pts.client.post(cancel, json={"reason": "顾客放弃"}, headers=pts.desk("S002"))).status_code == 200
    assert await _stock_of(pts, "electric-kettle", "S002") == (0, 1, 1)
    assert (await pts.redeem("k9", "electric-kettle", store="S002")).status_code == 409
    # The other cancelled too: now the kettle on the shelf is free again.
    cancel = f"/v1/redemptions/{held[1].json()['redemption_id']}/cancel"
    assert (await pts.client.post(cancel, json={"reason": "顾客放弃"}, headers=pts.desk("S002"))).status_code == 200
    assert await _stock_of(pts, "electric-kettle", "S002") == (1, 0, 1)
    assert (await pts.redeem("k9", "electric-kettle", store="S002")).status_code == 201


@pytest.mark.parametrize("store", ["不存在的门店", "S 001"])
async def test_stock_at_what_is_no_store_id_is_422_naming_the_store(pts, env, store) -> None:
    r = await pts.client.put(f"/v1/gifts/electric-kettle/stock/{store}", json={"quantity": 2}, headers=env.auth(Role.ADMIN))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "store_id"], r.text
