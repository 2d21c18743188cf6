"""Account managers' tracking queue, daily feedback forms and reports, and their evaluation."""

import csv as csv_module
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from members.adapters.tables import MemberRow
from members.adapters.tables.analytics import MemberValueRow
from members.adapters.tables.privacy import AccessLogRow
from members.config import Settings
from members.main import create_app
from shared.auth import Role
from tests.support.factories import keyed, spend_line, staff_body
from tests.support.members import deliver_sale, register
from tests.support.platform import service

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


@pytest.fixture
async def members(env, database_factory):
    """The service on the day the forms below are dated: which dates a form may carry depends on
    the service's clock (not in the future, at most CRM_TRACKING_LATE_DAYS back)."""
    async with service(create_app(env.settings(Settings, await database_factory("members")), clock=lambda: NOW)) as client:
        yield client


def admin(env) -> dict[str, str]:
    return env.auth(Role.ADMIN)


def as_manager(env, manager_id: str, store: str = "S001") -> dict[str, str]:
    return {"Authorization": f"Bearer {env.issuer.mint(manager_id, Role.ACCOUNT_MANAGER, store_id=store)}"}


def store_manager(env, store: str = "S001") -> dict[str, str]:
    return env.auth(Role.STORE_MANAGER, store_id=store)


async def manager_for(members, env, community: str, **fields) -> tuple[dict, str]:
    """An account manager covering a community; returns the manager and the community id."""
    seed = await register(members, env, community=community)
    r = await members.post("/v1/staff", json=staff_body(**fields), headers=admin(env))
    assert r.status_code == 201, r.text
    manager = r.json()
    r = await members.put(f"/v1/staff/{manager['id']}/communities/{seed['community_id']}", headers=admin(env))
    assert r.status_code == 200, r.text
    return manager, seed["community_id"]


async def vip(members, env, community: str, bought_at: datetime, amount: str = "5000.00") -> dict:
    m = await register(members, env, community=community)
    await deliver_sale(members, card_no=m["card_no"], lines=[spend_line(amount)], occurred_at=bought_at)
    return m


async def test_the_queue_lists_a_managers_vips_most_recent_purchase_first(members, env) -> None:
    manager, _ = await manager_for(members, env, "丽景湾", id="am-queue")
    older = await vip(members, env, "丽景湾", NOW - timedelta(days=40))
    recent = await vip(members, env, "丽景湾", NOW - timedelta(days=2))
    middle = await vip(members, env, "丽景湾", NOW - timedelta(days=10))
    async with members.app.state.sessions() as s, s.begin():
        s.add(MemberValueRow(member_id=older["id"], as_of=NOW, window_days=365, churn_risk="high"))
    r = await members.get("/v1/tracking/queue", params={"as_of": NOW.isoformat()}, headers=as_manager(env, "am-queue"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["member_id"] for i in items] == [recent["id"], middle["id"], older["id"]]
    assert [i["days_since_last_purchase"] for i in items] == [2, 10, 40]
    assert [i["churn_risk"] for i in items] == ["unknown", "unknown", "high"]
    assert items[0]["phone"] == recent["phone"] and not items[0]["phone_masked"]
    assert r.json()["manager_id"] == manager["id"]
    async with members.app.state.sessions() as s:
        reads = (await s.exec(select(AccessLogRow).where(AccessLogRow.actor == "am-queue"))).all()
    assert {(a.member_id, a.fields, a.purpose) for a in reads} == {
        (m["id"], "phone", "tracking_queue") for m in (older, recent, middle)
    }


async def test_who_may_see_which_queue(members, env) -> None:
    await manager_for(members, env, "甲小区", id="am-one")
    await manager_for(members, env, "乙小区", id="am-far", store_id="S002")
    url = "/v1/tracking/queue"
    refused = await members.get(url, params={"manager_id": "am-far"}, headers=as_manager(env, "am-one"))
    # Worded as the policy's refusal of another's customers, which the console says in Chinese.
    assert refused.status_code == 403 and refused.json()["detail"].startswith(
        "account managers may only act on the customers assigned to them (members.tracking.read)")
    assert (await members.get(url, params={"manager_id": "am-one"}, headers=store_manager(env))).status_code == 200
    assert (await members.get(url, params={"manager_id": "am-far"}, headers=store_manager(env))).status_code == 403
    r = await members.get(url, headers=store_manager(env))
    assert r.status_code == 422 and "manager_id" in r.json()["detail"]
    assert (await members.get(url, params={"manager_id": "am-one"}, headers=env.auth(Role.MARKETING))).status_code == 403


async def test_a_manager_records_tracking_for_their_own_customers_only(members, env) -> None:
    await manager_for(members, env, "天水苑", id="am-t")
    await manager_for(members, env, "地山苑", id="am-u")
    mine = await vip(members, env, "天水苑", NOW)
    theirs = await vip(members, env, "地山苑", NOW)
    record = {"tracked_on": "2026-11-20", "member_id": mine["id"], "contact": "本人", "method": "phone", "rating": 4,
              "notes": "满意，下月再来"}
    r = await members.post("/v1/tracking/records", json=record, headers=keyed(as_manager(env, "am-t")))
    assert r.status_code == 201, r.text
    assert r.json()["store_id"] == "S001" and r.json()["community_id"] == mine["community_id"]
    r = await members.post("/v1/tracking/records", json={**record, "member_id": theirs["id"]}, headers=keyed(as_manager(env, "am-t")))
    assert r.status_code == 403 and "member_id" in r.json()["detail"]
    r = await members.post("/v1/tracking/records", json=record, headers=keyed(as_manager(env, "am-not-in-directory")))
    assert r.status_code == 403 and "staff directory" in r.json()["detail"]
    r = await members.post("/v1/tracking/records", json={**record, "member_id": "nobody"}, headers=keyed(as_manager(env, "am-t")))
    assert r.status_code == 404
    r = await members.post("/v1/tracking/records", json={**record, "tracked_on": "2026-11-21"}, headers=keyed(as_manager(env, "am-t")))
    assert r.status_code == 422 and r.json()["detail"] == "tracked_on: is 2026-11-21, in the future (today is 2026-11-20)"
    r = await members.post("/v1/tracking/records", json=record, headers=keyed(store_manager(env)))
    assert r.status_code == 403
    queue = (await members.get("/v1/tracking/queue", headers=as_manager(env, "am-t"))).json()
    assert queue["items"][0]["last_tracked_on"] == "2026-11-20"


async def test_a_form_sent_twice_under_one_key_is_one_line_of_the_day(members, env) -> None:
    await manager_for(members, env, "天水苑", id="am-t")
    mine = await vip(members, env, "天水苑", NOW)
    record = {"tracked_on": "2026-11-20", "member_id": mine["id"], "contact": "本人", "method": "phone", "rating": 4}
    under_key = {**as_manager(env, "am-t"), "Idempotency-Key": "form-0001-abcdef"}
    first = await members.post("/v1/tracking/records", json=record, headers=under_key)
    again = await members.post("/v1/tracking/records", json=record, headers=under_key)  # a double click
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    # The key sent with another line (another rating, another customer) would be lost if answered
    # with the first: refused.
    theirs = await vip(members, env, "天水苑", NOW)
    for changed in ({**record, "rating": 5, "notes": "changed"}, {**record, "member_id": theirs["id"]}):
        r = await members.post("/v1/tracking/records", json=changed, headers=under_key)
        assert r.status_code == 409 and "form-0001-abcdef" in r.text and "another tracking record" in r.text, r.text
    # Another form's key is another line; a form sent without one is refused (422), not recorded.
    other = await members.post("/v1/tracking/records", json=record,
                               headers={**as_manager(env, "am-t"), "Idempotency-Key": "form-0002-abcdef"})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    r = await members.post("/v1/tracking/records", json=record, headers=as_manager(env, "am-t"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"], r.text
    day = (await members.get("/v1/tracking/reports/daily", params={"date": "2026-11-20", "manager_id": "am-t"},
                             headers=store_manager(env))).json()
    assert len(day["records"]) == 2
    r = await members.post("/v1/tracking/records", json=record, headers={**as_manager(env, "am-t"), "Idempotency-Key": "short"})
    assert r.status_code == 422 and "Idempotency-Key" in r.text


async def test_an_account_manager_asking_for_another_stores_report_is_refused_not_answered_with_their_own(members, env) -> None:
    await manager_for(members, env, "天水苑", id="am-t")
    url = "/v1/tracking/reports/daily"
    r = await members.get(url, params={"date": "2026-11-20", "store_id": "S002"}, headers=as_manager(env, "am-t"))
    assert r.status_code == 403 and "S001" in r.json()["detail"], r.text
    for store in ({}, {"store_id": "S001"}):  # their own, with or without their store named
        r = await members.get(url, params={"date": "2026-11-20", **store}, headers=as_manager(env, "am-t"))
        assert r.status_code == 200 and r.json()["manager_id"] == "am-t", r.text


async def test_a_form_without_an_idempotency_key_is_422_naming_the_header_and_records_nothing(members, env) -> None:
    """Without a key, a form sent again after a lost answer would be a second line of the report."""
    await manager_for(members, env, "天水苑", id="am-t")
    mine = await vip(members, env, "天水苑", NOW)
    record = {"tracked_on": "2026-11-20", "member_id": mine["id"], "contact": "本人", "method": "phone", "rating": 4}
    r = await members.post("/v1/tracking/records", json=record, headers=as_manager(env, "am-t"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"], r.text
    day = (await members.get("/v1/tracking/reports/daily", params={"date": "2026-11-20", "manager_id": "am-t"},
                             headers=store_manager(env))).json()
    assert day["records"] == []
    queue = (await members.get("/v1/tracking/queue", headers=as_manager(env, "am-t"))).json()
    assert queue["items"][0]["last_tracked_on"] is None


async def test_a_form_is_dated_at_most_a_month_back_so_a_slip_of_the_year_is_refused(members, env) -> None:
    """The daily form may be filled in late (a weekend, a holiday week, a leave), up to
    CRM_TRACKING_LATE_DAYS (31) days; 1990-12-02 for 2026-12-02 is a slip, not a late form."""
    await manager_for(members, env, "望江苑", id="am-late")
    m = await vip(members, env, "望江苑", NOW)
    record = {"member_id": m["id"], "contact": "本人", "method": "phone", "rating": 4}
    headers = as_manager(env, "am-late")
    r = await members.post("/v1/tracking/records", json={**record, "tracked_on": "2026-10-20"}, headers=keyed(headers))
    assert r.status_code == 201, r.text  # 31 days before 2026-11-20
    for slip in ("2026-10-19", "1990-11-20"):
        r = await members.post("/v1/tracking/records", json={**record, "tracked_on": slip}, headers=keyed(headers))
        assert r.status_code == 422
        assert r.json()["detail"] == (f"tracked_on: is {slip}, more than 31 days ago: a contact is recorded at most that late "
                                      "(the earliest taken is 2026-10-20)")
    for guessed in (0, "0", 20261120, "2026-11-20T00:00:00"):  # lax parsing took these for dates
        r = await members.post("/v1/tracking/records", json={**record, "tracked_on": guessed}, headers=keyed(headers))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "tracked_on"], (guessed, r.text)
    report = await members.get("/v1/tracking/reports/daily", params={"date": "0"}, headers=store_manager(env))
    assert report.status_code == 422 and report.json()["detail"][0]["loc"] == ["query", "date"]
    queue = (await members.get("/v1/tracking/queue", headers=headers)).json()
    assert queue["items"][0]["last_tracked_on"] == "2026-10-20"  # only the form within the window was kept


async def test_how_late_a_form_may_be_dated_is_a_setting(env, database_factory) -> None:
    settings = env.settings(Settings, await database_factory("members"), tracking_late_days=7)
    async with service(create_app(settings, clock=lambda: NOW)) as members:
        await manager_for(members, env, "临江苑", id="am-week")
        m = await vip(members, env, "临江苑", NOW)
        record = {"member_id": m["id"], "contact": "本人", "method": "sms", "rating": 3}
        week = await members.post("/v1/tracking/records", json={**record, "tracked_on": "2026-11-13"}, headers=keyed(as_manager(env, "am-week")))
        older = await members.post("/v1/tracking/records", json={**record, "tracked_on": "2026-11-12"}, headers=keyed(as_manager(env, "am-week")))
    assert week.status_code == 201, week.text
    assert older.status_code == 422 and "more than 7 days ago" in older.json()["detail"]


@pytest.mark.parametrize(("field", "value"), [
    ("method", "fax"), ("rating", 6), ("rating", 0), ("rating", True), ("rating", "4"), ("rating", 4.0), ("contact", " "),
])
async def test_bad_tracking_records_are_422_naming_the_field(members, env, field, value) -> None:
    record = {"tracked_on": "2026-11-20", "member_id": "m", "contact": "本人", "method": "sms", "rating": 3}
    r = await members.post("/v1/tracking/records", json={**record, field: value}, headers=keyed(as_manager(env, "am-x")))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field]


async def test_the_daily_report_goes_to_the_store_manager_as_json_csv_and_a_printable_page(members, env) -> None:
    await manager_for(members, env, "春晓苑", id="am-r1", name="王芳")
    await manager_for(members, env, "秋实苑", id="am-r2", name="赵强")
    a = await vip(members, env, "春晓苑", NOW)
    b = await vip(members, env, "秋实苑", NOW)
    for manager, member, method in (("am-r1", a, "home_visit"), ("am-r2", b, "wechat")):
        body = {"tracked_on": "2026-11-20", "member_id": member["id"], "contact": "家属", "method": method, "rating": 5,
                "notes": "=送货上门"}
        assert (await members.post("/v1/tracking/records", json=body, headers=keyed(as_manager(env, manager)))).status_code == 201
    url = "/v1/tracking/reports/daily"
    day = {"date": "2026-11-20"}
    report = (await members.get(url, params=day, headers=store_manager(env))).json()
    assert [(r["manager_name"], r["customer_name"], r["method"]) for r in report["records"]] == [
        ("王芳", a["name"], "home_visit"), ("赵强", b["name"], "wechat"),
    ]
    own = (await members.get(url, params=day, headers=as_manager(env, "am-r2"))).json()
    assert [r["member_id"] for r in own["records"]] == [b["id"]]
    csv = await members.get(url, params={**day, "format": "csv"}, headers=store_manager(env))
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("\ufeff日期 Date,")
    assert "上门 Home visit" in csv.text and "'=送货上门" in csv.text  # a formula-looking note is defused
    page = await members.get(url, params={**day, "format": "html"}, headers=store_manager(env))
    assert page.headers["content-type"].startswith("text/html") and "@media print" in page.text and "王芳" in page.text
    assert (await members.get(url, params=day, headers=store_manager(env, "S002"))).json()["records"] == []
    assert (await members.get(url, params={**day, "store_id": "S001"}, headers=store_manager(env, "S002"))).status_code == 403
    # One manager's day, asked by another store's manager, is refused as their queue is; an unknown one is 404.
    assert (await members.get(url, params={**day, "manager_id": "am-r1"}, headers=store_manager(env, "S002"))).status_code == 403
    assert (await members.get(url, params={**day, "manager_id": "nobody"}, headers=store_manager(env))).status_code == 404
    one = (await members.get(url, params={**day, "manager_id": "am-r1"}, headers=store_manager(env))).json()
    assert [r["member_id"] for r in one["records"]] == [a["id"]]
    assert (await members.get(url, params={"date": "20-11-2026"}, headers=store_manager(env))).status_code == 422


async def test_a_store_managers_report_leaves_out_the_customers_of_other_stores(members, env) -> None:
    """A store's account manager may look after a VIP of another store: the notes on that customer
    are not for this store's manager, as the queue already shows them only their own store's."""
    await manager_for(members, env, "云栖苑", id="am-x1", name="周敏")
    ours = await vip(members, env, "云栖苑", NOW)
    theirs = await register(members, env, community="云栖苑", home_store_id="S002")
    await deliver_sale(members, card_no=theirs["card_no"], lines=[spend_line("5000.00")], occurred_at=NOW)
    for member in (ours, theirs):
        body = {"tracked_on": "2026-11-20", "member_id": member["id"], "contact": "本人", "method": "phone", "rating": 4}
        r = await members.post("/v1/tracking/records", json=body, headers=keyed(as_manager(env, "am-x1")))
        assert r.status_code == 201, r.text
    url, day = "/v1/tracking/reports/daily", {"date": "2026-11-20"}
    seen = {}
    for who, headers in (("store", store_manager(env)), ("admin", admin(env)), ("manager", as_manager(env, "am-x1"))):
        report = await members.get(url, params=day, headers=headers)
        assert report.status_code == 200, report.text
        seen[who] = {r["member_id"] for r in report.json()["records"]}
    assert seen == {"store": {ours["id"]}, "admin": {ours["id"], theirs["id"]}, "manager": {ours["id"], theirs["id"]}}
    csv = (await members.get(url, params={**day, "format": "csv"}, headers=store_manager(env))).text
    assert ours["card_no"] in csv and theirs["card_no"] not in csv


async def test_managers_are_ranked_monthly_and_the_lowest_of_the_quarter_is_flagged(members, env) -> None:
    october = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
    await manager_for(members, env, "东苑", id="am-east", name="东经理")
    await manager_for(members, env, "西苑", id="am-west", name="西经理")
    east = await vip(members, env, "东苑", october)
    await deliver_sale(members, card_no=east["card_no"], lines=[spend_line("1000.00")], occurred_at=october)
    west = await vip(members, env, "西苑", october, amount="6000.00")
    await deliver_sale(members, card_no=west["card_no"], lines=[spend_line("900.00")], occurred_at=datetime(2026, 11, 2, tzinfo=UTC))
    await register(members, env, community="东苑")
    async with members.app.state.sessions() as s, s.begin():
        await s.exec(update(MemberRow).values(created_at=october))  # everyone registered in October
    r = await members.get("/v1/evaluations/managers/monthly", params={"month": "2026-10"}, headers=store_manager(env))
    assert r.status_code == 200, r.text
    ranking = r.json()["stores"]["S001"]
    # east: 2 purchases averaging 3000, 3 new customers (seed, VIP, one more); west: 6000 and 2.
    assert [(m["manager_id"], m["average_purchase"], m["new_customers"], m["rank"]) for m in ranking] == [
        ("am-west", "6000.00", 2, 1), ("am-east", "3000.00", 3, 2),
    ]
    assert not any(m["flagged"] for m in ranking)
    quarter = (await members.get("/v1/evaluations/managers/quarterly", params={"quarter": "2026-Q4"}, headers=admin(env))).json()
    assert [(m["manager_id"], m["flagged"]) for m in quarter["stores"]["S001"]] == [("am-west", False), ("am-east", True)]
    assert quarter["stores"]["S001"][0]["purchases"] == 2  # November's sale counts in the quarter
    csv = await members.get("/v1/evaluations/managers/quarterly", params={"quarter": "2026-Q4", "format": "csv"}, headers=store_manager(env))
    assert csv.text.startswith("\ufeff门店 Store,排名 Rank") and "东经理" in csv.text
    forbidden = await members.get("/v1/evaluations/managers/monthly", params={"month": "2026-10", "store_id": "S001"},
                                  headers=store_manager(env, "S002"))
    assert forbidden.status_code == 403
    bad = await members.get("/v1/evaluations/managers/monthly", params={"month": "2026-13"}, headers=admin(env))
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "month"]
    assert (await members.get("/v1/evaluations/managers/monthly", params={"month": "2026-10"},
                              headers=as_manager(env, "am-east"))).status_code == 403


async def test_only_the_quarterly_download_has_the_lowest_of_quarter_column_worded_in_both_languages(members, env) -> None:
    """A month flags nobody: its download has no column that would read "no" for everyone. The
    quarter's says yes or no as the reports word a code, 是 Yes / 否 No, not a bare English yes."""
    await manager_for(members, env, "东苑", id="am-east", name="东经理")
    await manager_for(members, env, "西苑", id="am-west", name="西经理")
    await register(members, env, community="西苑")  # west has more new customers: east ranks lowest
    heads = ["门店 Store", "排名 Rank", "客户经理 Account manager", "跟踪客户数 Customers tracked", "购买次数 Purchases",
             "消费额 Spend (CNY)", "平均购买额 Average purchase (CNY)", "新增客户 New customers", "排名分 Rank score"]
    url = "/v1/evaluations/managers"
    month = await members.get(f"{url}/monthly", params={"month": "2026-11", "format": "csv"}, headers=store_manager(env))
    assert month.status_code == 200, month.text
    [head, *rows] = list(csv_module.reader(io.StringIO(month.text.removeprefix("\ufeff"))))
    assert head == heads
    assert [(row[2], len(row)) for row in rows] == [("西经理", len(heads)), ("东经理", len(heads))]
    page = await members.get(f"{url}/monthly", params={"month": "2026-11", "format": "html"}, headers=store_manager(env))
    assert "东经理" in page.text and "末位" not in page.text and "Lowest of quarter" not in page.text
    # The screens' JSON keeps the field, false for every manager of a month.
    monthly = (await members.get(f"{url}/monthly", params={"month": "2026-11"}, headers=store_manager(env))).json()
    assert [m["flagged"] for m in monthly["stores"]["S001"]] == [False, False]

    quarter = await members.get(f"{url}/quarterly", params={"quarter": "2026-Q4", "format": "csv"}, headers=store_manager(env))
    assert quarter.status_code == 200, quarter.text
    [head, *rows] = list(csv_module.reader(io.StringIO(quarter.text.removeprefix("\ufeff"))))
    assert head == [*heads, "末位 Lowest of quarter"]
    assert [(row[2], row[-1]) for row in rows] == [("西经理", "否 No"), ("东经理", "是 Yes")]


async def test_a_store_manager_sees_only_their_stores_customers_in_a_managers_queue(members, env) -> None:
    # am-1 works at S001, but the community they cover has customers of S002 too.
    await manager_for(members, env, "丽景湾", id="am-mixed")
    ours = await register(members, env, community="丽景湾", home_store_id="S001")
    theirs = await register(members, env, community="丽景湾", home_store_id="S002")
    for m in (ours, theirs):
        await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("5000.00")], occurred_at=NOW - timedelta(days=3))
    own = await members.get("/v1/tracking/queue", params={"as_of": NOW.isoformat()}, headers=as_manager(env, "am-mixed"))
    assert {i["member_id"] for i in own.json()["items"]} >= {ours["id"], theirs["id"]}
    r = await members.get(
        "/v1/tracking/queue", params={"manager_id": "am-mixed", "as_of": NOW.isoformat()}, headers=store_manager(env)
    )
    assert r.status_code == 200, r.text
    listed = {i["member_id"] for i in r.json()["items"]}
    assert ours["id"] in listed and theirs["id"] not in listed
    other = await members.get("/v1/tracking/queue", params={"manager_id": "am-mixed"}, headers=store_manager(env, "S002"))
    assert other.status_code == 403


async def test_a_contact_plans_the_next_one_and_the_queue_shows_the_customer_due_from_that_day(members, env) -> None:
    await manager_for(members, env, "望江苑", id="am-plan")
    m = await vip(members, env, "望江苑", NOW - timedelta(days=1))
    record = {"tracked_on": "2026-11-20", "member_id": m["id"], "contact": "本人", "method": "phone", "rating": 4,
              "next_follow_up_on": "2026-11-25"}
    r = await members.post("/v1/tracking/records", json=record, headers=keyed(as_manager(env, "am-plan")))
    assert r.status_code == 201, r.text
    assert r.json()["next_follow_up_on"] == "2026-11-25"

    async def queued(at: datetime) -> dict:
        r = await members.get("/v1/tracking/queue", params={"as_of": at.isoformat()}, headers=as_manager(env, "am-plan"))
        assert r.status_code == 200, r.text
        return r.json()["items"][0]

    assert {k: (await queued(NOW))[k] for k in ("next_follow_up_on", "follow_up_due")} == {
        "next_follow_up_on": "2026-11-25", "follow_up_due": False}
    assert (await queued(NOW + timedelta(days=4)))["follow_up_due"] is False  # 24 November in Shanghai
    assert (await queued(NOW + timedelta(days=5)))["follow_up_due"] is True
    assert (await queued(NOW + timedelta(days=9)))["follow_up_due"] is True  # overdue stays due

    # A contact recorded late for an earlier day leaves the latest day's plan in force ...
    late = {**record, "tracked_on": "2026-11-18", "next_follow_up_on": "2026-11-30"}
    assert (await members.post("/v1/tracking/records", json=late, headers=keyed(as_manager(env, "am-plan")))).status_code == 201
    assert (await queued(NOW))["next_follow_up_on"] == "2026-11-25"
    # ... and the next contact of the latest day replaces it, with another plan or none.
    again = {k: v for k, v in record.items() if k != "next_follow_up_on"}
    assert (await members.post("/v1/tracking/records", json=again, headers=keyed(as_manager(env, "am-plan")))).status_code == 201
    now = await queued(NOW + timedelta(days=9))
    assert (now["next_follow_up_on"], now["follow_up_due"], now["last_tracked_on"]) == (None, False, "2026-11-20")
    day = (await members.get("/v1/tracking/reports/daily", params={"date": "2026-11-20", "format": "csv"},
                             headers=as_manager(env, "am-plan")))
    assert "下次跟进 Next follow-up" in day.text.splitlines()[0] and ",2026-11-25" in day.text


@pytest.mark.parametrize(("next_on", "why"), [
    ("2026-11-20", "is 2026-11-20: must be after the day of this contact (2026-11-20)"),
    ("2026-11-19", "is 2026-11-19: must be after the day of this contact (2026-11-20)"),
    ("2027-11-22", "is 2027-11-22, more than 366 days ahead (the latest taken is 2027-11-21)"),
])
async def test_a_follow_up_on_the_contacts_day_gone_by_or_a_year_away_is_422_naming_it(members, env, next_on, why) -> None:
    await manager_for(members, env, "望江苑", id="am-plan")
    m = await vip(members, env, "望江苑", NOW)
    record = {"tracked_on": "2026-11-20", "member_id": m["id"], "contact": "本人", "method": "phone", "rating": 4,
              "next_follow_up_on": next_on}
    r = await members.post("/v1/tracking/records", json=record, headers=keyed(as_manager(env, "am-plan")))
    assert r.status_code == 422 and r.json()["detail"] == f"next_follow_up_on: {why}", r.text
    queue = (await members.get("/v1/tracking/queue", headers=as_manager(env, "am-plan"))).json()
    assert queue["items"][0]["last_tracked_on"] is None


async def test_a_form_sent_again_with_another_follow_up_under_its_key_is_409(members, env) -> None:
    await manager_for(members, env, "望江苑", id="am-plan")
    m = await vip(members, env, "望江苑", NOW)
    record = {"tracked_on": "2026-11-20", "member_id": m["id"], "contact": "本人", "method": "phone", "rating": 4,
              "next_follow_up_on": "2026-11-25"}
    under_key = {**as_manager(env, "am-plan"), "Idempotency-Key": "form-plan-000001"}
    assert (await members.post("/v1/tracking/records", json=record, headers=under_key)).status_code == 201
    assert (await members.post("/v1/tracking/records", json=record, headers=under_key)).status_code == 200
    r = await members.post("/v1/tracking/records", json={**record, "next_follow_up_on": "2026-11-26"}, headers=under_key)
    assert r.status_code == 409, r.text


async def test_the_queue_says_whose_birthday_is_within_the_notice_days(members, env) -> None:
    await manager_for(members, env, "寿星苑", id="am-bday")
    ms = {}
    for label, born in (("today", "1980-11-20"), ("soon", "1975-11-27"), ("later", "1990-11-28"), ("gone", "1985-11-19"),
                        ("none", None)):
        m = await register(members, env, community="寿星苑", **({"birthday": born} if born else {}))
        await deliver_sale(members, card_no=m["card_no"], lines=[spend_line("5000.00")], occurred_at=NOW)
        ms[m["id"]] = label
    r = await members.get("/v1/tracking/queue", params={"as_of": NOW.isoformat()}, headers=as_manager(env, "am-bday"))
    assert r.status_code == 200, r.text
    # CRM_BIRTHDAY_NOTICE_DAYS is 7: 27 November is in, 28 November and last year's are not.
    assert {ms[i["member_id"]]: i["birthday_in_days"] for i in r.json()["items"]} == {
        "today": 0, "soon": 7, "later": None, "gone": None, "none": None}


async def test_a_customers_contacts_are_read_most_recent_first_by_those_who_may_act_on_them(members, env) -> None:
    await manager_for(members, env, "望江苑", id="am-hist")
    await manager_for(members, env, "观山苑", id="am-else")
    mine = await vip(members, env, "望江苑", NOW)
    theirs = await vip(members, env, "观山苑", NOW)
    for day, notes, plan in (("2026-11-18", "first", None), ("2026-11-20", "latest", "2026-12-01"), ("2026-11-19", "late", None)):
        body = {"tracked_on": day, "member_id": mine["id"], "contact": "本人", "method": "wechat", "rating": 4, "notes": notes,
                **({"next_follow_up_on": plan} if plan else {})}
        assert (await members.post("/v1/tracking/records", json=body, headers=keyed(as_manager(env, "am-hist")))).status_code == 201
    url = f"/v1/tracking/members/{mine['id']}/records"
    r = await members.get(url, headers=as_manager(env, "am-hist"))
    assert r.status_code == 200, r.text
    assert [(c["tracked_on"], c["notes"], c["next_follow_up_on"]) for c in r.json()] == [
        ("2026-11-20", "latest", "2026-12-01"), ("2026-11-19", "late", None), ("2026-11-18", "first", None)]
    assert [c["notes"] for c in (await members.get(url, params={"limit": 1}, headers=as_manager(env, "am-hist"))).json()] == ["latest"]
    assert (await members.get(url, headers=store_manager(env))).status_code == 200
    # Another manager's customer, another store's, a role that reads no tracking, nobody.
    assert (await members.get(url, headers=as_manager(env, "am-else"))).status_code == 403
    assert (await members.get(url, headers=store_manager(env, "S002"))).status_code == 403
    assert (await members.get(url, headers=env.auth(Role.MARKETING))).status_code == 403
    assert (await members.get(f"/v1/tracking/members/{theirs['id']}/records", headers=as_manager(env, "am-hist"))).status_code == 403
    assert (await members.get("/v1/tracking/members/nobody/records", headers=admin(env))).status_code == 404
    r = await members.get(url, params={"limit": 0}, headers=as_manager(env, "am-hist"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "limit"]
