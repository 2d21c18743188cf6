"""Taking a file of past sales apart (`crm import-sales`): sales grouped from their CSV rows with
their line numbers, JSON lines, and what is refused before anything is sent."""

import codecs
import io
from pathlib import Path

import pytest

from crm_cli.main import main
from crm_cli.sales_file import CsvSales, FileProblem, format_of, read_jsonl
from crm_cli.sales_text import Counting, check_text, encoding_of

HEADER = "store_id,pos_txn_id,occurred_at,card_no,phone,payment,total,sku,name,category,qty,unit_price,amount\n"


def csv_sales(text: str, encoding: str = "utf-8") -> list:
    return list(CsvSales(iter(Counting(io.BytesIO(text.encode(encoding)), encoding))))


def test_the_rows_of_a_sale_make_one_sale_with_its_lines_and_first_line_number() -> None:
    [two_lines, total_only] = csv_sales(
        HEADER
        + "S001,T-1,2019-03-01T10:15:00+08:00,8800000012345,,cash,,rice,米,grain,2,39.90,79.80\n"
        + "S001,T-1,2019-03-01T10:15:00+08:00,8800000012345,,cash,,oil,油,oil,1,20.00,20.00\n"
        + "\n"
        + 'S002,T-2,2019-03-02T09:00:00+08:00,,13900000001,"we,chat",45.50,,,,,,\n'
    )
    assert (two_lines.line, [n for n, _ in two_lines.rows], two_lines.problem) == (2, [2, 3], None)
    assert two_lines.sale == {
        "store_id": "S001", "pos_txn_id": "T-1", "occurred_at": "2019-03-01T10:15:00+08:00", "card_no": "8800000012345",
        "payment": "cash",
        "lines": [{"sku": "rice", "name": "米", "category": "grain", "qty": "2", "unit_price": "39.90", "amount": "79.80"},
                  {"sku": "oil", "name": "油", "category": "oil", "qty": "1", "unit_price": "20.00", "amount": "20.00"}],
    }
    assert (total_only.line, total_only.sale) == (5, {
        "store_id": "S002", "pos_txn_id": "T-2", "occurred_at": "2019-03-02T09:00:00+08:00", "phone": "13900000001",
        "payment": "we,chat", "total": "45.50"})


def test_rows_of_a_sale_that_disagree_or_lack_fields_are_refused_here() -> None:
    [differs, short] = csv_sales(
        HEADER
        + "S001,T-1,2019-03-01T10:15:00+08:00,8800000012345,,cash,,rice,米,grain,2,39.90,79.80\n"
        + "S001,T-1,2019-03-01T10:15:00+08:00,8800000099999,,cash,,oil,油,oil,1,20.00,20.00\n"
        + "S001,T-2,2019-03-01T10:15:00+08:00\n"
    )
    assert (differs.sale, differs.problem) == (None, "card_no: differs between the rows of this sale (line 2 and line 3)")
    assert [n for n, _ in differs.rows] == [2, 3]
    assert (short.line, short.sale, short.problem) == (4, None, "row: 3 fields where the header has 13")


def test_rows_of_a_sale_that_write_its_total_or_time_differently_are_still_one_sale() -> None:
    [one, other] = csv_sales(
        HEADER
        + "S001,T-1,2019-03-01T10:15:00+08:00,8800000012345,,cash,99.8,rice,米,grain,2,39.90,79.80\n"
        + "S001,T-1,2019-03-01T02:15:00Z,8800000012345,,cash,99.80,oil,油,oil,1,20.00,20.00\n"
        + "S001,T-2,2019-03-01T10:15:00+08:00,8800000012345,,cash,99.80,rice,米,grain,2,39.90,79.80\n"
        + "S001,T-2,2019-03-01T10:15:00+08:00,8800000012345,,cash,99.81,oil,油,oil,1,20.00,20.00\n"
    )
    assert one.problem is None and (one.sale["total"], one.sale["occurred_at"]) == ("99.8", "2019-03-01T10:15:00+08:00")
    assert len(one.sale["lines"]) == 2
    assert (other.sale, other.problem) == (None, "total: differs between the rows of this sale (line 4 and line 5)")


def test_rows_of_a_sale_that_write_its_local_time_in_two_of_the_local_forms_are_still_one_sale() -> None:
    # As a spreadsheet saves one cell 2019-3-1 9:05 and the next 2019/03/01 09:05:00: the import
    # reads both as one moment (members' `sale_time`), so the rows are one sale.
    [one, other, zoned] = csv_sales(
        HEADER
        + "S001,T-1,2019-3-1 9:05,8800000012345,,cash,,rice,米,grain,2,39.90,79.80\n"
        + "S001,T-1,2019/03/01 09:05:00,8800000012345,,cash,,oil,油,oil,1,20.00,20.00\n"
        + "S001,T-2,2019/3/1 9:05,8800000012345,,cash,,rice,米,grain,2,39.90,79.80\n"
        + "S001,T-2,2019/3/1 9:06,8800000012345,,cash,,oil,油,oil,1,20.00,20.00\n"
        # A local time and a time with its offset are not one reading: the zone the import puts
        # the first in is not this reader's to know.
        + "S001,T-3,2019-03-01 09:05,8800000012345,,cash,,rice,米,grain,2,39.90,79.80\n"
        + "S001,T-3,2019-03-01T09:05:00+08:00,8800000012345,,cash,,oil,油,oil,1,20.00,20.00\n"
    )
    assert one.problem is None and (one.sale["occurred_at"], len(one.sale["lines"])) == ("2019-3-1 9:05", 2)
    assert (other.sale, other.problem) == (None, "occurred_at: differs between the rows of this sale (line 4 and line 5)")
    assert (zoned.sale, zoned.problem) == (None, "occurred_at: differs between the rows of this sale (line 6 and line 7)")


def test_rows_of_a_sale_typed_in_full_width_mode_are_rows_of_the_same_sale() -> None:
    # Members reads Ｓ００１ as S001: rows written either way are one sale, not a sale and a repeat.
    [one] = csv_sales(
        HEADER
        + "S001,T-1,2019-03-01T10:15:00+08:00,8800000012345,,cash,99.80,rice,米,grain,2,39.90,79.80\n"
        + "Ｓ００１,Ｔ-１,2019-03-01T10:15:00+08:00,8800000012345,,cash,99.80,oil,油,oil,1,20.00,20.00\n"
    )
    assert one.problem is None and len(one.sale["lines"]) == 2, one.problem


def test_a_sales_discount_is_repeated_on_its_rows_like_its_total() -> None:
    header = HEADER.replace(",total,", ",total,discount,")
    [one, other] = csv_sales(
        header
        + "S001,T-1,2019-03-01T10:15:00+08:00,8800000012345,,cash,99.80,10,rice,米,grain,2,39.90,79.80\n"
        + "S001,T-1,2019-03-01T10:15:00+08:00,8800000012345,,cash,99.80,10.00,oil,油,oil,1,20.00,20.00\n"
        + "S001,T-2,2019-03-01T10:15:00+08:00,8800000012345,,cash,99.80,10,rice,米,grain,2,39.90,79.80\n"
        + "S001,T-2,2019-03-01T10:15:00+08:00,8800000012345,,cash,99.80,9.99,oil,油,oil,1,20.00,20.00\n"
    )
    assert one.problem is None and (one.sale["total"], one.sale["discount"], len(one.sale["lines"])) == ("99.80", "10", 2)
    assert (other.sale, other.problem) == (None, "discount: differs between the rows of this sale (line 4 and line 5)")
    # Where the comma is the decimal mark, a discount is written with it like the other amounts.
    [decimal_comma] = csv_sales(header.replace(",", ";") + "S001;T-3;2019-03-01T10:15:00+08:00;;;cash;45,50;5,50;;;;;;\n")
    assert (decimal_comma.sale["total"], decimal_comma.sale["discount"]) == ("45.50", "5.50")


def test_rows_of_a_sale_that_come_back_after_another_sale_are_refused_not_lost(monkeypatch) -> None:
    rice = "S001,T-1,2019-03-01T10:15:00+08:00,8800000012345,,cash,,rice,米,grain,2,39.90,79.80\n"
    oil = "S001,T-1,2019-03-01T10:15:00+08:00,8800000012345,,cash,,oil,油,oil,1,50.00,50.00\n"
    other = "S001,T-2,2019-03-01T11:15:00+08:00,,,cash,20.00,,,,,,\n"
    first, between, again = csv_sales(HEADER + rice + other + oil)
    assert (first.problem, between.problem, again.sale, [n for n, _ in again.rows]) == (None, None, None, [4])
    assert again.problem == ("pos_txn_id: transaction S001/T-1 began at line 2 and is taken from its rows there, "
                             "without these; a sale's rows must follow each other")
    # Checked against the latest transactions only, so that a file of years is read in bounded memory.
    monkeypatch.setattr("crm_cli.sales_file.RECENT_TRANSACTIONS", 1)
    assert [s.problem for s in csv_sales(HEADER + rice + other + oil)] == [None, None, None]


def test_a_csv_header_must_name_the_sale_and_only_known_columns() -> None:
    with pytest.raises(FileProblem, match="lacks pos_txn_id"):
        csv_sales("store_id,occurred_at,total\n")
    with pytest.raises(FileProblem, match="unknown columns: customer"):
        csv_sales("store_id,pos_txn_id,occurred_at,customer\n")
    with pytest.raises(FileProblem, match="empty"):
        csv_sales("")


def test_a_file_whose_lines_end_with_cr_alone_is_refused_with_that_reason() -> None:
    row = "S001,T-1,2019-03-01T10:15:00+08:00,,,cash,10.00,,,,,,\n"
    with pytest.raises(FileProblem, match="end with CR alone"):
        csv_sales((HEADER + row).replace("\n", "\r"))
    assert len(csv_sales((HEADER + row).replace("\n", "\r\n"))) == 1  # CRLF, as spreadsheets write


def test_the_columns_may_be_separated_by_semicolons_or_tabs_as_the_header_shows() -> None:
    row = "S001,T-1,2019-03-01T10:15:00+08:00,,,cash,,rice,米,grain,2,39.90,79.80\n"
    by_comma = csv_sales(HEADER + row)
    assert by_comma[0].sale["lines"][0]["unit_price"] == "39.90"
    for delimiter in (";", "\t"):
        assert csv_sales((HEADER + row).replace(",", delimiter)) == by_comma
    # Semicolons are the separator where the comma is the decimal mark: "39,90" there is 39.90.
    [decimal_commas] = csv_sales(HEADER.replace(",", ";") + "S001;T-1;2019-03-01T10:15:00+08:00;;;cash;;rice;米;grain;2;39,90;79,80\n")
    assert decimal_commas.sale == by_comma[0].sale and decimal_commas.rows[0][1][-2:] == ["39,90", "79,80"]  # the reject file's as written
    [weighed] = csv_sales(HEADER.replace(",", ";") + "S001;T-2;2019-03-01T10:15:00+08:00;;;cash;13,72;pork;肉;meat;0,512;26,80;13,72\n")
    assert (weighed.sale["total"], weighed.sale["lines"][0]) == (
        "13.72", {"sku": "pork", "name": "肉", "category": "meat", "qty": "0.512", "unit_price": "26.80", "amount": "13.72"})
    # Only numbers' columns, and only a number: other text keeps its commas; in a comma file there are none to turn.
    [named] = csv_sales(HEADER.replace(",", ";") + "S001;T-3;2019-03-01T10:15:00+08:00;;;we,chat;;rice;米,5kg;grain;1;1,234,56;1,234,56\n")
    assert named.sale["payment"] == "we,chat" and named.sale["lines"][0]["name"] == "米,5kg"
    assert named.sale["lines"][0]["amount"] == "1,234,56"  # not a number members takes: refused there, naming it
    [spaced] = csv_sales(HEADER.replace(",", ", ") + row)  # a header written by hand
    assert spaced.sale == by_comma[0].sale
    with pytest.raises(FileProblem, match="lacks store_id, pos_txn_id, occurred_at"):
        csv_sales(HEADER.replace(",", " "))


def checked(data: bytes, encoding: str | None = None) -> None:
    """The text check `crm import-sales` makes of the whole file before it sends a sale."""
    list(check_text(io.BytesIO(data), encoding_of(encoding), given=encoding is not None))


def test_a_file_in_another_encoding_is_read_with_its_encoding_and_refused_at_its_line_without() -> None:
    text = HEADER + "S001,T-1,2019-03-01T10:15:00+08:00,,,cash,,oil,花生油,oil,1,20.00,20.00\n"
    [sale] = csv_sales(text, "gb18030")
    assert sale.sale["lines"][0]["name"] == "花生油"
    checked(text.encode("gb18030"), "gb18030")
    gbk = (HEADER + "S001,T-0,2019-03-01T10:15:00+08:00,,,cash,5.00,,,,,,\n" + text.splitlines()[1]).encode("gbk")
    with pytest.raises(FileProblem, match=r"^line 3: not utf-8 text \(byte 0xbb at byte 48\); give the file's encoding "
                                          r"with --encoding \(old systems in China often write gb18030 or gbk\)"):
        checked(gbk)
    # A byte order mark, as spreadsheets save "CSV UTF-8", is not part of the first column's name.
    [with_bom] = csv_sales("\ufeff" + text)
    assert with_bom.sale == sale.sale
    checked(("\ufeff" + text).encode())
    assert (encoding_of("GBK"), encoding_of("UTF8"), encoding_of(None)) == ("gbk", "utf-8", "utf-8")
    with pytest.raises(FileProblem, match="--encoding utf-16: not supported"):
        encoding_of("utf-16")
    # Saved as Windows' "Unicode text": said at once that it must be UTF-8, not to name its encoding.
    for wide in ("utf-16", "utf-16-be", "utf-32"):
        marked = text.encode(wide) if wide != "utf-16-be" else codecs.BOM_UTF16_BE + text.encode(wide)
        with pytest.raises(FileProblem, match=r"^the file is UTF-16 or UTF-32 text .*: save it as UTF-8"):
            checked(marked)
    with pytest.raises(FileProblem, match="--encoding latin-9x: no such encoding"):
        encoding_of("latin-9x")


def test_a_line_that_does_not_read_is_found_in_any_block_of_the_file(monkeypatch) -> None:
    monkeypatch.setattr("crm_cli.sales_text.BLOCK_BYTES", 100)
    row = "S001,T-{},2019-03-01T10:15:00+08:00,,,cash,,oil,花生油,oil,1,20.00,20.00\n"
    data = (HEADER + "".join(row.format(i) for i in range(1, 30))).encode()
    checked(data)
    with pytest.raises(FileProblem, match=r"^line 21: not utf-8 text"):
        checked(data.replace(b"T-20,", b"T-20," + "现".encode("gbk")))


def test_gbk_that_happens_to_read_as_utf8_is_refused_as_gbk_unless_utf8_is_said() -> None:
    # One common character in five is two bytes UTF-8 reads too: these lines read without an error.
    rows = ("S001,T-1,2019-03-01T10:15:00+08:00,,,cash,,hat,毛帽,鞋帽,1,25.00,25.00\n"
            "S001,T-2,2019-03-01T10:16:00+08:00,,,cash,,duck,卤鸭,食品,1,35.00,35.00\n")
    gbk = (HEADER + rows).encode("gbk")
    assert gbk.decode("utf-8").splitlines()[1].split(",")[8] == "ëñ"
    with pytest.raises(FileProblem, match=r"^line 2: reads as 'ëñ' in UTF-8 and as '毛帽' in GB18030, and no line holds "
                                          r"Chinese in UTF-8: the file looks like GBK; give --encoding gb18030"):
        checked(gbk)
    checked(gbk, "gbk")
    # Letters of a UTF-8 file without Chinese read as Chinese in GB18030 too: said to be UTF-8, it is.
    latin = (HEADER + "S001,T-1,2019-03-01T10:15:00+08:00,,,cash,,cafe,Nestlé café,drinks,1,25.00,25.00\n").encode()
    with pytest.raises(FileProblem, match=r"^line 2: reads as 'Nestlé café' in UTF-8 and as 'Nestl茅 caf茅' in GB18030"):
        checked(latin)
    checked(latin, "utf-8")
    # A file starting with UTF-8's byte order mark says it is UTF-8 (Excel's "CSV UTF-8", the
    # reject file with a reason naming the currency sign ¥): it is, whatever GB18030 makes of it.
    checked(b"\xef\xbb\xbf" + latin)
    checked(b"\xef\xbb\xbf" + (HEADER + "S001,T-1,2019-03-01T10:15:00+08:00,,,cash,¥12.50,,,,,,\n").encode())
    checked((HEADER + rows).encode())  # Chinese in UTF-8: UTF-8
    checked((HEADER + "S001,T-1,2019-03-01T10:15:00+08:00,,,cash,１２.００,,,,,,\n").encode())  # full-width digits too


def test_utf8_said_to_be_gbk_is_refused_even_where_it_reads_as_gbk() -> None:
    row = "S001,T-1,2019-03-01T10:15:00+08:00,,,现金,,towel,towel,daily,1,25.00,25.00\n"
    utf8 = (HEADER + row).encode()
    assert utf8.decode("gbk").splitlines()[1].split(",")[5] == "鐜伴噾"
    with pytest.raises(FileProblem, match=r"^line 2: reads as '现金' in UTF-8 and as '鐜伴噾' in gbk: the file is UTF-8 "
                                          r"text, not gbk; leave out --encoding$"):
        checked(utf8, "gbk")
    with pytest.raises(FileProblem, match=r"^the file starts with the byte order mark of UTF-8: it is UTF-8 text, not "
                                          r"gb18030; leave out --encoding$"):
        checked(b"\xef\xbb\xbf" + utf8, "gb18030")
    with pytest.raises(FileProblem, match=r"^line 2: not gb18030 text \(byte 0xb9 at byte 60\); the line is UTF-8 text: "
                                          r"leave out --encoding$"):
        checked((HEADER + row.replace("towel,daily", "花生油,daily")).encode(), "gb18030")


def test_json_lines_are_objects_and_a_line_that_is_not_is_refused_with_its_number() -> None:
    text = '{"store_id": "S001"}\n\n[1, 2]\n{"store_id": \n'
    found = list(read_jsonl(iter(Counting(io.BytesIO(text.encode())))))
    assert [(s.line, s.sale, s.problem) for s in found] == [
        (1, {"store_id": "S001"}, None),
        (3, None, "record: a sale is a JSON object"),
        (4, None, "record: not valid JSON (Expecting value at column 14)"),
    ]
    assert found[1].rows == [(3, ["[1, 2]"])]
    # Nested beyond what the parser reads: a rejected record like any other, the next one read.
    deep = '{"lines": ' + "[" * 100_000 + "]" * 100_000 + "}\n" + '{"store_id": "S002"}\n'
    found = list(read_jsonl(iter(Counting(io.BytesIO(deep.encode())))))
    assert [(s.line, s.sale, s.problem) for s in found] == [
        (1, None, "record: nested deeper than JSON is read here; a sale is an object of fields and lines"),
        (2, {"store_id": "S002"}, None),
    ]


def test_the_format_comes_from_the_extension_or_the_option() -> None:
    assert format_of(Path("a.CSV"), None) == "csv"
    assert format_of(Path("a.ndjson"), None) == "jsonl"
    assert format_of(Path("a.txt"), "csv") == "csv"
    with pytest.raises(FileProblem, match="--format"):
        format_of(Path("a.txt"), None)


def test_the_command_stops_before_sending_anything_when_the_file_cannot_be_read(tmp_path: Path, capsys) -> None:
    target = ["--points", "none", "--members-url", "http://127.0.0.1:1", "--token", "unused"]
    assert main(["import-sales", str(tmp_path / "missing.csv"), *target]) == 2
    assert "missing.csv" in capsys.readouterr().err
    bad = tmp_path / "old.csv"
    bad.write_text("store,txn\n")
    assert main(["import-sales", str(bad), *target]) == 2
    assert "the CSV header lacks store_id, pos_txn_id, occurred_at" in capsys.readouterr().err
    assert not (tmp_path / "old.csv.rejects.csv").exists()  # nothing refused, no reject file


def test_the_local_time_zone_is_checked_before_anything_is_read(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["import-sales", str(tmp_path / "sales.csv"), "--points", "none", "--local-time-zone", "Asia/Shangai"])
    assert exited.value.code == 2
    assert "--local-time-zone: 'Asia/Shangai' is not a time zone of the IANA database" in capsys.readouterr().err


def test_a_members_service_that_cannot_be_reached_ends_the_command_with_an_error(tmp_path: Path, capsys) -> None:
    sales = tmp_path / "sales.jsonl"
    sales.write_text('{"store_id": "S001", "pos_txn_id": "T-1", "occurred_at": "2019-01-01T08:00:00+08:00", "total": "1.00"}\n')
    code = main(["import-sales", str(sales), "--points", "none", "--members-url", "http://127.0.0.1:1", "--token", "x"])
    assert code == 1
    assert "(http://127.0.0.1:1); what was imported before it is kept" in capsys.readouterr().err
    # A dry run recorded nothing: it says nothing of what is kept.
    code = main(["import-sales", str(sales), "--points", "none", "--members-url", "http://127.0.0.1:1", "--token", "x", "--dry-run"])
    err = capsys.readouterr().err
    assert code == 1 and "(http://127.0.0.1:1)" in err and "kept" not in err


def test_a_quote_never_closed_is_refused_naming_its_line_and_the_lines_it_took_in() -> None:
    row = "S001,T-{},2019-03-01T10:15:00+08:00,,,cash,,rice,米,grain,1,5.00,5.00\n"
    stray = 'S001,T-3,2019-03-01T10:15:00+08:00,,,cash,,pizza,"12寸披萨,food,1,5.00,5.00\n'
    found = csv_sales(HEADER + row.format(1) + row.format(2) + stray + "".join(row.format(i) for i in range(4, 9)))
    # The rows after the quote are not silently gone: the refusal says where they went.
    assert [(s.line, s.problem) for s in found] == [
        (2, None), (3, None),
        (4, "row: a quote opened on line 4 is never closed: lines 4 to 9 were read as one row "
            "(9 fields where the header has 13)"),
    ]
    # A quoted field that holds a line end, closed, is one field as before.
    [named] = csv_sales(HEADER + 'S001,T-1,2019-03-01T10:15:00+08:00,,,cash,,rice,"米\n5kg",grain,1,5.00,5.00\n')
    assert (named.problem, named.sale["lines"][0]["name"]) == (None, "米\n5kg")


def test_a_quote_never_closed_in_a_large_file_stops_it_at_its_line_after_the_sales_before() -> None:
    row = "S001,T-{},2019-03-01T10:15:00+08:00,,,cash,,rice,米,grain,1,5.00,5.00\n"
    stray = 'S001,T-4,2019-03-01T10:15:00+08:00,,,cash,,pizza,"12寸披萨,food,1,5.00,5.00\n'
    # The field reads on past the reader's limit (128 KB): a line that cannot be read, named.
    text = HEADER + "".join(row.format(i) for i in range(1, 4)) + stray + "".join(row.format(i) for i in range(5, 3000))
    found = []
    with pytest.raises(FileProblem, match=r"^line 5: a quote opened in this row is never closed \(field larger than field limit"):
        found.extend(CsvSales(iter(Counting(io.BytesIO(text.encode())))))
    # The one before is held back: the line that cannot be read might have been another of its rows.
    assert [s.line for s in found] == [2, 3]


def test_empty_columns_a_spreadsheet_saves_beside_the_table_are_ignored_while_they_hold_nothing() -> None:
    row = "S001,T-1,2019-03-01T10:15:00+08:00,,,cash,,rice,米,grain,1,5.00,5.00"
    sales = CsvSales(iter(Counting(io.BytesIO((HEADER.rstrip("\n") + ",,\n" + row + ",,\n" + row.replace("T-1", "T-2") + ",,x\n").encode()))))
    assert sales.columns == HEADER.rstrip("\n").split(",")  # the reject file's columns: named ones only
    ok, filled = list(sales)
    assert (ok.problem, ok.sale["lines"][0]["sku"], ok.rows[0][1]) == (None, "rice", row.split(","))
    assert (filled.sale, filled.problem) == (None, "row: column 15 holds 'x' but has no name in the header")
    with pytest.raises(FileProblem, match=r"unknown columns: customer \(the columns are named store_id, .*, in any order\)$"):
        csv_sales("store_id,pos_txn_id,occurred_at,,customer\n")


def test_a_json_string_holding_half_a_surrogate_pair_is_refused_naming_its_field() -> None:
    text = ('{"store_id": "S001", "payment": "\\ud83d"}\n'
            '{"store_id": "S001", "lines": [{"sku": "a"}, {"sku": "b", "name": "\\udc00\\u7c73"}]}\n'
            '{"store_id": "S001", "payment": "\\ud83d\\ude00"}\n')  # a whole pair is one character
    found = list(read_jsonl(iter(Counting(io.BytesIO(text.encode())))))
    assert [(s.sale, s.problem) for s in found[:2]] == [
        (None, "payment: \\ud83d is half of a UTF-16 surrogate pair, not a character (the text was cut inside one)"),
        (None, "lines.1.name: \\udc00 is half of a UTF-16 surrogate pair, not a character (the text was cut inside one)"),
    ]
    assert (found[2].problem, found[2].sale["payment"]) == (None, "😀")


@pytest.mark.parametrize("spelling", ["same", "relative", "link"])
def test_a_reject_file_that_is_the_sales_file_is_refused_before_either_is_opened(
    spelling: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys,
) -> None:
    sales = tmp_path / "fixed.csv"
    text = HEADER + "S001,T-1,2019-03-01T10:15:00+08:00,,,cash,5.00,,,,,,\n"
    sales.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    rejects = {"same": str(sales), "relative": "./fixed.csv", "link": str(tmp_path / "link.csv")}[spelling]
    if spelling == "link":
        (tmp_path / "link.csv").symlink_to(sales)
    code = main(["import-sales", str(sales), "--rejects", rejects, "--points", "none",
                 "--members-url", "http://127.0.0.1:1", "--token", "unused"])
    assert code == 2
    assert capsys.readouterr().err == (f"error: --rejects {Path(rejects)}: that is the file being imported; "
                                       "name another file for the refused rows\n")
    assert sales.read_text(encoding="utf-8") == text
