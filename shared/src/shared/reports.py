"""Tabular reports as staff use them: JSON for screens, CSV and XLSX for Excel, HTML for printing.

One column list drives all four, so an export can never disagree with what the screen shows.
A report a clerk reconciles ends with a totals row (the number of lines and the sums of the columns
the report names), and prints times in the stores' local time (`local_time`), not UTC.
CSV starts with a UTF-8 byte-order mark because Excel on Chinese Windows otherwise garbles
Chinese text; the printable page is plain HTML with print CSS, no scripts or external assets.
Excel opens a CSV by guessing each cell's type, so a 13-digit card number shows as 8.8E+12 (and
loses its digits past the 15th), a phone as 1.39E+10 and a store id "007" as 7: the XLSX export
says each cell's type instead, text for everything typed or coded, numbers for the figures.
"""

import csv
import html
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import HTTPException, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response

from shared.errors import NotOneOf


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    HTML = "html"


DOWNLOADS = (ReportFormat.CSV, ReportFormat.XLSX)  # what a console's "download" link may ask for


def download_format(asked: str | None) -> ReportFormat:
    """The file a download link asks for with `format=`: CSV when it names none (the links that
    predate the workbook), else csv or xlsx; anything else is 422 naming `format`."""
    if not asked:
        return ReportFormat.CSV
    if asked not in DOWNLOADS:
        raise NotOneOf("format", DOWNLOADS)
    return ReportFormat(asked)


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # bilingual for staff, e.g. "小区 Community"
    value: Callable[[Any], Any] | None = None  # defaults to row[key] / getattr(row, key)
    money: bool = False  # yuan: its total has two decimals even over no lines ("0.00", not "0")

    def of(self, row: Any) -> Any:
        if self.value is not None:
            return self.value(row)
        return row[self.key] if isinstance(row, dict) else getattr(row, self.key)


# The first cell of a totals row, as the services' bilingual reports head their columns; a report
# in the person's language (the console's own) passes its own word as `total_label`.
TOTAL_LABEL = "合计 Total"


def local_time(at: datetime | None, zone: ZoneInfo) -> str:
    """A stored (UTC) time as the store's clock showed it, to the minute: what a clerk compares
    with a receipt or a signature on paper."""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else ""


def totals_row(
    columns: Sequence[Column], rows: Sequence[Any], summed: Sequence[str], total_label: str = TOTAL_LABEL,
) -> list[str]:
    """The last line of a report: `total_label` and the number of lines under the first column, and
    the sum of each column named in `summed` (empty values count as nothing); other cells stay empty."""
    return [_text(cell) for cell in _totals(columns, rows, summed, total_label)]


def _totals(
    columns: Sequence[Column], rows: Sequence[Any], summed: Sequence[str], total_label: str = TOTAL_LABEL,
) -> list[str | Decimal]:
    """The totals row with its sums as figures: text for CSV and paper, number cells in a workbook."""
    unknown = set(summed) - {c.key for c in columns}
    if unknown or (columns and columns[0].key in summed):
        raise ValueError(f"cannot total {sorted(unknown) or columns[0].key}")
    cells: list[str | Decimal] = []
    for i, column in enumerate(columns):
        if i == 0:
            cells.append(f"{total_label} ({len(rows)})")
        elif column.key in summed:
            cells.append(sum((_number(column.of(row)) for row in rows), Decimal("0.00") if column.money else Decimal(0)))
        else:
            cells.append("")
    return cells


def _number(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (date, Decimal)):
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def to_csv(
    columns: Sequence[Column], rows: Iterable[Any], totals: Sequence[str] | None = None, total_label: str = TOTAL_LABEL,
) -> str:
    """`totals`: the keys of the columns summed in a last totals row, headed `total_label`; None for
    no totals row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.label for c in columns])
    rows = list(rows)
    for row in rows:
        writer.writerow([_csv_cell(c.of(row)) for c in columns])
    if totals is not None:
        writer.writerow(totals_row(columns, rows, totals, total_label))
    return "\ufeff" + out.getvalue()


# What makes a spreadsheet read a cell as a formula (OWASP "CSV injection"): = + - @ first, or a
# tab or line break before them, which Excel and LibreOffice pass over.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# A number as the reports write one (a Decimal, an int): it stays a number in the spreadsheet.
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _is_figure(value: Any) -> bool:
    """A figure the report computed (an amount, a count, a rate), not typed or coded text: the one
    rule of what a spreadsheet may read as a number. Identifiers (card numbers, phones, store and
    member ids) are strings, and so are dates and times as the reports write them."""
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and math.isfinite(value)


def _csv_cell(value: Any) -> str:
    if _is_figure(value):
        return _text(value)
    return _csv_safe(_text(value))


def _csv_safe(text: str) -> str:
    # Names and notes are typed by customers and staff: a cell that would run as a formula is
    # prefixed with a quote. Only a plain number is left alone (an amount that came as text, e.g.
    # "-1.00"); "+8613800138000", "-Infinity" or "-1e5" are text the spreadsheet would change.
    return "'" + text if text[:1] in _FORMULA_START and not _PLAIN_NUMBER.fullmatch(text) else text


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SHEET_NAME_FORBIDDEN = re.compile(r"[\\/?*:\[\]]")
_SHEET_NAME_MAX = 31  # the longest sheet name Excel takes
_WIDTH_MIN, _WIDTH_MAX = 6, 50  # in characters: a long note should not push the next columns off screen


def to_xlsx(
    columns: Sequence[Column], rows: Iterable[Any], totals: Sequence[str] | None = None, title: str = "",
    subtitle: str = "", total_label: str = TOTAL_LABEL,
) -> bytes:
    """The report as an Excel workbook: one sheet named after `title`, the bilingual headings in a
    frozen first row, then the rows and the totals row exactly as the CSV has them, and under them,
    after a blank row, the `subtitle` (the filters, what a scoped report leaves out) where whoever
    opens or prints the sheet reads it: row 1 stays the headings, for filters and pivot tables. Figures are
    number cells; everything else is a text cell in the Text number format, so Excel changes no
    identifier, turns no "=..." a customer typed into a formula, and keeps both when a clerk edits
    the cell."""
    # Imported here: openpyxl costs every service's process some 6 MB, for a download now and then.
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    rows = list(rows)
    lines: list[list[Any]] = [[c.of(row) for c in columns] for row in rows]
    if totals is not None:
        lines.append(list(_totals(columns, rows, totals, total_label)))
    book = Workbook(write_only=True)
    book.properties.title, book.properties.subject, book.properties.creator = title, subtitle, "CRM"
    sheet = book.create_sheet(_sheet_name(title))
    sheet.freeze_panes = "A2"
    for i, column in enumerate(columns, start=1):
        width = max([_width(column.label), *(_width(_text(line[i - 1])) for line in lines)])
        sheet.column_dimensions[get_column_letter(i)].width = min(max(width + 2, _WIDTH_MIN), _WIDTH_MAX)
    if columns:  # filter buttons on the headings, over the lines but not the totals row
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, c.label, bold) for c in columns])
    for n, line in enumerate(lines):
        sheet.append([_xlsx_cell(sheet, value, bold if n == len(rows) else None) for value in line])
    if subtitle:
        sheet.append([])
        sheet.append([_xlsx_cell(sheet, subtitle, Font(italic=True))])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: Any, value: Any, font: Any = None) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TYPE_STRING

    if _is_figure(value):
        cell = WriteOnlyCell(sheet, value)
        # As many decimals as the figure has (12.30 shows 12.30, not 12.3), and never the
        # scientific notation Excel's General format falls into past 11 digits.
        if isinstance(value, float):
            cell.number_format = "General"  # a ratio: as many digits as it has
        else:
            places = max(0, -int(value.as_tuple().exponent)) if isinstance(value, Decimal) else 0
            cell.number_format = "0." + "0" * places if places else "0"
    else:
        # Characters an XML worksheet cannot hold (control characters typed or pasted into a note)
        # would fail the whole download: they are shown as U+FFFD instead.
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", _text(value))
        if not text:
            return None  # left out: an empty cell, as the CSV has it
        cell = WriteOnlyCell(sheet, text)
        # openpyxl takes a string starting with "=" for a formula (and "#N/A" for an error): the
        # type is set after the value, so every string is stored as the text it is.
        cell.data_type = TYPE_STRING
        cell.number_format = "@"
    if font is not None:
        cell.font = font
    return cell


def _sheet_name(title: str) -> str:
    """The title as Excel takes a sheet name: none of \\ / ? * : [ ], at most 31 characters, no
    quote first or last."""
    name = _SHEET_NAME_FORBIDDEN.sub(" ", title)[:_SHEET_NAME_MAX].strip(" '")
    return name or "报表 Report"


def _width(text: str) -> int:
    """Columns a text takes in a spreadsheet: Chinese characters are twice as wide as Latin ones."""
    longest = max(text.splitlines() or [""], key=len)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in longest)


def to_html(
    title: str, columns: Sequence[Column], rows: Iterable[Any], subtitle: str = "", totals: Sequence[str] | None = None,
    total_label: str = TOTAL_LABEL,
) -> str:
    esc = html.escape
    rows = list(rows)
    head = "".join(f"<th>{esc(c.label)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(_text(c.of(row)))}</td>" for c in columns) + "</tr>" for row in rows
    )
    foot = "" if totals is None else (
        "<tfoot><tr>" + "".join(f"<th>{esc(cell)}</th>" for cell in totals_row(columns, rows, totals, total_label)) + "</tr></tfoot>"
    )
    return (
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #888;padding:4px 6px;font-size:12px;text-align:left}"
        "th{background:#eee}@media print{body{margin:0}thead{display:table-header-group}"
        "tr{page-break-inside:avoid}}</style></head><body>"
        f"<h1>{esc(title)}</h1>" + (f"<p>{esc(subtitle)}</p>" if subtitle else "")
        + f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>{foot}</table></body></html>"
    )


def render(
    fmt: ReportFormat, *, title: str, columns: Sequence[Column], rows: Sequence[Any], json_body: Any,
    filename: str, subtitle: str = "", totals: Sequence[str] | None = None, total_label: str = TOTAL_LABEL,
) -> Response:
    """The response for one report in the requested format; `json_body` is what screens get.
    `totals` names the columns the CSV, the workbook and the printable page sum in their last row,
    headed `total_label`."""
    if fmt == ReportFormat.JSON:
        # Amounts as strings, like every pydantic response in the platform: JSON floats lose cents.
        return JSONResponse(jsonable_encoder(json_body, custom_encoder={Decimal: str}))
    if fmt == ReportFormat.CSV:
        return Response(to_csv(columns, rows, totals, total_label), media_type="text/csv; charset=utf-8",
                        headers=attachment(f"{filename}.csv"))
    if fmt == ReportFormat.XLSX:
        return Response(to_xlsx(columns, rows, totals, title, subtitle, total_label), media_type=XLSX_MEDIA_TYPE,
                        headers=attachment(f"{filename}.xlsx"))
    if fmt == ReportFormat.HTML:
        return HTMLResponse(to_html(title, columns, rows, subtitle, totals, total_label))
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"format: unknown report format {fmt}")


def attachment(name: str) -> dict[str, str]:
    """Headers that make a browser save the answer as the file `name`."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def member_export_file(member_id: str) -> dict[str, str]:
    """The name a member's data export is saved under, wherever it is asked (members, the member
    app, head office's API; the console names its copy by the day handed over)."""
    return attachment(f"member-{member_id}.json")
