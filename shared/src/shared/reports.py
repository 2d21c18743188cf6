"""Tabular reports as staff use them: JSON for screens, CSV for Excel, HTML for printing.

One column list drives all three, so an export can never disagree with what the screen shows.
CSV starts with a UTF-8 byte-order mark because Excel on Chinese Windows otherwise garbles
Chinese text; the printable page is plain HTML with print CSS, no scripts or external assets.
"""

import csv
import html
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

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


def to_csv(columns: Sequence[Column], rows: Iterable[Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.label for c in columns])
    for row in rows:
        writer.writerow([_csv_safe(_text(c.of(row))) for c in columns])
    return "\ufeff" + out.getvalue()


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheets (CSV injection); names and
    # notes are typed by customers and staff, so such cells are prefixed with a quote.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def to_html(title: str, columns: Sequence[Column], rows: Iterable[Any], subtitle: str = "") -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(c.label)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(_text(c.of(row)))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return (
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #888;padding:4px 6px;font-size:12px;text-align:left}"
        "th{background:#eee}@media print{body{margin:0}thead{display:table-header-group}"
        "tr{page-break-inside:avoid}}</style></head><body>"
        f"<h1>{esc(title)}</h1>" + (f"<p>{esc(subtitle)}</p>" if subtitle else "")
        + f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )


def render(
    fmt: ReportFormat, *, title: str, columns: Sequence[Column], rows: Sequence[Any], json_body: Any,
    filename: str, subtitle: str = "",
) -> Response:
    """The response for one report in the requested format; `json_body` is what screens get."""
    if fmt == ReportFormat.JSON:
        # Amounts as strings, like every pydantic response in the platform: JSON floats lose cents.
        return JSONResponse(jsonable_encoder(json_body, custom_encoder={Decimal: str}))
    if fmt == ReportFormat.CSV:
        return Response(
            to_csv(columns, rows), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    if fmt == ReportFormat.HTML:
        return HTMLResponse(to_html(title, columns, rows, subtitle))
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"format: unknown report format {fmt}")
