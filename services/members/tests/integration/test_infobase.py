"""The customer information base, three levels, against SQLite and PostgreSQL.

The figures are built from sales and returns handed to the consumer, so they prove the read model
follows the event path (including late matches at registration), not a recomputation.
"""

import asyncio
import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import members as members_package
from members.adapters.tables import MemberRow
from members.adapters.tables.infobase import HouseholdMonthSpendRow, HouseholdStoreSpendRow, MemberDaySpendRow
from members.adapters.tables.staff import StaffRow
from shared.auth import Role
from shared.columns import MoneyColumn, UtcDateTime
from shared.migrations import upgrade
from tests.support.factories import line
from tests.support.identity import admin
from tests.support.members import deliver_refund, deliver_sale, desk, register
from tests.support.platform import service

pytestmark = pytest.mark.integration

RICE = line(sku="rice", qty="2", unit_price="39.90")       # 79.80
ONE_RICE = line(sku="rice", qty="1", unit_price="39.90")   # 39.90
TILES = line(sku="tiles", qty="10", unit_price="25.00")    # 250.00
PAINT = line(sku="paint", qty="1", unit_price="100.00")    # 100.00

NOV_23 = datetime(2026, 11, 23, 2, 15, tzinfo=UTC)          # 10:15 in Shanghai, business day 11-23
NOV_24_EARLY = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)   # 00:30 on 11-24 in Shanghai
NOV_10 = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
DEC_02 = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


async def _world(members, env) -> dict:
    """Two communities: 阳光花园 (one family of two at one address, one more household registered
    as "阳光花园小区") and 翠苑 (one household that spends more)."""
    a1 = await register(members, env, name="张伟", community="阳光花园", address="3幢2单元401")
    a2 = await register(members, env, name="李娜", community="阳光花园", address="3幢 2单元401")
    a3 = await register(members, env, name="王芳", community="阳光花园小区", address="7幢101", home_store_id="S002")
    b1 = await register(members, env, name="赵磊", community="翠苑", address="1幢1单元1室")
    sale_a1 = await deliver_sale(members, card_no=a1["card_no"], lines=[RICE], occurred_at=NOV_23)
    await deliver_sale(members, card_no=a2["card_no"], lines=[ONE_RICE], occurred_at=NOV_24_EARLY)
    await deliver_sale(members, card_no=a3["card_no"], lines=[PAINT], store="S002", occurred_at=NOV_10)
    await deliver_sale(members, card_no=b1["card_no"], lines=[TILES], occurred_at=NOV_23)
    await deliver_sale(members, card_no=b1["card_no"], lines=[PAINT], occurred_at=NOV_24_EARLY)
    await deliver_sale(members)  # anonymous: no household, counts nowhere
    # A1 brings one bag back a week later: it lowers the spend of the sale's day (11-23).
    await deliver_refund(members, txn=sale_a1, lines=[ONE_RICE], occurred_at=DEC_02)
    return {"a1": a1, "a2": a2, "a3": a3, "b1": b1, "sale_a1": sale_a1}


async def _level1(members, env, role: Role = Role.MARKETING, claims: dict | None = None, **params) -> dict:
    r = await members.get("/v1/infobase/communities", params=params, headers=env.auth(role, **(claims or {})))
    assert r.status_code == 200, r.text
    return {item["name"]: item for item in r.json()["items"]} | {"_order": [i["name"] for i in r.json()["items"]]}


async def test_communities_rank_by_buying_households_and_by_spend_net_of_returns(members, env) -> None:
    await _world(members, env)
    ranked = await _level1(members, env)
    sun, cui = ranked["阳光花园"], ranked["翠苑"]
    assert ranked["_order"] == ["阳光花园", "翠苑"]
    assert (sun["households"], Decimal(sun["spend"]), sun["member_count"], sun["purchases"]) == (2, Decimal("179.80"), 3, 3)
    assert Decimal(sun["spend_per_household"]) == Decimal("89.90")
    assert (cui["households"], Decimal(cui["spend"]), cui["member_count"]) == (1, Decimal("350.00"), 1)
    by_spend = await _level1(members, env, sort="spend")
    assert by_spend["_order"] == ["翠苑", "阳光花园"] and by_spend["阳光花园"]["rank"] == 2


async def test_store_and_business_day_filters_use_the_chains_local_day(members, env) -> None:
    await _world(members, env)
    s002 = await _level1(members, env, store_id="S002")
    assert (s002["阳光花园"]["households"], Decimal(s002["阳光花园"]["spend"])) == (1, Decimal("100.00"))
    assert s002["翠苑"]["households"] == 0 and Decimal(s002["翠苑"]["spend"]) == 0
    # 16:30 UTC on the 23rd is 00:30 on the 24th in Shanghai.
    day24 = await _level1(members, env, **{"from": "2026-11-24", "to": "2026-11-24"})
    assert (day24["阳光花园"]["households"], Decimal(day24["阳光花园"]["spend"])) == (1, Decimal("39.90"))
    assert Decimal(day24["翠苑"]["spend"]) == Decimal("100.00")
    # The return of 12-02 counts against its sale's day, so November holds it and December is empty.
    upto23 = await _level1(members, env, **{"to": "2026-11-23"})
    assert Decimal(upto23["阳光花园"]["spend"]) == Decimal("139.90")
    december = await _level1(members, env, **{"from": "2026-12-01"})
    assert december["阳光花园"]["households"] == 0 and Decimal(december["阳光花园"]["spend"]) == 0


async def test_a_sale_matched_at_registration_counts_for_the_community(members, env) -> None:
    await deliver_sale(members, card_no="8800000055555", lines=[TILES], occurred_at=NOV_23)
    await register(members, env, card_no="8800000055555", community="湖畔居")
    ranked = await _level1(members, env)
    assert (ranked["湖畔居"]["households"], Decimal(ranked["湖畔居"]["spend"])) == (1, Decimal("250.00"))


async def test_bad_filters_are_refused_naming_the_field(members, env) -> None:
    headers = env.auth(Role.MARKETING)
    customer = await register(members, env, community="翠苑")
    reversed_days = {"from": "2026-11-30", "to": "2026-11-01"}
    for level, caller in (("/v1/infobase/communities", headers),
                          (f"/v1/infobase/communities/{customer['community_id']}/customers", headers),
                          (f"/v1/infobase/members/{customer['id']}/purchases", desk(env))):
        r = await members.get(level, params=reversed_days, headers=caller)
        assert (r.status_code, r.json()["detail"]) == (422, "to: must not be before from"), level
    r = await members.get("/v1/infobase/communities", params={"from": "yesterday"}, headers=headers)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "from"]
    r = await members.get("/v1/infobase/communities", params={"format": "pdf"}, headers=headers)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "format"]


async def test_store_managers_see_their_own_store_and_members_see_no_ranking(members, env) -> None:
    w = await _world(members, env)
    forced = await _level1(members, env, Role.STORE_MANAGER, {"store_id": "S002"})
    assert forced["阳光花园"]["households"] == 1 and forced["翠苑"]["households"] == 0
    other = await members.get("/v1/infobase/communities", params={"store_id": "S001"},
                              headers=env.auth(Role.STORE_MANAGER, store_id="S002"))
    assert other.status_code == 403 and "store_id" in other.json()["detail"]
    member = env.auth(Role.MEMBER, member_id=w["a1"]["id"])
    assert (await members.get("/v1/infobase/communities", headers=member)).status_code == 403


async def test_a_desk_sees_no_other_stores_figures_though_it_serves_every_stores_customers(members, env) -> None:
    # The desk's reach is every customer (walk-ins of every store), but its token is bound to its
    # store: S001's desk does not read S002's report by naming S002, at either level.
    await _world(members, env)
    desk_s001 = env.auth(Role.SERVICE_DESK, store_id="S001")
    r = await members.get("/v1/infobase/communities", params={"store_id": "S002"}, headers=desk_s001)
    assert r.status_code == 403 and "bound to store S001" in r.json()["detail"]
    ranked = await _level1(members, env, Role.SERVICE_DESK, {"store_id": "S001"}, store_id="S001")
    assert ranked["阳光花园"]["households"] == 1  # its own store's figures it reads (a1 and a2, one household)
    sun = ranked["阳光花园"]["community_id"]
    r = await members.get(f"/v1/infobase/communities/{sun}/customers", params={"store_id": "S002"}, headers=desk_s001)
    assert r.status_code == 403


async def _level2(members, env, community_id: str, headers: dict, **params) -> dict:
    r = await members.get(f"/v1/infobase/communities/{community_id}/customers", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_communitys_customers_rank_by_spend_and_add_up_to_the_community(members, env) -> None:
    w = await _world(members, env)
    async with members.app.state.sessions() as s, s.begin():
        s.add(StaffRow(id="mgr-1", name="陈经理", work_phone="0571-8888", store_id="S001", role="account_manager",
                       active=True, created_at=NOV_10, updated_at=NOV_10))
        await s.exec(update(MemberRow).where(MemberRow.id == w["a3"]["id"]).values(manager_id="mgr-1"))
    ranked = await _level1(members, env)
    page = await _level2(members, env, ranked["阳光花园"]["community_id"], env.auth(Role.MARKETING))
    assert [i["member_id"] for i in page["items"]] == [w["a3"]["id"], w["a2"]["id"], w["a1"]["id"]]
    top, second, third = page["items"]
    assert (Decimal(top["spend"]), top["purchases"], top["manager_id"], top["manager_name"]) == (
        Decimal("100.00"), 1, "mgr-1", "陈经理")
    assert Decimal(second["spend"]) == Decimal("39.90") and Decimal(third["spend"]) == Decimal("39.90")
    assert third["last_purchase_at"].startswith("2026-11-23T02:15") and third["tier"] == "member"
    assert sum(Decimal(i["spend"]) for i in page["items"]) == Decimal(ranked["阳光花园"]["spend"])
    assert page["total"] == 3 and not {"phone", "address"} & set(top)
    window = await _level2(members, env, ranked["阳光花园"]["community_id"], env.auth(Role.MARKETING),
                           **{"from": "2026-11-20"})
    assert [(i["member_id"], i["purchases"]) for i in window["items"]][-1] == (w["a3"]["id"], 0)


async def test_level_two_shows_only_the_customers_the_caller_may_see(members, env) -> None:
    w = await _world(members, env)
    async with members.app.state.sessions() as s, s.begin():
        await s.exec(update(MemberRow).where(MemberRow.id == w["a1"]["id"]).values(manager_id="test-account_manager"))
    sun = (await _level1(members, env))["阳光花园"]["community_id"]
    mine = await _level2(members, env, sun, env.auth(Role.ACCOUNT_MANAGER))
    assert [i["member_id"] for i in mine["items"]] == [w["a1"]["id"]] and mine["total"] == 1
    store = await _level2(members, env, sun, env.auth(Role.STORE_MANAGER, store_id="S002"))
    assert [i["member_id"] for i in store["items"]] == [w["a3"]["id"]]
    r = await members.get(f"/v1/infobase/communities/{sun}/customers", headers=env.auth(Role.MEMBER, member_id=w["a1"]["id"]))
    assert r.status_code == 403
    r = await members.get("/v1/infobase/communities/no-such-community/customers", headers=env.auth(Role.ADMIN))
    assert r.status_code == 404


async def test_a_scoped_level_two_says_what_the_customers_it_does_not_list_spent(members, env) -> None:
    w = await _world(members, env)
    # S002's customer shops at S001 once: S001's level 1 counts the sale, its manager's level 2 does
    # not list her, and says what she spent there.
    await deliver_sale(members, card_no=w["a3"]["card_no"], lines=[PAINT], store="S001", occurred_at=NOV_23)
    sun = (await _level1(members, env))["阳光花园"]["community_id"]
    level1 = await _level1(members, env, Role.STORE_MANAGER, {"store_id": "S001"})
    manager = env.auth(Role.STORE_MANAGER, store_id="S001")
    store = await _level2(members, env, sun, manager)
    assert w["a3"]["id"] not in [i["member_id"] for i in store["items"]]
    outside = store["outside_scope"]
    assert (Decimal(outside["spend"]), outside["purchases"]) == (Decimal("100.00"), 1)
    listed = sum(Decimal(i["spend"]) for i in store["items"])
    assert listed + Decimal(outside["spend"]) == Decimal(outside["community_spend"]) == Decimal(level1["阳光花园"]["spend"])
    printed = await members.get(f"/v1/infobase/communities/{sun}/customers", params={"format": "html"}, headers=manager)
    assert "Not listed (customers not yours to see): ¥100.00, purchases: 1" in printed.text
    # The workbook says it in the sheet, under the totals, and its name says whose and when.
    book = await members.get(f"/v1/infobase/communities/{sun}/customers", headers=manager,
                             params={"format": "xlsx", "from": "2026-11-01", "to": "2026-11-30"})
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    said = [c.value for row in sheet.iter_rows(min_col=1, max_col=1) for c in row]
    assert said[-2] is None and "门店 Store: S001" in said[-1] and "Not listed (customers not yours to see): ¥100.00" in said[-1], said
    assert book.headers["content-disposition"] == \
        f'attachment; filename="infobase-community-{sun}-S001-from-2026-11-01-to-2026-11-30.xlsx"'
    # Whoever sees every customer has nothing left out; nor has a store manager whose store only its own bought at.
    assert (await _level2(members, env, sun, env.auth(Role.MARKETING)))["outside_scope"] is None
    own = await _level2(members, env, sun, env.auth(Role.STORE_MANAGER, store_id="S002"))
    assert own["outside_scope"] is None and [i["member_id"] for i in own["items"]] == [w["a3"]["id"]]


async def test_purchase_list_is_line_by_line_newest_first_with_returns_beneath_their_sale(members, env) -> None:
    w = await _world(members, env)
    later = await deliver_sale(members, card_no=w["a1"]["card_no"], lines=[PAINT, ONE_RICE],
                               occurred_at=datetime(2026, 11, 25, 4, 0, tzinfo=UTC))
    r = await members.get(f"/v1/infobase/members/{w['a1']['id']}/purchases", headers=desk(env))
    assert r.status_code == 200, r.text
    rows = [(i["kind"], i["pos_txn_id"], i["sku"], Decimal(i["qty"]), Decimal(i["amount"])) for i in r.json()["items"]]
    assert rows == [
        ("sale", later, "paint", Decimal("1"), Decimal("100.00")),
        ("sale", later, "rice", Decimal("1"), Decimal("39.90")),
        ("sale", w["sale_a1"], "rice", Decimal("2"), Decimal("79.80")),
        ("return", w["sale_a1"], "rice", Decimal("-1"), Decimal("-39.90")),
    ]
    november_23 = await members.get(f"/v1/infobase/members/{w['a1']['id']}/purchases",
                                    params={"from": "2026-11-23", "to": "2026-11-23"}, headers=desk(env))
    assert sum(Decimal(i["amount"]) for i in november_23.json()["items"]) == Decimal("39.90")
    page = await members.get(f"/v1/infobase/members/{w['a1']['id']}/purchases", params={"limit": 1, "offset": 3},
                             headers=desk(env))
    assert page.json()["total"] == 4 and [i["kind"] for i in page.json()["items"]] == ["return"]
    old = await members.get(f"/v1/members/{w['a1']['id']}/purchases", headers=desk(env))
    assert old.status_code == 200 and [p["pos_txn_id"] for p in old.json()] == [later, w["sale_a1"]]


async def test_a_sale_imported_as_its_total_only_is_a_row_of_level_three_adding_up_to_level_two(members, env) -> None:
    w = await _world(members, env)
    past = {"store_id": "S001", "pos_txn_id": "OLD-4", "occurred_at": "2026-11-23T00:15:00+08:00",
            "card_no": w["a1"]["card_no"], "total": "40.00"}
    r = await members.post("/v1/sales/import", json={"points": "none", "sales": [past]}, headers=admin(env))
    assert r.status_code == 200 and r.json()["imported"] == 1, r.text
    day = {"from": "2026-11-23", "to": "2026-11-23"}
    listed = await members.get(f"/v1/infobase/members/{w['a1']['id']}/purchases", params=day, headers=desk(env))
    assert listed.status_code == 200, listed.text
    rows = [(i["kind"], i["pos_txn_id"], i["sku"], Decimal(i["qty"]), Decimal(i["amount"])) for i in listed.json()["items"]]
    assert rows == [
        ("sale", w["sale_a1"], "rice", Decimal("2"), Decimal("79.80")),
        ("return", w["sale_a1"], "rice", Decimal("-1"), Decimal("-39.90")),
        ("sale", "OLD-4", "", Decimal("1"), Decimal("40.00")),
    ]
    community = (await _level1(members, env, **day))["阳光花园"]["community_id"]
    customers = await _level2(members, env, community, desk(env), **day)
    spend = {i["member_id"]: Decimal(i["spend"]) for i in customers["items"]}
    assert sum(amount for *_, amount in rows) == spend[w["a1"]["id"]] == Decimal("79.90")


async def test_purchase_lists_follow_who_may_see_the_customer(members, env) -> None:
    w = await _world(members, env)
    path = f"/v1/infobase/members/{w['a1']['id']}/purchases"
    assert (await members.get(path, headers=env.auth(Role.MEMBER, member_id=w["a1"]["id"]))).status_code == 200
    assert (await members.get(path, headers=env.auth(Role.MEMBER, member_id=w["b1"]["id"]))).status_code == 403
    assert (await members.get(path, headers=env.auth(Role.ACCOUNT_MANAGER))).status_code == 403
    assert (await members.get(path, headers=env.auth(Role.STORE_MANAGER, store_id="S002"))).status_code == 403


async def test_each_level_exports_csv_for_excel_and_a_printable_page(members, env) -> None:
    w = await _world(members, env)
    headers = env.auth(Role.ADMIN)
    r = await members.get("/v1/infobase/communities", params={"format": "csv"}, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["排名 Rank", "小区 Community", "购买户数 Buying households"]
    assert table[1][:5] == ["1", "阳光花园", "2", "179.80", "89.90"]
    sun = table[1][-1]
    r = await members.get(f"/v1/infobase/communities/{sun}/customers", params={"format": "csv"}, headers=headers)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:-1]] == ["王芳", "李娜", "张伟"]
    r = await members.get(f"/v1/infobase/members/{w['a1']['id']}/purchases", params={"format": "html"}, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "@media print" in r.text and "张伟" in r.text and "退货 Return" in r.text and "-39.90" in r.text


async def test_level_2_exported_words_each_customer_s_tier_as_staff_read_it(members, env) -> None:
    """Finding: the downloaded level 2 said `member` and `vip` under 等级 Tier, members' codes, where
    the printed page says 普通会员 and VIP."""
    await _world(members, env)
    headers = env.auth(Role.ADMIN)
    table = list(csv.reader(io.StringIO((await members.get("/v1/infobase/communities", params={"format": "csv"},
                                                           headers=headers)).content.decode("utf-8-sig"))))
    sun = table[1][-1]
    for fmt in ("csv", "html"):
        r = await members.get(f"/v1/infobase/communities/{sun}/customers", params={"format": fmt}, headers=headers)
        assert r.status_code == 200
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
            tier = rows[0].index("等级 Tier")
            assert {row[1]: row[tier] for row in rows[1:-1]} == {"王芳": "普通会员 Member", "李娜": "普通会员 Member", "张伟": "普通会员 Member"}
        else:
            assert "普通会员 Member" in r.text and "<td>member</td>" not in r.text


async def test_printed_and_exported_levels_show_local_times_and_end_with_totals(members, env) -> None:
    w = await _world(members, env)
    headers = env.auth(Role.ADMIN)
    r = await members.get("/v1/infobase/communities", params={"format": "csv"}, headers=headers)
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table[-1][:7] == ["合计 Total (2)", "", "3", "529.80", "", "4", "5"]
    sun = table[1][-1]
    r = await members.get(f"/v1/infobase/communities/{sun}/customers", params={"format": "csv"}, headers=headers)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    # Shanghai's clock: the sale at 16:30 UTC on 11-23 was made at half past midnight on 11-24.
    assert {row[1]: row[5] for row in rows[1:-1]} == {
        "王芳": "2026-11-10 11:00", "李娜": "2026-11-24 00:30", "张伟": "2026-11-23 10:15"}
    assert rows[-1][:5] == ["合计 Total (3)", "", "", "179.80", "3"]
    r = await members.get(f"/v1/infobase/members/{w['a1']['id']}/purchases", params={"format": "csv"}, headers=headers)
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [(row[0], row[-1]) for row in lines[1:]] == [
        ("2026-11-23 10:15", "79.80"), ("2026-12-02 13:00", "-39.90"), ("合计 Total (2)", "39.90")]
    page = await members.get(f"/v1/infobase/members/{w['a1']['id']}/purchases", params={"format": "html"}, headers=headers)
    assert "2026-12-02 13:00" in page.text and "<tfoot>" in page.text and "Asia/Shanghai" in page.text


async def test_the_business_day_follows_the_configured_timezone(env, database_factory) -> None:
    from members.config import Settings
    from members.main import create_app

    settings = env.settings(Settings, await database_factory("members"), business_timezone="UTC")
    async with service(create_app(settings)) as utc_members:
        m = await register(utc_members, env, community="湖畔居")
        await deliver_sale(utc_members, card_no=m["card_no"], lines=[PAINT], occurred_at=NOV_24_EARLY)
        day23 = await _level1(utc_members, env, **{"from": "2026-11-23", "to": "2026-11-23"})
    assert day23["湖畔居"]["households"] == 1


async def test_upgrading_an_existing_database_folds_its_attributed_sales_into_the_read_model(database_factory) -> None:
    url = await database_factory("members", empty=True)
    migrations = Path(members_package.__file__).parent / "migrations"
    await asyncio.to_thread(upgrade, migrations, url, "0002")
    member = sa.table("member", *(sa.column(c) for c in (
        "id", "card_no", "name", "phone", "phone_hmac", "community", "address", "channel", "purchase_count",
        "community_id", "household_id")), sa.column("lifetime_spend", MoneyColumn()), sa.column("created_at", UtcDateTime()))
    purchase = sa.table("purchase", *(sa.column(c) for c in (
        "sale_event_id", "store_id", "pos_txn_id", "member_id", "payment")), sa.column("total", MoneyColumn()),
        sa.column("returned", MoneyColumn()), sa.column("occurred_at", UtcDateTime()), sa.column("received_at", UtcDateTime()))
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(member.insert().values(
            id="m1", card_no="8800000000001", name="张伟", phone="13900000001", phone_hmac="h", community="阳光花园",
            address="1幢", channel="retail", purchase_count=2, community_id="c1", household_id="h1",
            lifetime_spend=Decimal("150.00"), created_at=NOV_10))
        for txn, at, total, returned in (("T1", NOV_23, "100.00", "30.00"), ("T2", NOV_24_EARLY, "80.00", "0.00")):
            await conn.execute(purchase.insert().values(
                sale_event_id=txn, store_id="S001", pos_txn_id=txn, member_id="m1", payment="cash", total=Decimal(total),
                returned=Decimal(returned), occurred_at=at, received_at=at))
        await conn.execute(purchase.insert().values(  # anonymous: not in the read model
            sale_event_id="T3", store_id="S001", pos_txn_id="T3", member_id=None, payment="cash",
            total=Decimal("5.00"), returned=Decimal("0.00"), occurred_at=NOV_23, received_at=NOV_23))
    await engine.dispose()
    await asyncio.to_thread(upgrade, migrations, url)
    engine = create_async_engine(url)
    async with AsyncSession(engine) as s:
        rows = (await s.exec(select(MemberDaySpendRow).order_by(MemberDaySpendRow.business_day))).all()
        rollups = (await s.exec(select(HouseholdStoreSpendRow).order_by(HouseholdStoreSpendRow.store_id))).all()
        months = (await s.exec(select(HouseholdMonthSpendRow).order_by(HouseholdMonthSpendRow.store_id))).all()
    await engine.dispose()
    assert [(r.business_day.isoformat(), r.spend, r.purchases, r.household_id) for r in rows] == [
        ("2026-11-23", Decimal("70.00"), 1, "h1"), ("2026-11-24", Decimal("80.00"), 1, "h1")]
    assert [(r.store_id, r.spend, r.purchases, r.community_id) for r in rollups] == [
        ("*", Decimal("150.00"), 2, "c1"), ("S001", Decimal("150.00"), 2, "c1")]
    assert [(m.store_id, m.month, m.spend, m.purchases, m.last_day, m.prev_day, m.household_id) for m in months] == [
        ("*", date(2026, 11, 1), Decimal("150.00"), 2, date(2026, 11, 24), None, "h1"),
        ("S001", date(2026, 11, 1), Decimal("150.00"), 2, date(2026, 11, 24), None, "h1")]
