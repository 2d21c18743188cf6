"""`crm import-sales` as a script sees it: the exit status says whether the whole file was taken,
against a stand-in for members' `POST /v1/sales/import` on a local port."""

import csv
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from crm_cli.import_sales import EXIT_REJECTED
from crm_cli.main import main

UNKNOWN_CARD = "8800000000999"


class SalesImport(BaseHTTPRequestHandler):
    """Answers each sale as members would: a card no member has is rejected, naming the field. As
    the gateway, it also lists the chain's stores (S001 and S002) and forwards the import."""

    received: ClassVar[list[str]] = []  # the transactions sent, in order
    sales: ClassVar[list[dict]] = []  # and the sales themselves

    def do_GET(self) -> None:
        if self.path == "/api/v1/stores":
            self._answer([{"store_id": "S001", "active": True}, {"store_id": "S002", "active": False}])
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        sales = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["sales"]
        self.received.extend(s["pos_txn_id"] for s in sales)
        self.sales.extend(sales)
        self._answer({"results": [{"status": "rejected", "reason": "card_no: no member has this card"}
                                  if s.get("card_no") == UNKNOWN_CARD else {"status": "imported"} for s in sales]})

    def _answer(self, answer: object) -> None:
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def members_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SalesImport)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def sale(txn: str, card_no: str | None = None, store: str = "S001") -> str:
    fields = {"store_id": store, "pos_txn_id": txn, "occurred_at": "2019-01-01T08:00:00+08:00", "total": "5.00"}
    return json.dumps(fields | ({"card_no": card_no} if card_no else {})) + "\n"


def import_sales(path: Path, members_url: str, *options: str) -> int:
    return main(["import-sales", str(path), "--points", "none", "--members-url", members_url, "--token", "t", *options])


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_run_that_rejected_rows_exits_3_after_the_summary_and_the_reject_file(
    dry_run: list[str], members_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "sales.jsonl"
    path.write_text(sale("A-1") + sale("A-2", UNKNOWN_CARD) + "not json\n", encoding="utf-8")
    assert import_sales(path, members_url, *dry_run) == EXIT_REJECTED == 3
    out = capsys.readouterr().out
    imported = "would import 1" if dry_run else "imported 1"
    assert out.startswith(f"read 3, {imported}, already present 0, rejected 2 in ")
    rejects = tmp_path / "sales.jsonl.rejects.csv"
    assert out.endswith(f"rejected rows with their reasons: {rejects}\n")
    assert [line.split(",")[:2] for line in rejects.read_text(encoding="utf-8-sig").splitlines()[1:]] == [
        ["2", "card_no: no member has this card"], ["3", "record: not valid JSON (Expecting value at column 1)"]]


def test_a_run_that_took_every_row_exits_0(members_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sales.jsonl"
    path.write_text(sale("B-1") + sale("B-2"), encoding="utf-8")
    assert import_sales(path, members_url) == 0
    out = capsys.readouterr().out
    assert out.startswith("read 2, imported 2, already present 0, rejected 0 in ") and "rejected rows" not in out
    assert not (tmp_path / "sales.jsonl.rejects.csv").exists()


def test_the_help_names_the_exit_status_of_rejected_rows(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["import-sales", "--help"])
    assert exit_.value.code == 0
    assert f"{EXIT_REJECTED} the whole file was read but some rows were rejected" in " ".join(capsys.readouterr().out.split())


def test_through_the_gateway_a_sale_of_a_store_the_chain_does_not_have_is_rejected_here(
    members_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    SalesImport.received.clear()
    path = tmp_path / "sales.jsonl"
    path.write_text(sale("C-1") + sale("C-2", store="S999") + sale("C-3", store="S002"), encoding="utf-8")
    # The stand-in is the gateway here: its store list, then its /api/members/... forwarding.
    assert main(["import-sales", str(path), "--points", "none", "--gateway", members_url, "--token", "t"]) == EXIT_REJECTED
    assert capsys.readouterr().out.startswith("read 3, imported 2, already present 0, rejected 1 in ")
    assert SalesImport.received == ["C-1", "C-3"]  # a store closed since is the chain's still
    with (tmp_path / "sales.jsonl.rejects.csv").open(encoding="utf-8-sig", newline="") as f:
        [reject] = list(csv.reader(f))[1:]
    assert reject[0] == "2" and reject[1].startswith("store_id: S999 is not one of the chain's stores; add it at the gateway")


CSV_HEADER = "store_id,pos_txn_id,occurred_at,card_no,phone,payment,total,sku,name,category,qty,unit_price,amount"


def test_the_reject_file_of_a_semicolon_file_is_written_with_semicolons_and_imports_once_fixed(
    members_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    SalesImport.sales.clear()
    path = tmp_path / "sales.csv"
    path.write_text(CSV_HEADER.replace(",", ";") + "\n"
                    f"S001;D-1;2019-03-01T10:15:00+08:00;{UNKNOWN_CARD};;cash;12,50;;;;;;\n"
                    "S001;D-2;2019-03-01T10:15:00+08:00;;;cash;;rice;米;grain;1;39,90;39,90\n", encoding="utf-8")
    assert import_sales(path, members_url) == EXIT_REJECTED
    rejects = tmp_path / "sales.csv.rejects.csv"
    with rejects.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows == [["line", "reason", *CSV_HEADER.split(",")],
                    ["2", "card_no: no member has this card", "S001", "D-1", "2019-03-01T10:15:00+08:00", UNKNOWN_CARD, "",
                     "cash", "12,50", "", "", "", "", "", ""]]
    # Fixed as a spreadsheet of that locale would (the customer was not a member), and imported:
    # the decimal comma is read as the file's was.
    rejects.write_bytes(rejects.read_bytes().replace(UNKNOWN_CARD.encode(), b""))
    SalesImport.sales.clear()
    capsys.readouterr()
    assert import_sales(rejects, members_url) == 0
    assert capsys.readouterr().out.startswith("read 1, imported 1, ")
    assert [(s["pos_txn_id"], s["total"]) for s in SalesImport.sales] == [("D-1", "12.50")]


def test_a_record_with_half_a_surrogate_pair_is_rejected_and_the_others_imported(
    members_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    SalesImport.received.clear()
    path = tmp_path / "sales.jsonl"
    path.write_text(sale("S-1") + sale("S-2").replace('"total"', '"payment": "\\ud83d", "total"') + sale("S-3"),
                    encoding="utf-8")
    assert import_sales(path, members_url) == EXIT_REJECTED
    assert capsys.readouterr().out.startswith("read 3, imported 2, already present 0, rejected 1 in ")
    assert SalesImport.received == ["S-1", "S-3"]
    with (tmp_path / "sales.jsonl.rejects.csv").open(encoding="utf-8-sig", newline="") as f:
        [reject] = list(csv.reader(f))[1:]
    assert reject[:2] == ["2", "payment: \\ud83d is half of a UTF-16 surrogate pair, not a character (the text was cut inside one)"]


def test_a_quote_never_closed_in_a_large_file_stops_at_its_line_after_settling_what_was_sent(
    members_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    SalesImport.received.clear()
    row = "S001,Q-{},2019-03-01T10:15:00+08:00,,,cash,,rice,米,grain,1,5.00,5.00\n"
    path = tmp_path / "sales.csv"
    path.write_text(CSV_HEADER + "\n" + "".join(row.format(i) for i in range(1, 11))
                    + row.format(11).replace("米", '"米') + "".join(row.format(i) for i in range(12, 3000)), encoding="utf-8")
    assert import_sales(path, members_url, "--batch-size", "3") == 2
    out, err = capsys.readouterr()
    # The sales before it (but the one just before, which that line might have gone on) are settled.
    assert out.startswith("read 9, imported 9, already present 0, rejected 0 in ")
    assert err.startswith("error: line 12: a quote opened in this row is never closed (field larger than field limit")
    assert err.endswith("; what was imported before it is kept (present when run again)\n")
    assert sorted(SalesImport.received, key=lambda txn: int(txn[2:])) == [f"Q-{i}" for i in range(1, 10)]  # two at a time


def test_a_gbk_file_read_as_utf8_exits_2_naming_the_encoding_and_sends_nothing(
    members_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    SalesImport.received.clear()
    path = tmp_path / "sales.jsonl"
    # Every line reads as UTF-8 (鞋帽 is two characters UTF-8 reads as Ьñ): the whole file says GBK.
    path.write_bytes((sale("G-1") + sale("G-2").replace('"total"', '"payment": "鞋帽", "total"')).encode("gbk"))
    assert import_sales(path, members_url) == 2
    out, err = capsys.readouterr()
    assert (out, SalesImport.received) == ("", [])
    assert err == ("error: line 2: reads as 'Ьñ' in UTF-8 and as '鞋帽' in GB18030, and no line holds Chinese in UTF-8: "
                   "the file looks like GBK; give --encoding gb18030, or --encoding utf-8 if the UTF-8 reading is right\n")
    assert not (tmp_path / "sales.jsonl.rejects.csv").exists()
    assert import_sales(path, members_url, "--encoding", "gb18030") == 0
    assert SalesImport.received == ["G-1", "G-2"] and SalesImport.sales[-1]["payment"] == "鞋帽"
