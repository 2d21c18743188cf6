"""`crm import-sales` on a small file against the members service: the summary, the reject file
line by line, and a second run that changes nothing."""

import asyncio
import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from crm_cli.import_sales import Options, import_sales
from crm_cli.sales_file import FileProblem
from members.adapters.tables import MemberRow, PurchaseLineRow, PurchaseRow
from shared.auth import Role
from tests.support.members import register

pytestmark = pytest.mark.integration

HEADER = "store_id,pos_txn_id,occurred_at,card_no,phone,payment,total,sku,name,category,qty,unit_price,amount"


def sales_csv(card: str, phone: str) -> str:
    return "\n".join([
        HEADER,
        f"S001,H-1,2019-03-01T10:15:00+08:00,{card},,cash,,rice,大米,grain,2,39.90,79.80",   # line 2: a sale of two lines
        f"S001,H-1,2019-03-01T10:15:00+08:00,{card},,cash,,oil,油,oil,1,20.00,20.00",          # line 3
        f"S001,H-2,2019-03-02T09:00:00+08:00,,{phone},wechat,45.50,,,,,,",                    # line 4: only a total
        "S001,H-3,2019-03-02 09:00:00,,,cash,,rice,大米,grain,1,39.90,39.90",                  # line 5: no offset
        "S002,H-4,2019-03-03T11:00:00+08:00,8800000000999,,cash,12.00,,,,,,",                  # line 6: unknown card
        "S002,H-5,2019-03-03T12:00:00+08:00,,,cash,,rice,大米,grain,1,39.90,40.00",            # line 7: the amount is the till's, as live
        "S002,H-6,2019-03-03T12:30:00+08:00,,,cash,10.00,rice,大米,grain,1,39.90,39.90",        # line 8: total not the lines'
        "S002,H-7,2019-03-03T12:30:00+08:00,,,cash,,rice,大米,grain,0,39.90,0.00",              # line 9: zero quantity
        "S002,H-7,2019-03-04T12:30:00+08:00,,,cash,,oil,油,oil,1,20.00,20.00",                  # line 10: same sale, other time
        "",
    ])


async def count(members, model) -> int:
    async with members.app.state.sessions() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def test_a_small_file_imports_once_and_its_rejects_name_line_field_and_reason(members, env, tmp_path: Path) -> None:
    card_member = await register(members, env)
    phone_member = await register(members, env, phone="13300000088")
    path = tmp_path / "sales.csv"
    path.write_text(sales_csv(card_member["card_no"], "13300000088"), encoding="utf-8")
    rejects = tmp_path / "sales.csv.rejects.csv"
    options = Options(points="rule-at-time", rejects=rejects, batch_size=3, progress=False)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members",
                               headers=env.auth(Role.ADMIN))
    async with client:
        first = await import_sales(path, client, options)
        assert (first.read, first.imported, first.present, first.rejected) == (7, 3, 0, 4)
        with rejects.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0] == ["line", "reason", *HEADER.split(",")]
        assert [(r[0], r[1], r[3]) for r in rows[1:]] == [
            ("5", "occurred_at: a time needs its UTC offset, e.g. 2019-03-01T10:15:00+08:00, or the import its local time zone (--local-time-zone)", "H-3"),
            ("6", "card_no: no member has this card", "H-4"),
            ("8", "total: 10.00 is not the sum of the lines (39.90)", "H-6"),
            ("9", "occurred_at: differs between the rows of this sale (line 9 and line 10)", "H-7"),
            ("10", "occurred_at: differs between the rows of this sale (line 9 and line 10)", "H-7"),
        ]
        assert rows[2][2:] == ["S002", "H-4", "2019-03-03T11:00:00+08:00", "8800000000999", "", "cash", "12.00", "", "", "", "", "", ""]
        purchases, lines = await count(members, PurchaseRow), await count(members, PurchaseLineRow)
        assert (purchases, lines) == (3, 3)

        second = await import_sales(path, client, options)
        assert (second.read, second.imported, second.present, second.rejected) == (7, 0, 3, 4)
        assert (await count(members, PurchaseRow), await count(members, PurchaseLineRow)) == (purchases, lines)
    async with members.app.state.sessions() as s:
        spend = {m.id: m.lifetime_spend for m in (await s.exec(select(MemberRow))).all()}
    assert spend == {card_member["id"]: Decimal("99.80"), phone_member["id"]: Decimal("45.50")}
    # Rejected sales' rows again, the same, for the second run.
    with rejects.open(encoding="utf-8-sig", newline="") as f:
        assert [r[0] for r in list(csv.reader(f))[1:]] == ["5", "6", "8", "9", "10"]

    # The reject file, its rows fixed in a spreadsheet, is itself a file to import.
    fixed = tmp_path / "fixed.csv"
    text = rejects.read_bytes().decode("utf-8-sig")
    text = text.replace("2019-03-02 09:00:00", "2019-03-02T09:00:00+08:00").replace(",10.00,rice", ",39.90,rice")
    fixed.write_bytes(text.encode("utf-8-sig"))
    fixed_rejects = tmp_path / "fixed.csv.rejects.csv"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members",
                                 headers=env.auth(Role.ADMIN)) as client:
        third = await import_sales(fixed, client, Options(points="none", rejects=fixed_rejects, progress=False))
    assert (third.read, third.imported, third.rejected) == (4, 2, 2)
    with fixed_rejects.open(encoding="utf-8-sig", newline="") as f:
        again = list(csv.reader(f))
    assert again[0] == ["line", "reason", *HEADER.split(",")]  # the columns once, not twice
    assert [(r[0], r[1].split(":")[0], r[3]) for r in again[1:]] == [
        ("3", "card_no", "H-4"), ("5", "occurred_at", "H-7"), ("6", "occurred_at", "H-7")]


async def test_a_file_without_rejects_leaves_no_reject_file(members, env, tmp_path: Path) -> None:
    path = tmp_path / "sales.jsonl"
    path.write_text('{"store_id": "S001", "pos_txn_id": "J-1", "occurred_at": "2019-01-01T08:00:00+08:00", "total": "5.00"}\n')
    rejects = tmp_path / "old.rejects.csv"
    rejects.write_text("left by an earlier run\n")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members",
                               headers=env.auth(Role.ADMIN))
    async with client:
        summary = await import_sales(path, client, Options(points="none", rejects=rejects, progress=False))
    assert (summary.read, summary.imported, summary.rejected) == (1, 1, 0)
    assert not rejects.exists()


class StopsAtRequest(httpx.AsyncBaseTransport):
    """The members app, until request number `stop_at`: that one is cancelled as a Ctrl-C cancels
    the command's requests in flight."""

    def __init__(self, app, stop_at: int) -> None:
        self.inner, self.stop_at, self.sent = httpx.ASGITransport(app=app), stop_at, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        if self.sent >= self.stop_at:
            raise asyncio.CancelledError
        return await self.inner.handle_async_request(request)


async def test_an_interrupted_import_run_again_imports_the_rest_once(members, env, tmp_path: Path) -> None:
    path = tmp_path / "sales.jsonl"
    path.write_text("".join(
        f'{{"store_id": "S001", "pos_txn_id": "I-{i}", "occurred_at": "2019-01-0{1 + i}T08:00:00+08:00", "total": "5.00"}}\n'
        for i in range(6)))
    options = Options(points="none", rejects=tmp_path / "rejects.csv", batch_size=1, progress=False)
    admin = env.auth(Role.ADMIN)
    async with httpx.AsyncClient(transport=StopsAtRequest(members.app, stop_at=3), base_url="http://members",
                                 headers=admin) as client:
        stopped = await import_sales(path, client, options)
    assert stopped.interrupted and 0 < stopped.imported < 6
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members",
                                 headers=admin) as client:
        resumed = await import_sales(path, client, options)
    assert not resumed.interrupted
    assert (resumed.read, resumed.present, resumed.imported) == (6, stopped.imported, 6 - stopped.imported)
    assert await count(members, PurchaseRow) == 6


async def test_a_gbk_file_read_as_utf8_is_refused_before_a_sale_is_sent_and_imports_whole_with_its_encoding(
    members, env, tmp_path: Path,
) -> None:
    sale = '{{"store_id": "S001", "pos_txn_id": "E-{i}", "occurred_at": "2019-01-01T08:00:00+08:00", "total": "5.00", "payment": "{p}"}}\n'
    path = tmp_path / "sales.jsonl"
    # Written by an old system in GBK: the first three payments read as UTF-8 too, as mojibake
    # (毛帽 as ëñ); the fourth does not.
    payments = ["毛帽", "茅台", "卤鸭", "现金", "cash", "cash"]
    path.write_bytes("".join(sale.format(i=i, p=p) for i, p in enumerate(payments)).encode("gbk"))
    options = Options(points="none", rejects=tmp_path / "rejects.csv", batch_size=1, progress=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members",
                                 headers=env.auth(Role.ADMIN)) as client:
        with pytest.raises(FileProblem, match=r"^line 4: not utf-8 text \(byte 0xcf at byte 116\); give the file's encoding"):
            await import_sales(path, client, options)
        assert await count(members, PurchaseRow) == 0
        assert not options.rejects.exists()
        options.encoding = "gb18030"
        imported = await import_sales(path, client, options)
    assert (imported.problem, imported.read, imported.imported) == (None, 6, 6)
    async with members.app.state.sessions() as s:
        stored = (await s.exec(select(PurchaseRow.payment).order_by(PurchaseRow.pos_txn_id))).all()
    assert stored == payments


async def test_an_old_systems_local_times_are_imported_in_the_zone_the_command_names(members, env, tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    # As old systems and spreadsheets write them, an input method's full-width digits too.
    written = ["2019-03-01 10:15:00", "2019/3/1 10:15", "2019-3-1 10:15", "２０１９-０３-０１ １０:１５:００"]
    path.write_text(HEADER + "".join(f"\nS001,L-{i},{at},,,cash,１２.００,,,,,," for i, at in enumerate(written)) + "\n",
                    encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members",
                                 headers=env.auth(Role.ADMIN)) as client:
        refused = await import_sales(path, client, Options(points="none", rejects=rejects, progress=False))
        assert (refused.imported, refused.rejected) == (0, 4)
        assert "(--local-time-zone)" in rejects.read_text(encoding="utf-8-sig")
        options = Options(points="none", rejects=rejects, local_time_zone="Asia/Shanghai", progress=False)
        imported = await import_sales(path, client, options)
    assert (imported.imported, imported.rejected) == (4, 0)
    async with members.app.state.sessions() as s:
        stored = (await s.exec(select(PurchaseRow.occurred_at, PurchaseRow.total))).all()
    assert stored == [(datetime(2019, 3, 1, 2, 15, tzinfo=UTC), Decimal("12.00"))] * 4


async def test_a_dry_run_writes_the_reject_file_and_imports_nothing(members, env, tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text(sales_csv("8800000000999", "13300000099"), encoding="utf-8")
    rejects = tmp_path / "sales.csv.rejects.csv"
    options = Options(points="none", rejects=rejects, dry_run=True, progress=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members",
                                 headers=env.auth(Role.ADMIN)) as client:
        checked = await import_sales(path, client, options)
    assert (checked.read, checked.imported, checked.rejected) == (7, 1, 6)
    assert checked.text().startswith("read 7, would import 1, already present 0, rejected 6")
    assert checked.text().endswith("a dry run: nothing was imported")
    with rejects.open(encoding="utf-8-sig", newline="") as f:
        assert [r[0] for r in list(csv.reader(f))[1:]] == ["2", "3", "4", "5", "6", "8", "9", "10"]
    assert await count(members, PurchaseRow) == 0


async def test_another_sale_under_an_id_an_earlier_line_of_the_file_took_is_rejected_naming_that_line(
    members, env, tmp_path: Path,
) -> None:
    buyer, other = await register(members, env), await register(members, env)
    rice = {"sku": "rice", "qty": "1", "unit_price": "50.00", "amount": "50.00"}
    first = {"store_id": "S001", "pos_txn_id": "K-1", "occurred_at": "2019-03-01T10:15:00+08:00",
             "card_no": buyer["card_no"], "lines": [rice]}
    split = [{**rice, "unit_price": "30.00", "amount": "30.00"}, {**rice, "sku": "oil", "unit_price": "20.00", "amount": "20.00"}]
    sales = [
        first,                                                                          # line 1
        {**first, "pos_txn_id": "K-2"},                                                 # line 2
        # The same sale, its time in UTC and its amounts written otherwise: present, not refused.
        {**first, "occurred_at": "2019-03-01T02:15:00Z", "lines": [{**rice, "qty": "1.000", "amount": "50"}]},  # line 3
        {**first, "card_no": other["card_no"]},                                         # line 4: another card
        {**first, "lines": [{**rice, "qty": "2", "amount": "100.00"}]},                 # line 5: another total
        {**first, "occurred_at": "2019-03-01T10:16:00+08:00"},                          # line 6: another time that day
        {**first, "lines": split},                                                      # line 7: other lines, the same total
        {**first, "pos_txn_id": "K-2"},                                                 # line 8: K-2 again, the same
    ]
    path = tmp_path / "sales.jsonl"
    path.write_text("".join(json.dumps(sale) + "\n" for sale in sales), encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    # Batches of two: most repeats reach members after the sale of line 1 was recorded.
    options = Options(points="none", rejects=rejects, batch_size=2, in_flight=1, progress=False)
    conflict = "pos_txn_id: conflicts with line {} of this file (same store and transaction id, different sale)"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=members.app), base_url="http://members",
                                 headers=env.auth(Role.ADMIN)) as client:
        for run, imported in ((1, 2), (2, 0)):  # run again, it changes nothing
            summary = await import_sales(path, client, options)
            assert (summary.read, summary.imported, summary.present, summary.rejected) == (8, imported, 4 - imported, 4), run
            with rejects.open(encoding="utf-8-sig", newline="") as f:
                assert [(r[0], r[1]) for r in list(csv.reader(f))[1:]] == [
                    ("4", conflict.format(1)), ("5", conflict.format(1)), ("6", conflict.format(1)), ("7", conflict.format(1))], run
    async with members.app.state.sessions() as s:
        recorded = (await s.exec(select(PurchaseRow.pos_txn_id, PurchaseRow.member_id, PurchaseRow.total)
                                 .order_by(PurchaseRow.pos_txn_id))).all()
    assert recorded == [("K-1", buyer["id"], Decimal("50.00")), ("K-2", buyer["id"], Decimal("50.00"))]
