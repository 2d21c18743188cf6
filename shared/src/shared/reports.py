"""Tabular reports as staff use them: JSON for screens, CSV for Excel, HTML for printing.

One column list drives all three, so an export can never disagree with what the screen shows.
A report a clerk reconciles ends with a totals row (the number of lines and the sums of the columns
the report names), and prints times in the stores' local time (`local_time`), not UTC.
CSV starts with a UTF-8 byte-order mark because Excel on Chinese Windows otherwise garbles
Chinese text; the printable page is plain HTML with print CSS, no scripts or external assets.
"""

import csv
import html
import io
import re
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


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # bilingual for staff, e.g. "小区 Community"
    value: Callable[[Any], Any] | None = None  # defaults to row[key] / getattr(row, key)

    def of(self, row: Any) -> Any:
        if self.value is not None:
            return self.value(row)
        return row[self.key] if isinstance(row, dict) else getattr(row, self.key)


TOTAL_LABEL = "合计 Total"


def local_time(at: datetime | None, zone: ZoneInfo) -> str:
    """A stored (UTC) time as the store's clock showed it, to the minute: what a clerk compares
    with a receipt or a signature on paper."""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else ""


def totals_row(columns: Sequence[Column], rows: Sequence[Any], summed: Sequence[str]) -> list[str]:
    """The last line of a report: the number of lines under the first column, and the sum of each
    column named in `summed` (empty values count as nothing); other cells stay empty."""
    unknown = set(summed) - {c.key for c in columns}
    if unknown or (columns and columns[0].key in summed):
        raise ValueError(f"cannot total {sorted(unknown) or columns[0].key}")
    cells = []
    for i, column in enumerate(columns):
        if i == 0:
            cells.append(f"{TOTAL_LABEL} ({len(rows)})")
        elif column.key in summed:
            cells.append(_text(sum((_number(column.of(row)) for row in rows), Decimal(0))))
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


def to_csv(columns: Sequence[Column], rows: Iterable[Any], totals: Sequence[str] | None = None) -> str:
    """`totals`: the keys of the columns summed in a last totals row; None for no totals row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.label for c in columns])
    rows = list(rows)
    for row in rows:
        writer.writerow([_csv_cell(c.of(row)) for c in columns])
    if totals is not None:
        writer.writerow(totals_row(columns, rows, totals))
    return "\ufeff" + out.getvalue()


# What makes a spreadsheet read a cell as a formula (OWASP "CSV injection"): = + - @ first, or a
# tab or line break before them, which Excel and LibreOffice pass over.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# A number as the reports write one (a Decimal, an int): it stays a number in the spreadsheet.
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _csv_cell(value: Any) -> str:
    if isinstance(value, (int, float, Decimal)):  # a figure the report computed, not typed text
        return _text(value)
    return _csv_safe(_text(value))


def _csv_safe(text: str) -> str:
    # Names and notes are typed by customers and staff: a cell that would run as a formula is
    # prefixed with a quote. Only a plain number is left alone (an amount that came as text, e.g.
    # "-1.00"); "+8613800138000", "-Infinity" or "-1e5" are text the spreadsheet would change.
    return "'" + text if text[:1] in _FORMULA_START and not _PLAIN_NUMBER.fullmatch(text) else text


def to_html(
    title: str, columns: Sequence[Column], rows: Iterable[Any], subtitle: str = "", totals: Sequence[str] | None = None
) -> str:
    esc = html.escape
    rows = list(rows)
    head = "".join(f"<th>{esc(c.label)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(_text(c.of(row)))}</td>" for c in columns) + "</tr>" for row in rows
    )
    foot = "" if totals is None else (
        "<tfoot><tr>" + "".join(f"<th>{esc(cell)}</th>" for cell in totals_row(columns, rows, totals)) + "</tr></tfoot>"
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
    filename: str, subtitle: str = "", totals: Sequence[str] | None = None,
) -> Response:
    """The response for one report in the requested format; `json_body` is what screens get.
    `totals` names the columns the CSV and the printable page sum in their last row."""
    if fmt == ReportFormat.JSON:
        # Amounts as strings, like every pydantic response in the platform: JSON floats lose cents.
        return JSONResponse(jsonable_encoder(json_body, custom_encoder={Decimal: str}))
    if fmt == ReportFormat.CSV:
        return Response(
            to_csv(columns, rows, totals), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    if fmt == ReportFormat.HTML:
        return HTMLResponse(to_html(title, columns, rows, subtitle, totals))
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"format: unknown report format {fmt}")
