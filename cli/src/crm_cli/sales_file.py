"""Reading a file of past sales for `crm import-sales`: CSV or JSON lines, into one JSON object per
sale in the shape members validates (`members.domain.sales_import.ImportedSale`).

The rules of a sale (ids, times with their offset, amounts, lines adding up, card or phone) live
there, in one place: this module only takes the file apart, keeps each sale's original rows and
line numbers for the reject file, and refuses on its own only what it cannot take apart (a line
that is not JSON, a CSV row of a sale whose rows disagree).

CSV: a header row, then one row per sale line; the rows of one sale (same store_id and pos_txn_id)
follow each other and repeat its fields. A sale the old system kept only the total of is one row
with `total` and no line columns filled.
"""

import csv
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from members.domain.sales_import import HALF_WIDTH_FIELDS, sale_time
from shared.text import half_width

SALE_COLUMNS = ("store_id", "pos_txn_id", "occurred_at", "card_no", "phone", "payment", "total", "discount")
LINE_COLUMNS = ("sku", "name", "category", "qty", "unit_price", "amount")
REQUIRED_COLUMNS = ("store_id", "pos_txn_id", "occurred_at")
# The reject file's own columns, before the refused rows' fields.
REJECT_COLUMNS = ("line", "reason")
FORMATS = ("csv", "jsonl")
# What separates a CSV file's columns, told from its header: spreadsheets save with commas, or with
# semicolons where the comma is the decimal mark, and databases export tab-separated.
DELIMITERS = (",", ";", "\t", "|")
# How many of the latest sales' transactions a CSV file is checked against for rows that come back
# after another sale's (a file sorted by time interleaves its tills' transactions): enough for a
# store's day of every till, bounded so that a file of years takes no more memory than that.
RECENT_TRANSACTIONS = 200_000
# The columns holding numbers. In a file separated by semicolons, the separator of the locales
# whose decimal mark is the comma, "12,50" is 12.50: its comma is turned into the point members reads.
NUMBER_COLUMNS = ("total", "discount", "qty", "unit_price", "amount")
DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")
SURROGATE = re.compile("[\ud800-\udfff]")


class FileProblem(ValueError):
    """The file as a whole cannot be read (an unknown format, a CSV header without a required column)."""


def _same(column: str, kept: str, given: str) -> bool:
    """Whether a sale's column, repeated on another of its rows, says the same: an amount or a time
    as its value (12.5 and 12.50; 10:15+08:00 and 02:15Z), as a spreadsheet may write one cell
    differently from the next; anything else as written. A value that does not read as one is
    compared as written: members refuses it, with its reason, from the first row. Typed in
    full-width mode, a code, an amount or a time is what members reads it as (Ｓ００１ is S001)."""
    if column in HALF_WIDTH_FIELDS:
        given, kept = half_width(given), half_width(kept)
    if given == kept:
        return True
    try:
        if column in ("total", "discount"):
            return Decimal(given.strip()) == Decimal(kept.strip())
        if column == "occurred_at":  # read as members reads it: 2019/3/1 9:05 is 2019-03-01 09:05:00
            this, first = sale_time(given), sale_time(kept)
            return (this.tzinfo is None) == (first.tzinfo is None) and this == first
    except (InvalidOperation, ValueError):
        return False
    return False


@dataclass
class SourceSale:
    """One sale as read: what is sent, or why it was refused here; its rows as they were in the file."""

    line: int  # of its first row, 1-based, the CSV header being line 1
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, original fields)
    sale: dict[str, Any] | None = None
    problem: str | None = None


def format_of(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "csv":
        return "csv"
    if suffix in ("jsonl", "ndjson", "json"):
        return "jsonl"
    raise FileProblem(f"{path.name}: cannot tell the format from the extension; give --format csv or jsonl")


def reject_header(fmt: str, columns: list[str]) -> list[str]:
    return [*REJECT_COLUMNS, *(columns if fmt == "csv" else ["record"])]


def read_jsonl(lines: Iterator[str]) -> Iterator[SourceSale]:
    for number, text in enumerate(lines, start=1):
        record = text.rstrip("\r\n")
        if not record.strip():
            continue
        found = SourceSale(number, [(number, [record])])
        try:
            value = json.loads(record)
        except ValueError as exc:
            found.problem = f"record: not valid JSON ({exc.msg} at column {exc.colno})"
        except RecursionError:  # arrays in arrays a thousand deep: beyond the parser, and no sale
            found.problem = "record: nested deeper than JSON is read here; a sale is an object of fields and lines"
        else:
            if not isinstance(value, dict):
                found.problem = "record: a sale is a JSON object"
            elif "\\u" in record and (where := _lone_surrogate(value)) is not None:
                # Only a \u escape writes one: text read in the file's encoding never holds it.
                found.problem = f"{where[0]}: \\u{where[1]:04x} is half of a UTF-16 surrogate pair, not a character (the text was cut inside one)"
            else:
                found.sale = value
        yield found


def _lone_surrogate(value: Any, path: str = "record") -> tuple[str, int] | None:
    """The field (`payment`, `lines.0.name`) and code of the first half of a UTF-16 surrogate pair
    in a decoded JSON value: JSON's escapes can write one, but UTF-8, and so the request, cannot."""
    if isinstance(value, str):
        found = SURROGATE.search(value)
        return (path, ord(found[0])) if found else None
    if isinstance(value, dict):
        # One in a name is reported as the object's: the reason must not hold it either.
        if (in_name := next((_lone_surrogate(k, path) for k in value if SURROGATE.search(k)), None)) is not None:
            return in_name
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if (found_in := _lone_surrogate(item, str(key) if path == "record" else f"{path}.{key}")) is not None:
            return found_in
    return None


class CsvSales:
    """The sales of a CSV file; `columns` is its header, read at once, less the reject file's own
    columns: a reject file, its rows fixed, is imported as it is."""

    def __init__(self, lines: Iterator[str]) -> None:
        try:
            header = next(lines)
        except StopIteration:
            raise FileProblem("the file is empty: a CSV file starts with its header") from None
        if "\r" in header.rstrip("\r\n"):
            # Lines are split at LF: a file of CR-only line ends arrives as one line, which the CSV
            # reader would refuse with a message about its own modes.
            raise FileProblem("the lines end with CR alone (an old Mac format): save the file with LF or CRLF line ends")
        # The reject file is written with it too, so that, its rows fixed, it reads as the file did
        # (a semicolon file's decimal commas included).
        self.delimiter = _delimiter(header)
        self.reader = csv.reader(itertools.chain([header], lines), delimiter=self.delimiter)
        self._decimal_comma = self.delimiter == ";"
        _, _, names = next(self._records())
        self.header = [c.strip() for c in names]
        # The columns go by these names alone: an old system's own (门店, 小票号, 金额) are renamed to
        # them, since which of its amounts is the total before discounts is the chain's to say.
        named = f"the columns are named {', '.join(SALE_COLUMNS + LINE_COLUMNS)}, in any order"
        missing = [c for c in REQUIRED_COLUMNS if c not in self.header]
        if missing:
            raise FileProblem(f"the CSV header lacks {', '.join(missing)} ({named}; rename the old system's own to these)")
        # A spreadsheet saves the empty columns beside the table as well (",," after the last name):
        # without a name they hold nothing, which each row is checked for.
        unknown = [c for c in self.header if c not in ("", *SALE_COLUMNS, *LINE_COLUMNS, *REJECT_COLUMNS)]
        if unknown:
            raise FileProblem(f"the CSV header has unknown columns: {', '.join(unknown)} ({named})")
        self._unnamed = [i for i, c in enumerate(self.header) if c == ""]
        self._kept = [i for i, c in enumerate(self.header) if c not in ("", *REJECT_COLUMNS)]
        self.columns = [self.header[i] for i in self._kept]

    def _records(self) -> Iterator[tuple[int, int, list[str]]]:
        """(first line, last line, fields) of each record: a quoted field may hold line ends."""
        start = self.reader.line_num + 1
        while True:
            try:
                fields = next(self.reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # A quote never closed reads on to the end of the file, or until a field outgrows
                # the reader's limit: a line that cannot be read, which stops the import.
                reason = (f"a quote opened in this row is never closed ({exc})" if "field limit" in str(exc) else str(exc))
                raise FileProblem(f"line {start}: {reason}") from None
            yield start, self.reader.line_num, fields
            start = self.reader.line_num + 1

    def __iter__(self) -> Iterator[SourceSale]:
        current: SourceSale | None = None
        key: tuple[str, str] | None = None
        began: dict[tuple[str, str], int] = {}  # the latest transactions' first lines, oldest first
        for line, end, fields in self._records():
            if not any(f.strip() for f in fields):
                continue
            row = dict(zip(self.header, fields, strict=False))
            if self._decimal_comma:
                for name in NUMBER_COLUMNS:
                    if DECIMAL_COMMA.fullmatch(value := row.get(name, "").strip()):
                        row[name] = value.replace(",", ".")
            # As members reads them: a row typed Ｓ００１ is of the sale a row typed S001 began.
            row_key = (half_width(row.get("store_id", "")), half_width(row.get("pos_txn_id", "")))
            if current is not None and row_key == key:
                self._add_row(current, line, end, fields, row)
                continue
            if current is not None:
                yield current
            current, key = SourceSale(line), row_key
            self._add_row(current, line, end, fields, row)
            if (first := began.get(row_key)) is not None:
                # Imported, its lines would be answered present as the sale already recorded: lost.
                current.problem = (f"pos_txn_id: transaction {row_key[0]}/{row_key[1]} began at line {first} and is "
                                   "taken from its rows there, without these; a sale's rows must follow each other")
                current.sale = None
            else:
                began[row_key] = line
                if len(began) > RECENT_TRANSACTIONS:
                    del began[next(iter(began))]
        if current is not None:
            yield current

    def _add_row(self, sale: SourceSale, line: int, end: int, fields: list[str], row: dict[str, str]) -> None:
        whole = len(fields) == len(self.header)
        sale.rows.append((line, [fields[i] for i in self._kept] if whole else fields))
        if sale.problem is not None:
            return
        if not whole:
            sale.problem = self._misfit(line, end, fields)
            sale.sale = None
            return
        if filled := [i for i in self._unnamed if fields[i].strip()]:
            sale.problem = f"row: column {filled[0] + 1} holds {fields[filled[0]]!r} but has no name in the header"
            sale.sale = None
            return
        if sale.sale is None:
            sale.sale = {c: row[c] for c in SALE_COLUMNS if row.get(c, "") != ""}
        else:
            for c in SALE_COLUMNS:
                if row.get(c, "") != "" and not _same(c, sale.sale.get(c, ""), row[c]):
                    sale.problem = f"{c}: differs between the rows of this sale (line {sale.line} and line {line})"
                    sale.sale = None
                    return
        item = {c: row[c] for c in LINE_COLUMNS if row.get(c, "") != ""}
        if item:
            sale.sale.setdefault("lines", []).append(item)

    def _misfit(self, line: int, end: int, fields: list[str]) -> str:
        """Why a row of the wrong number of fields is refused. One read over several lines is a
        quote never closed, whose field took in the lines after it: those sales are named with it,
        not silently gone."""
        counted = f"{len(fields)} fields where the header has {len(self.header)}"
        if end == line:
            return f"row: {counted}"
        # The field that took the lines in is the one holding the most line ends.
        quoted = max(range(len(fields)), key=lambda i: fields[i].count("\n"))
        opened = line + sum(f.count("\n") for f in fields[:quoted])
        return f"row: a quote opened on line {opened} is never closed: lines {line} to {end} were read as one row ({counted})"


def _delimiter(header: str) -> str:
    """The delimiter with which the header names every required column; else a comma, and the
    header's check says what is missing."""
    for delimiter in DELIMITERS:
        columns = {c.strip() for c in next(csv.reader([header], delimiter=delimiter), [])}
        if columns.issuperset(REQUIRED_COLUMNS):
            return delimiter
    return ","
