"""The value-analytics job and its reports, against SQLite and PostgreSQL."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from members.adapters.tables import MemberRow
from members.service_layer import analytics
from shared.auth import Role
from shared.db import is_postgresql
from tests.support.factories import line
from tests.support.members import deliver_refund, deliver_sale, desk, outbox, register

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # noon in Shanghai
ATTRIBUTES = "crm.members.member_attributes.v1"


async def buy(members, member: dict, days_ago: float, amount: str, **kw) -> str:
    return await deliver_sale(
        members, card_no=member["card_no"], occurred_at=NOW - timedelta(days=days_ago),
        lines=[line(qty="1", unit_price=amount)], **kw,
    )


async def run(members, now: datetime = NOW) -> dict:
    return await analytics.run(members.app.state.commands, members.app.state.settings, now)


async def value(members, env, member: dict) -> dict:
    r = await members.get(f"/v1/members/{member['id']}/value", headers=desk(env))
    assert r.status_code == 200, r.text
    return r.json()


async def set_member(members, member: dict, **values) -> None:
    async with members.app.state.sessions() as s, s.begin():
        await s.exec(update(MemberRow).where(MemberRow.id == member["id"]).values(**values))


async def published(members) -> list[dict]:
    return [json.loads(row.envelope) for row in await outbox(members, ATTRIBUTES)]


async def test_job_scores_classes_and_publishes_attributes_without_personal_data(members, env) -> None:
    big = await register(members, env, name="张大户", phone="13800000001")
    mid = await register(members, env)
    small = await register(members, env)
    idle = await register(members, env)
    for days_ago in (3, 10, 17, 24):
        await buy(members, big, days_ago, "220.00")
    await buy(members, mid, 5, "150.00")
    await buy(members, mid, 40, "50.00")
    await buy(members, small, 100, "10.00")
    await buy(members, idle, 400, "999.00")  # outside the 365-day window

    summary = await run(members)
    assert summary["members_total"] == 4 and summary["buyers"] == 3
    assert summary["window_spend_total"] == "1090.00"
    # 880 of 1090 (80.7%) makes the big spender key alone; the next 200 take it past 95%.
    assert summary["classes"] == {"key": 1, "secondary": 1, "ordinary": 1, "none": 1}
    assert summary["top_share"] == "0.8073" and summary["key_min_spend"] == "880.00"

    v = await value(members, env, big)
    # Best of three buyers on every dimension: 1 + floor(5 * 2 / 3) = 4.
    assert (v["value_class"], v["recency"], v["frequency"], v["monetary"]) == ("key", 4, 4, 4)
    assert Decimal(v["window_spend"]) == Decimal("880.00") and v["window_purchase_days"] == 4
    assert v["typical_interval_days"] == 7.0 and v["days_since_last_purchase"] == 3 and v["churn_risk"] == "low"
    v = await value(members, env, idle)
    assert (v["value_class"], v["recency"], v["frequency"], v["monetary"]) == ("none", 0, 0, 0)
    assert v["days_since_last_purchase"] == 400 and v["rhythm_source"] == "population"

    events = await published(members)
    assert len(events) == 4 and {e["subject"] for e in events} == {big["id"], mid["id"], small["id"], idle["id"]}
    payload = next(e["data"] for e in events if e["subject"] == big["id"])
    assert payload["value_class"] == "key" and payload["window_spend"] == "880.00" and payload["recency"] == 4
    text = json.dumps(events, ensure_ascii=False)
    for personal in ("张大户", "13800000001", big["card_no"]):
        assert personal not in text


async def test_a_rerun_publishes_nothing_and_a_change_publishes_only_that_member(members, env) -> None:
    a = await register(members, env)
    b = await register(members, env)
    await buy(members, a, 2, "100.00")
    await buy(members, b, 3, "100.00")
    await run(members)
    assert len(await published(members)) == 2

    again = await run(members, NOW + timedelta(hours=1))
    assert again["published"] == 0 and len(await published(members)) == 2

    await set_member(members, b, tier="vip")
    changed = await run(members, NOW + timedelta(hours=2))
    events = await published(members)
    assert changed["published"] == 1 and len(events) == 3
    assert events[-1]["subject"] == b["id"] and events[-1]["data"]["tier"] == "vip"
    assert len({e["id"] for e in events}) == 3


async def test_attributes_carry_the_birth_month_only_and_a_birthday_change_republishes(members, env) -> None:
    born = await register(members, env, birthday="1988-03-14")
    unknown = await register(members, env)
    await run(members)
    by_member = {e["subject"]: e["data"] for e in await published(members)}
    assert by_member[born["id"]]["birth_month"] == 3 and by_member[unknown["id"]]["birth_month"] is None
    # The month only: no year, no day. Ids left out: a random one may hold any four digits.
    fields = json.dumps([{k: v for k, v in data.items() if not k.endswith("_id")} for data in by_member.values()])
    assert "1988" not in fields and "-14" not in fields

    await set_member(members, unknown, birthday=datetime(1990, 11, 2).date())
    changed = await run(members, NOW + timedelta(hours=1))
    events = await published(members)
    assert changed["published"] == 1 and events[-1]["subject"] == unknown["id"] and events[-1]["data"]["birth_month"] == 11


async def test_returns_count_at_the_sale_and_a_sale_returned_in_full_is_no_purchase(members, env) -> None:
    m = await register(members, env)
    kept = await buy(members, m, 2, "300.00")
    gone = await buy(members, m, 9, "80.00")
    await deliver_refund(members, txn=kept, lines=[line(qty="1", unit_price="100.00")], occurred_at=NOW)
    await deliver_refund(members, txn=gone, lines=[line(qty="1", unit_price="80.00")], occurred_at=NOW)
    await run(members)
    v = await value(members, env, m)
    assert Decimal(v["window_spend"]) == Decimal("200.00")
    assert v["window_purchase_days"] == 1 and v["typical_interval_days"] is None


async def test_purchases_before_the_window_set_the_rhythm_but_not_the_spend(members, env) -> None:
    m = await register(members, env)
    for days_ago in (380, 370, 360, 350):
        await buy(members, m, days_ago, "50.00")
    await run(members)
    v = await value(members, env, m)
    assert Decimal(v["window_spend"]) == Decimal("100.00") and v["window_purchase_days"] == 2
    assert v["typical_interval_days"] == 10.0 and v["churn_risk"] == "lost"


async def test_weekly_and_monthly_buyers_absent_equally_long_get_different_risks(members, env) -> None:
    weekly = await register(members, env)
    monthly = await register(members, env)
    for i in range(6):
        await buy(members, weekly, 20 + 7 * i, "60.00")
        await buy(members, monthly, 20 + 30 * i, "240.00")
    await run(members)
    w, m = await value(members, env, weekly), await value(members, env, monthly)
    assert w["days_since_last_purchase"] == m["days_since_last_purchase"] == 20
    assert (w["typical_interval_days"], w["churn_risk"]) == (7.0, "high")
    assert (m["typical_interval_days"], m["churn_risk"]) == (30.0, "low")


async def test_two_receipts_on_one_local_day_are_one_purchase_day(members, env) -> None:
    m = await register(members, env)
    # 23:30 and 00:30 UTC on different UTC days are the same Shanghai day (07:30 and 08:30).
    day = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    await deliver_sale(members, card_no=m["card_no"], occurred_at=day, lines=[line(qty="1", unit_price="10.00")])
    await deliver_sale(members, card_no=m["card_no"], occurred_at=day + timedelta(hours=1),
                       lines=[line(qty="1", unit_price="10.00")])
    await run(members)
    v = await value(members, env, m)
    assert v["window_purchase_days"] == 1 and Decimal(v["window_spend"]) == Decimal("20.00")


async def test_erased_members_count_in_totals_but_are_not_published(members, env) -> None:
    kept = await register(members, env)
    erased = await register(members, env)
    await buy(members, kept, 2, "100.00")
    await buy(members, erased, 2, "300.00")
    await set_member(members, erased, erased_at=NOW - timedelta(days=1), name="")
    summary = await run(members)
    assert summary["window_spend_total"] == "400.00" and summary["buyers"] == 2
    assert [e["subject"] for e in await published(members)] == [kept["id"]]


async def test_value_before_any_run_is_404_and_members_cannot_read_their_value(members, env) -> None:
    m = await register(members, env)
    r = await members.get(f"/v1/members/{m['id']}/value", headers=desk(env))
    assert r.status_code == 404 and "value-analytics job" in r.json()["detail"]
    r = await members.get(f"/v1/members/{m['id']}/value", headers=env.auth(Role.MEMBER, member_id=m["id"]))
    assert r.status_code == 403
    r = await members.get("/v1/members/no-such-member/value", headers=desk(env))
    assert r.status_code == 404 and "no member" in r.json()["detail"]


async def test_value_class_list_has_the_summary_and_is_limited_to_the_managers_customers(members, env) -> None:
    customers = [await register(members, env) for _ in range(5)]
    for amount, c in zip(("500.00", "300.00", "100.00", "60.00", "40.00"), customers, strict=True):
        await buy(members, c, 5, amount)
    await set_member(members, customers[0], manager_id="test-account_manager")
    await set_member(members, customers[2], manager_id="test-account_manager")
    await run(members)

    body = (await members.get("/v1/analytics/value-classes", headers=env.auth(Role.MARKETING))).json()
    assert body["summary"]["key_share_boundary"] == "0.80" and body["summary"]["top_share"] == "0.5000"
    assert body["counts"] == {"key": 2, "secondary": 2, "ordinary": 1}
    assert [i["member_id"] for i in body["items"]] == [c["id"] for c in customers]
    assert "phone" not in body["items"][0] and "address" not in body["items"][0]

    key = (await members.get("/v1/analytics/value-classes", params={"value_class": "key", "limit": 1, "offset": 1},
                             headers=env.auth(Role.MARKETING))).json()
    assert key["total"] == 2 and [i["member_id"] for i in key["items"]] == [customers[1]["id"]]

    mine = (await members.get("/v1/analytics/value-classes", headers=env.auth(Role.ACCOUNT_MANAGER))).json()
    assert [i["member_id"] for i in mine["items"]] == [customers[0]["id"], customers[2]["id"]]
    assert mine["counts"] == {"key": 1, "secondary": 1}


async def test_lists_export_as_csv_with_bom_and_printable_html(members, env) -> None:
    m = await register(members, env, name="李四")
    await buy(members, m, 5, "88.00")
    await buy(members, m, 12, "12.00")
    await run(members)
    r = await members.get("/v1/analytics/value-classes", params={"format": "csv"}, headers=env.auth(Role.ADMIN))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert rows[0][0] == "会员编号 Member ID" and rows[1][0] == m["id"] and "李四" in rows[1]
    # Tier, value class and churn risk as staff read them, not members' codes (`member`, `key`, `low`).
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["等级 Tier"] == "普通会员 Member"
    assert row["价值等级 Value class"] == "重点客户 Key" and row["流失风险 Churn risk"] in {"低 Low", "中 Medium", "高 High"}
    r = await members.get("/v1/analytics/churn", params={"format": "html", "risk": "low"}, headers=env.auth(Role.ADMIN))
    assert r.headers["content-type"].startswith("text/html") and "@media print" in r.text and m["id"] in r.text
    r = await members.get("/v1/analytics/rfm", params={"format": "xml"}, headers=env.auth(Role.ADMIN))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "format"]


async def test_lists_name_the_community_as_the_chain_does_and_print_the_run_in_local_time(members, env) -> None:
    first = await register(members, env, name="王五", community="丽景湾小区")
    second = await register(members, env, name="赵六", community="丽景湾")  # the same community, typed another way
    assert first["community_id"] == second["community_id"]
    for m in (first, second):
        await buy(members, m, 5, "20.00")
    await run(members)
    r = await members.get("/v1/analytics/value-classes", headers=env.auth(Role.ADMIN))
    assert {i["name"]: i["community"] for i in r.json()["items"]} == {"王五": "丽景湾小区", "赵六": "丽景湾小区"}
    # The run's time as the stores' clocks showed it (noon in Shanghai), and whose top-20% share it is.
    printed = await members.get("/v1/analytics/value-classes", params={"format": "html"},
                                headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert "截至 As of 2026-11-23 12:00 (Asia/Shanghai)" in printed.text, printed.text
    assert "全连锁前20%客户消费占比 Top 20% share, whole chain" in printed.text


async def test_churn_list_shows_the_most_valuable_at_risk_customers_first(members, env) -> None:
    rich, poor, fine = [await register(members, env) for _ in range(3)]
    for i in range(4):
        await buy(members, rich, 30 + 7 * i, "500.00")
        await buy(members, poor, 40 + 7 * i, "20.00")
        await buy(members, fine, 1 + 7 * i, "900.00")
    await run(members)
    body = (await members.get("/v1/analytics/churn", headers=env.auth(Role.MARKETING))).json()
    assert [(i["member_id"], i["churn_risk"]) for i in body["items"]] == [(rich["id"], "lost"), (poor["id"], "lost")]
    body = (await members.get("/v1/analytics/churn", params={"risk": "low"}, headers=env.auth(Role.MARKETING))).json()
    assert [i["member_id"] for i in body["items"]] == [fine["id"]]
    r = await members.get("/v1/analytics/churn", params={"risk": "gone"}, headers=env.auth(Role.MARKETING))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "risk", 0]


async def test_an_erased_customer_is_no_customer_to_win_back(members, env) -> None:
    kept, erased = await register(members, env), await register(members, env)
    for i in range(4):
        await buy(members, kept, 40 + 7 * i, "20.00")
        await buy(members, erased, 30 + 7 * i, "500.00")
    await set_member(members, erased, erased_at=NOW - timedelta(days=1), name="")
    await run(members)
    body = (await members.get("/v1/analytics/churn", headers=env.auth(Role.MARKETING))).json()
    assert [i["member_id"] for i in body["items"]] == [kept["id"]] and body["total"] == 1
    # Still counted where the chain's customers are counted.
    counts = (await members.get("/v1/analytics/value-classes", headers=env.auth(Role.MARKETING))).json()["counts"]
    assert sum(counts.values()) == 2


async def test_rfm_distribution_counts_customers_per_score(members, env) -> None:
    customers = [await register(members, env) for _ in range(5)]
    for i, c in enumerate(customers):
        await buy(members, c, 10 * (i + 1), f"{100 * (i + 1)}.00")
    await register(members, env)  # bought nothing: scores 0
    await run(members)
    body = (await members.get("/v1/analytics/rfm", headers=env.auth(Role.STORE_MANAGER))).json()
    assert body["recency"] == {str(s): 0 for s in range(6)}  # store manager without a store sees nobody
    body = (await members.get("/v1/analytics/rfm", headers=env.auth(Role.MARKETING))).json()
    assert body["recency"] == {"0": 1, "1": 1, "2": 1, "3": 1, "4": 1, "5": 1}
    assert body["monetary"]["5"] == 1 and body["frequency"]["1"] == 5
    cell = next(c for c in body["cells"] if (c["recency"], c["monetary"]) == (1, 5))
    assert cell["members"] == 1 and Decimal(cell["window_spend"]) == Decimal("500.00")


async def test_staff_trigger_the_job_as_admin_only(members, env) -> None:
    m = await register(members, env)
    await buy(members, m, 1, "10.00")
    r = await members.post("/v1/jobs/value-analytics/run", headers=env.auth(Role.MARKETING))
    assert r.status_code == 403
    r = await members.post("/v1/jobs/value-analytics/run", headers=env.auth(Role.ADMIN))
    assert r.status_code == 200 and r.json()["job"] == "value-analytics" and r.json()["buyers"] == 1


async def test_a_run_for_a_moment_before_the_latest_leaves_the_current_scores(members, env) -> None:
    # An operator's run by hand "as of" a past date: the scores of today stay, nothing is announced.
    m = await register(members, env)
    await buy(members, m, 2, "100.00")
    await run(members)
    before = await value(members, env, m)
    earlier = await run(members, NOW - timedelta(days=30))
    assert earlier["skipped"] is True and NOW.isoformat() in earlier["reason"]
    assert await value(members, env, m) == before and len(await published(members)) == 1
    assert (await run(members, NOW + timedelta(hours=1)))["published"] == 0  # later runs go on as before


async def test_a_later_run_refreshes_days_since_and_rewrites_only_what_changed(members, env) -> None:
    steady = await register(members, env)
    for days_ago in (2, 9, 16):
        await buy(members, steady, days_ago, "40.00")
    await run(members)
    later = await run(members, NOW + timedelta(days=1))
    assert later["snapshots_changed"] == 0 and later["published"] == 0
    v = await value(members, env, steady)
    assert v["days_since_last_purchase"] == 3 and datetime.fromisoformat(v["as_of"]) == NOW + timedelta(days=1)
    await buy(members, steady, -1, "40.00")  # shops again the next day
    again = await run(members, NOW + timedelta(days=2))
    assert again["snapshots_changed"] == 1
    assert (await value(members, env, steady))["days_since_last_purchase"] == 1


async def test_a_rerun_over_unchanged_data_reuses_the_results_and_any_change_is_scored_again(members, env) -> None:
    async with members.app.state.sessions() as s:
        reusable = is_postgresql(s)  # SQLite has no hash to digest the tables with: it scores again
    a = await register(members, env)
    b = await register(members, env)
    sale_a = await buy(members, a, 2, "100.00")
    await buy(members, b, 30, "100.00")
    first = await run(members)
    assert first["reused"] is False and first["published"] == 2

    again = await run(members)
    assert (again["reused"], again["published"], again["snapshots_changed"]) == (reusable, 0, 0)
    assert {k: v for k, v in again.items() if k not in ("reused", "published", "snapshots_changed")} == {
        k: v for k, v in first.items() if k not in ("reused", "published", "snapshots_changed")}

    # A new sale: scored again, with the same clock.
    await buy(members, b, 1, "500.00")
    after_sale = await run(members)
    assert after_sale["reused"] is False and Decimal(after_sale["window_spend_total"]) == Decimal("700.00")
    assert (await value(members, env, b))["window_spend"] == "600.00"
    assert (await run(members))["reused"] is reusable

    # A return, a profile edit and another clock each make the stored results stale too.
    await deliver_refund(members, txn=sale_a, lines=[line(qty="1", unit_price="100.00")])
    after_return = await run(members)
    assert after_return["reused"] is False and after_return["snapshots_changed"] >= 1
    assert (await value(members, env, a))["window_spend"] == "0.00"
    await set_member(members, a, home_store_id="S002")
    after_edit = await run(members)
    assert after_edit["reused"] is False and after_edit["published"] == 1
    assert (await run(members, NOW + timedelta(hours=1)))["reused"] is False
