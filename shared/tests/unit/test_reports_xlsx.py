"""The Excel workbook export: read back with openpyxl, each cell's type is what the report meant,
not what Excel would guess from a CSV."""

import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from shared.errors import Invalid
from shared.reports import XLSX_MEDIA_TYPE, Column, ReportFormat, download_format, render, to_csv, to_xlsx

COLUMNS = [
    Column("card_no", "卡号 Card no."), Column("phone", "手机 Phone"), Column("store_id", "门店 Store"),
    Column("name", "姓名 Name"), Column("spend", "消费额 Spend (CNY)"), Column("purchases", "购买次数 Purchases"),
]
ROWS: list[dict[str, Any]] = [
    {"card_no": "8800000012345", "phone": "13812345678", "store_id": "007", "name": "王小明",
     "spend": Decimal("12.30"), "purchases": 3},
    {"card_no": "8800000012346", "phone": "+8613812345678", "store_id": "S001", "name": "=1+1",
     "spend": Decimal("-1.00"), "purchases": 1},
]


def sheet_of(data: bytes) -> Worksheet:
    sheet = load_workbook(io.BytesIO(data)).active
    assert isinstance(sheet, Worksheet)
    return sheet


def test_identifiers_stay_the_exact_text_and_amounts_are_numbers() -> None:
    sheet = sheet_of(to_xlsx(COLUMNS, ROWS))
    card, phone, store, _, spend, purchases = sheet[2]
    assert (card.value, card.data_type) == ("8800000012345", "s")  # not 8.8E+12
    assert (phone.value, phone.data_type) == ("13812345678", "s")
    assert (store.value, store.data_type) == ("007", "s")  # its zeros kept
    assert card.number_format == "@"  # stays text when a clerk edits the cell
    assert (spend.value, spend.data_type, spend.number_format) == (12.3, "n", "0.00")  # shows 12.30
    assert (purchases.value, purchases.data_type, purchases.number_format) == (3, "n", "0")
    assert sheet["B3"].value == "+8613812345678" and sheet["E3"].value == -1


@pytest.mark.parametrize("typed", ["=1+1", "+1", "-1", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"点我\")", "#N/A", "-1e5"])
def test_what_a_spreadsheet_would_run_is_stored_as_a_text_cell(typed: str) -> None:
    cell = sheet_of(to_xlsx([Column("name", "姓名 Name")], [{"name": typed}]))["A2"]
    assert (cell.value, cell.data_type) == (typed, "s")  # no formula, no error value, not prefixed


def test_the_workbook_holds_no_formula_at_all() -> None:
    data = to_xlsx(COLUMNS, ROWS)
    sheet = load_workbook(io.BytesIO(data), data_only=False).active
    assert isinstance(sheet, Worksheet)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_headings_totals_and_dates_are_as_the_csv_writes_them() -> None:
    sheet = sheet_of(to_xlsx(COLUMNS, ROWS, totals=("spend", "purchases"), title="客户排名 Customers"))
    assert [c.value for c in sheet[1]] == [c.label for c in COLUMNS]
    assert all(c.font.bold for c in sheet[1])
    total = sheet[4]
    assert [c.value for c in total] == ["合计 Total (2)", None, None, None, 11.3, 4]
    assert (total[4].data_type, total[4].number_format) == ("n", "0.00")
    assert to_csv(COLUMNS, ROWS, totals=("spend", "purchases")).endswith("合计 Total (2),,,,11.30,4\r\n")
    dated = sheet_of(to_xlsx([Column("day", "日期 Date")], [{"day": "2026-12-01 01:05"}]))["A2"]
    assert (dated.value, dated.data_type) == ("2026-12-01 01:05", "s")  # not turned into Excel's date serial


def test_the_sheet_is_named_frozen_under_its_headings_and_sized_to_its_text() -> None:
    sheet = sheet_of(to_xlsx(COLUMNS, ROWS, title="客户价值分级 Customer value classes (80/20)"))
    assert sheet.title == "客户价值分级 Customer value classes ("  # no "/", at most 31 characters
    assert sheet.freeze_panes == "A2"
    widths = {k: d.width for k, d in sheet.column_dimensions.items()}
    assert widths["A"] >= len("8800000012345")
    assert widths["D"] == 2 * 2 + len(" Name") + 2  # a Chinese character takes two columns; a margin of two
    assert sheet_of(to_xlsx(COLUMNS, ROWS, title="[]")).title == "报表 Report"


def test_empty_values_are_empty_cells_and_unwritable_characters_do_not_fail_the_export() -> None:
    sheet = sheet_of(to_xlsx([Column("a", "a"), Column("b", "b"), Column("c", "c")],
                             [{"a": None, "b": "", "c": "备注\x01\x1f"}]))
    assert [c.value for c in sheet[2]] == [None, None, "备注\ufffd\ufffd"]


def test_a_yes_or_no_is_the_csvs_text_not_a_number() -> None:
    sheet = sheet_of(to_xlsx([Column("flagged", "末位 Lowest")], [{"flagged": True}, {"flagged": False}]))
    assert [(sheet["A2"].value, sheet["A2"].data_type), sheet["A3"].value] == [("yes", "s"), "no"]


def test_render_answers_a_workbook_named_for_download() -> None:
    response = render(ReportFormat.XLSX, title="t", columns=COLUMNS, rows=ROWS, json_body={}, filename="daily-S001",
                      totals=("spend",))
    assert response.media_type == XLSX_MEDIA_TYPE
    assert response.headers["content-disposition"] == 'attachment; filename="daily-S001.xlsx"'
    assert sheet_of(bytes(response.body))["A2"].value == "8800000012345"


def test_a_download_link_asks_for_csv_or_a_workbook_and_nothing_else() -> None:
    assert [download_format(asked) for asked in (None, "", "csv", "xlsx")] == [ReportFormat.CSV] * 3 + [ReportFormat.XLSX]
    for asked in ("json", "html", "pdf", "XLSX"):
        with pytest.raises(Invalid) as refused:
            download_format(asked)
        assert (refused.value.field, refused.value.message) == ("format", "Input should be 'csv' or 'xlsx'")


def test_the_subtitle_is_in_the_sheet_under_the_totals_with_the_headings_still_first() -> None:
    said = "门店 Store: S001 · 营业日 Business days: 2026-11-01 – 2026-11-30"
    sheet = sheet_of(to_xlsx(COLUMNS, ROWS, totals=("spend",), title="客户排名 Customers", subtitle=said))
    assert [c.value for c in sheet[1]] == [c.label for c in COLUMNS]
    assert str(sheet["A4"].value).startswith("合计 Total") and sheet["A5"].value is None
    assert sheet["A6"].value == said and sheet.max_row == 6
    assert sheet.auto_filter.ref == "A1:F3"  # the filter buttons cover the lines only
