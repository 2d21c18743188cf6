"""The points liability report through the service's app: what members hold by the month it
expires, erased members apart, in JSON, CSV and HTML, for whom the policy lets read it."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import func, select

from points.adapters.tables import LedgerRow
from points.jobs import expire_points
from points.service_layer.liability import points_liability
from shared.auth import Role
from shared.reports import XLSX_MEDIA_TYPE

pytestmark = pytest.mark.integration

URL = "/v1/reports/liability"


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 4, tzinfo=UTC)


async def a_chain(pts) -> None:
    """Members in every state a lot can be in, the service's clock at 2026-11-23 (Asia/Shanghai):

    - open: 500 earned at S001 in 2025 (valid to 2026-12-31), 300 at S002 in 2026 (to 2027-12-31);
    - redeemed: 20,000 earned at S001 in 2026, a 10,000-point cushion redeemed, 10,000 left;
    - returned: 200 earned and the sale returned in full: nothing left;
    - deficit: 10,000 earned at S001, spent on a cushion, then the sale returned: -10,000;
    - erased: 400 earned at S001, then the member erased;
    - past its date: 70 earned at S001 in 2024, valid to 2025-12-31, the expiry job not run since;
    - expired: 90 earned at S001 in 2023, expired by the job on 2025-01-02;
    - compensation: 50 points for a complaint, earned at no store.
    """
    members = ("m-open", "m-redeemed", "m-returned", "m-deficit", "m-erased", "m-past", "m-expired", "m-comp")
    await pts.apply(*(pts.registered(m) for m in members))
    returned, deficit = pts.sale("m-returned", "200.00", at=at(2026, 2, 1)), pts.sale("m-deficit", "10000.00", at=at(2026, 2, 1))
    await pts.apply(
        pts.sale("m-open", "500.00", at=at(2025, 5, 1)), pts.sale("m-open", "300.00", store="S002", at=at(2026, 3, 1)),
        pts.sale("m-redeemed", "20000.00", at=at(2026, 3, 1)), returned, deficit,
        pts.sale("m-erased", "400.00", at=at(2026, 4, 1)), pts.sale("m-past", "70.00", at=at(2024, 5, 1)),
        pts.sale("m-expired", "90.00", at=at(2023, 5, 1)), pts.complaint_resolved("m-comp", 50),
    )
    await expire_points(pts.app.state.commands, pts.app.state.settings, datetime(2025, 1, 2, tzinfo=UTC))
    await pts.stock("cushion", "S001", 2)
    for member_id in ("m-redeemed", "m-deficit"):
        assert (await pts.redeem(member_id, "cushion")).status_code == 201
    await pts.apply(pts.ret(returned, "200.00", at=at(2026, 2, 2)), pts.ret(deficit, "10000.00", at=at(2026, 5, 1)),
                    pts.erased("m-erased"))


def lines(body: dict) -> list[tuple[str, str | None, int, int]]:
    return [(ln["line"], ln["expires_month"], ln["points"], ln["accounts"]) for ln in body["lines"]]


async def test_the_chains_points_are_listed_by_month_with_erased_members_apart_and_tie_to_the_ledger(clocked, env) -> None:
    pts, _ = clocked
    await a_chain(pts)
    r = await pts.client.get(URL, headers=env.auth(Role.ADMIN))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["as_of"], body["business_day"], body["store_id"]) == ("2026-11-23T10:15:00+08:00", "2026-11-23", None)
    assert lines(body) == [
        ("past_date", "2025-12", 70, 1),
        ("redeemable", "2026-12", 500, 1),
        ("redeemable", "2027-12", 10_350, 3),
        ("erased", None, 400, 1),
    ]
    assert body["totals"] == {
        "redeemable": {"points": 10_850, "accounts": 3},
        "past_date": {"points": 70, "accounts": 1},
        "erased": {"points": 400, "accounts": 1},
        "all": {"points": 11_320, "accounts": 5},
    }
    async with pts.app.state.sessions() as s:
        ledger = (await s.exec(select(func.sum(LedgerRow.points)))).one()
    assert body["ledger"] == {"balance": ledger, "in_deficit": {"points": -10_000, "accounts": 1}}
    assert ledger == body["totals"]["all"]["points"] + body["ledger"]["in_deficit"]["points"]


async def test_the_report_is_the_same_however_many_accounts_are_read_at_a_time(clocked) -> None:
    pts, clock = clocked
    await a_chain(pts)
    settings = pts.app.state.settings
    async with pts.app.state.commands(read_only=True) as uow:
        whole = await points_liability(uow.session, settings.expiry_policy, settings.zone, clock.now)
        by_two = await points_liability(uow.session, settings.expiry_policy, settings.zone, clock.now, chunk=2)
    assert whole == by_two and whole.held.accounts == 5


async def test_the_csv_has_bilingual_headings_a_bom_and_a_totals_row(clocked, env) -> None:
    pts, _ = clocked
    await a_chain(pts)
    r = await pts.client.get(URL, params={"format": "csv"}, headers=env.auth(Role.MARKETING))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="points-liability-all-2026-11-23.csv"'
    assert r.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table == [
        ["到期月份 Expires (month)", "状态 Status", "积分 Points", "账户数 Accounts"],
        ["2025-12", "已过有效期，待过期作业扣除 Past its last day, not yet expired by the job", "70", "1"],
        ["2026-12", "可兑换 Redeemable", "500", "1"],
        ["2027-12", "可兑换 Redeemable", "10350", "3"],
        ["各月 All months", "已注销会员，不可兑换 Erased members, unredeemable", "400", "1"],
        # An account holding points of two months counts in both: the accounts are not summed.
        ["合计 Total (4)", "", "11320", ""],
    ]


async def test_the_workbook_has_the_csvs_lines_with_points_as_numbers(clocked, env) -> None:
    pts, _ = clocked
    await a_chain(pts)
    r = await pts.client.get(URL, params={"format": "xlsx"}, headers=env.auth(Role.ADMIN))
    assert r.status_code == 200 and r.headers["content-type"] == XLSX_MEDIA_TYPE
    assert r.headers["content-disposition"] == 'attachment; filename="points-liability-all-2026-11-23.xlsx"'
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["到期月份 Expires (month)", "状态 Status", "积分 Points", "账户数 Accounts"]
    assert rows[3] == ["2027-12", "可兑换 Redeemable", 10_350, 3]
    assert rows[-3] == ["合计 Total (4)", None, 11_320, None]
    # Under the totals, after a blank row: the date, the stores and the figures the page states.
    assert rows[-2] == [None] * 4
    assert str(rows[-1][0]).startswith("截至 As of 2026-11-23 10:15 (Asia/Shanghai) · 全部门店 All stores")


async def test_the_printable_page_states_what_is_redeemable_and_that_it_is_in_points_only(clocked, env) -> None:
    pts, _ = clocked
    await a_chain(pts)
    r = await pts.client.get(URL, params={"format": "html"}, headers=env.auth(Role.ADMIN))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "<h1>积分负债 Points liability</h1>" in page
    assert "截至 As of 2026-11-23 10:15 (Asia/Shanghai)" in page
    assert "可兑换 Redeemable: 10850 积分 points, 3 账户 accounts" in page
    assert "持有积分的账户 Accounts holding points: 5" in page
    assert "负余额 Negative balances: -10000 积分 points, 1 账户 accounts · 账本合计 Ledger total: 1320" in page
    assert "no yuan value of a point is set" in page
    assert "<tfoot><tr><th>合计 Total (4)</th><th></th><th>11320</th><th></th></tr></tfoot>" in page


async def test_a_store_manager_gets_what_their_stores_sales_earned_and_no_other_store(clocked, env) -> None:
    pts, _ = clocked
    await a_chain(pts)
    manager = env.auth(Role.STORE_MANAGER, store_id="S001")
    r = await pts.client.get(URL, headers=manager)
    assert r.status_code == 200, r.text
    body = r.json()
    # S002's 300 and the complaint's 50 (earned at no store) are not S001's; nor is a deficit.
    assert body["store_id"] == "S001" and body["ledger"] is None
    assert lines(body) == [
        ("past_date", "2025-12", 70, 1),
        ("redeemable", "2026-12", 500, 1),
        ("redeemable", "2027-12", 10_000, 1),
        ("erased", None, 400, 1),
    ]
    assert body["totals"]["all"] == {"points": 10_970, "accounts": 4}
    assert (await pts.client.get(URL, params={"store_id": "S001"}, headers=manager)).json() == body
    refused = await pts.client.get(URL, params={"store_id": "S002"}, headers=manager)
    assert refused.status_code == 403 and "S001" in refused.text
    csv_ = await pts.client.get(URL, params={"format": "csv"}, headers=manager)
    assert csv_.headers["content-disposition"] == 'attachment; filename="points-liability-S001-2026-11-23.csv"'
    # A store manager's token without its store reaches no store's figures.
    assert (await pts.client.get(URL, headers=env.auth(Role.STORE_MANAGER))).status_code == 403


async def test_the_chains_readers_may_ask_for_one_stores_share(clocked, env) -> None:
    pts, _ = clocked
    await a_chain(pts)
    r = await pts.client.get(URL, params={"store_id": "S002"}, headers=env.auth(Role.MARKETING))
    assert r.status_code == 200, r.text
    assert lines(r.json()) == [("redeemable", "2027-12", 300, 1)]
    assert (await pts.client.get(URL, params={"store_id": "S 1"}, headers=env.auth(Role.ADMIN))).status_code == 422


@pytest.mark.parametrize("role", [Role.SERVICE_DESK, Role.ACCOUNT_MANAGER, Role.OPERATOR, Role.POS, Role.MEMBER, Role.SERVICE])
async def test_roles_that_read_no_chain_figures_are_refused(pts, env, role: Role) -> None:
    claims = {"store_id": "S001"} if role in (Role.SERVICE_DESK, Role.POS) else {"member_id": "m1"} if role is Role.MEMBER else {}
    for fmt in ("json", "csv", "html"):
        r = await pts.client.get(URL, params={"format": fmt}, headers=env.auth(role, **claims))
        assert r.status_code == 403, (role, fmt, r.text)


async def test_with_no_points_held_the_report_is_empty_with_zero_totals(pts, env) -> None:
    r = await pts.client.get(URL, headers=env.auth(Role.ADMIN))
    assert r.status_code == 200
    body = r.json()
    assert body["lines"] == [] and body["totals"]["all"] == {"points": 0, "accounts": 0}
    assert body["ledger"] == {"balance": 0, "in_deficit": {"points": 0, "accounts": 0}}
    page = await pts.client.get(URL, params={"format": "csv"}, headers=env.auth(Role.ADMIN))
    assert page.text.splitlines()[-1] == "合计 Total (0),,0,"


async def snapshot_now(pts) -> dict:
    ran = await pts.client.post("/v1/jobs/liability-snapshot/run", headers=pts.env.auth(Role.ADMIN))
    assert ran.status_code == 200, ran.text
    return ran.json()


async def test_the_days_snapshot_keeps_the_figures_of_its_first_run_for_the_chain_and_each_store(clocked, env) -> None:
    pts, clock = clocked
    await a_chain(pts)
    chain_now = (await pts.client.get(URL, headers=env.auth(Role.ADMIN))).json()
    s001_now = (await pts.client.get(URL, params={"store_id": "S001"}, headers=env.auth(Role.ADMIN))).json()
    taken = await snapshot_now(pts)
    assert (taken["snapshots"], taken["pruned"]) == (3, 0)  # the chain's, S001's and S002's
    # A sale booked later that day moves the figures now, not the day's snapshot; a later run of
    # the day keeps nothing new.
    clock.now += timedelta(hours=2)
    await pts.apply(pts.sale("m-open", "1000.00", at=clock.now))
    assert (await snapshot_now(pts))["snapshots"] == 0
    assert lines((await pts.client.get(URL, headers=env.auth(Role.ADMIN))).json()) != lines(chain_now)
    kept = (await pts.client.get(URL, params={"day": "2026-11-23"}, headers=env.auth(Role.ADMIN))).json()
    assert kept == {**chain_now, "snapshot": True}
    manager = env.auth(Role.STORE_MANAGER, store_id="S001")
    share = (await pts.client.get(URL, params={"day": "2026-11-23"}, headers=manager)).json()
    assert share == {**s001_now, "snapshot": True}
    assert lines(share) == lines(s001_now) != []
    # A store none of whose sales' points were held that day holds nothing; another store's share
    # is still refused to a store manager.
    s003 = (await pts.client.get(URL, params={"day": "2026-11-23", "store_id": "S003"}, headers=env.auth(Role.MARKETING))).json()
    assert (s003["lines"], s003["totals"]["all"], s003["ledger"]) == ([], {"points": 0, "accounts": 0}, None)
    refused = await pts.client.get(URL, params={"day": "2026-11-23", "store_id": "S002"}, headers=manager)
    assert refused.status_code == 403
    csv_ = await pts.client.get(URL, params={"day": "2026-11-23", "format": "csv"}, headers=env.auth(Role.ADMIN))
    assert csv_.headers["content-disposition"] == 'attachment; filename="points-liability-all-2026-11-23.csv"'
    assert csv_.text.splitlines()[-1] == "合计 Total (4),,11320,"


async def test_a_day_without_a_snapshot_is_a_404_naming_the_days_kept(clocked, env) -> None:
    pts, _ = clocked
    none_yet = await pts.client.get(URL, params={"day": "2026-11-22"}, headers=env.auth(Role.ADMIN))
    assert none_yet.status_code == 404 and "no snapshot has been taken yet" in none_yet.text
    await snapshot_now(pts)
    missing = await pts.client.get(URL, params={"day": "2026-11-22"}, headers=env.auth(Role.ADMIN))
    assert missing.status_code == 404
    assert "2026-11-22" in missing.text and "kept from 2026-11-23 to 2026-11-23" in missing.text
    # Not a day as the other reports take one: not 1970-01-01 for 0, nor a moment's date, nor year 9999.
    for day in ("2026-13-01", "0", "2026-11-23T00:00:00Z", "9999-12-31"):
        bad = await pts.client.get(URL, params={"day": day}, headers=env.auth(Role.ADMIN))
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "day"], (day, bad.text)


async def test_a_run_by_hand_for_a_past_moment_keeps_todays_figures_under_today(clocked, env) -> None:
    pts, _ = clocked
    await a_chain(pts)
    ran = await pts.client.post("/v1/jobs/liability-snapshot/run", params={"as_of": "2026-10-31T12:00:00+08:00"},
                                headers=env.auth(Role.ADMIN))
    assert ran.status_code == 200 and ran.json()["snapshots"] == 3
    assert (await pts.client.get(URL, params={"day": "2026-10-31"}, headers=env.auth(Role.ADMIN))).status_code == 404
    assert (await pts.client.get(URL, params={"day": "2026-11-23"}, headers=env.auth(Role.ADMIN))).status_code == 200


async def test_old_snapshots_go_but_each_months_first_stays(clocked, env) -> None:
    pts, clock = clocked
    await a_chain(pts)
    await snapshot_now(pts)  # 2026-11-23
    clock.now = datetime(2026, 11, 30, 17, tzinfo=UTC)  # 2026-12-01 01:00 in Asia/Shanghai
    await snapshot_now(pts)
    clock.now = datetime(2027, 3, 5, 2, tzinfo=UTC)  # 92 days kept: from 2026-12-03
    assert (await snapshot_now(pts))["pruned"] == 3  # 2026-11-23: the chain's, S001's and S002's
    days = {day: (await pts.client.get(URL, params={"day": day}, headers=env.auth(Role.ADMIN))).status_code
            for day in ("2026-11-23", "2026-12-01", "2027-03-05")}
    assert days == {"2026-11-23": 404, "2026-12-01": 200, "2027-03-05": 200}
    kept = await pts.client.get(URL + "/snapshots", headers=env.auth(Role.STORE_MANAGER, store_id="S001"))
    assert kept.status_code == 200, kept.text
    assert kept.json()["items"] == [{"business_day": "2027-03-05", "taken_at": "2027-03-05T10:00:00+08:00"},
                                    {"business_day": "2026-12-01", "taken_at": "2026-12-01T01:00:00+08:00"}]
    assert (await pts.client.get(URL + "/snapshots", headers=env.auth(Role.SERVICE_DESK, store_id="S001"))).status_code == 403
