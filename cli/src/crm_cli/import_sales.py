"""`crm import-sales FILE`: a chain's past sales into the platform, a batch per request to members'
`POST /v1/sales/import` (admin only), which records them as live sales are.

Running it again, or again after it was stopped half-way (Ctrl-C, a kill, a lost connection),
counts nothing twice: members answers every sale already recorded `present`, whether an earlier run
or the till brought it (or an earlier line of the file, when it is the same sale: another sale
under its id is refused, naming that line). So there is no checkpoint to keep; a resumed run reads the file from the
start and the part done is answered present at the cost of reading it.
"""

import asyncio
import csv
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from crm_cli.sales_file import (
    RECENT_TRANSACTIONS,
    CsvSales,
    FileProblem,
    SourceSale,
    format_of,
    read_jsonl,
    reject_header,
)
from crm_cli.sales_text import Counting, check_text, encoding_of
from members.domain.sales_import import ImportedSale, conflicting_repeat, fingerprint, parse_sale
from shared.text import half_width

PATH = "/v1/sales/import"
# Under the services' and the gateway's body limit (CRM_MAX_BODY_BYTES, 1 MB by default).
MAX_BATCH_BYTES = 900_000
RETRIES = 4
# The exit status of a run that went through the whole file but refused some of its rows (in the
# reject file): not 0, so a script or scheduler that imports a file sees that it was not all taken.
# 1 and 2 are taken (members refused a batch; the file or an option is unusable), 130 is Ctrl-C.
EXIT_REJECTED = 3


@dataclass
class Summary:
    read: int = 0
    imported: int = 0
    present: int = 0
    rejected: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    # Why reading stopped part-way (a line the file's encoding cannot read, a CSV quote never closed);
    # what was sent is settled.
    problem: str | None = None
    dry_run: bool = False

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def text(self) -> str:
        imported = f"would import {self.imported:,}" if self.dry_run else f"imported {self.imported:,}"
        return (f"read {self.read:,}, {imported}, already present {self.present:,}, "
                f"rejected {self.rejected:,} in {self.seconds:.1f} s ({self.rate:,.0f} sales/s)"
                + (" - a dry run: nothing was imported" if self.dry_run else ""))


@dataclass
class Options:
    points: str  # "none" or "rule-at-time"
    rejects: Path
    fmt: str | None = None
    encoding: str | None = None  # None: UTF-8, and a file that looks like GBK is refused (sales_text)
    local_time_zone: str | None = None  # of times without a UTC offset; None: they are refused
    dry_run: bool = False  # check the file as an import would, recording nothing
    batch_size: int = 2000
    in_flight: int = 2  # batches sent before the first is answered: reading overlaps recording
    progress: bool = True
    # The chain's stores, closed ones too, as the gateway keeps them; None: not checked here (an
    # import straight to members, which knows no stores).
    stores: frozenset[str] | None = None


class ImportFailed(RuntimeError):
    """The service refused a whole batch for a reason retrying does not cure (e.g. 401, 403)."""


async def import_sales(
    path: Path, client: httpx.AsyncClient, options: Options, gateway: httpx.AsyncClient | None = None,
) -> Summary:
    """`client` has the members API's base URL (directly, or the gateway's `/api/members`) and the
    admin's Authorization header; `gateway`, when given, the gateway's, whose stores the sales are
    checked against once the file is open."""
    fmt = format_of(path, options.fmt)
    encoding = encoding_of(options.encoding)
    if _same_file(path, options.rejects):
        # Opened for writing it would be emptied before it is read, and then removed.
        raise FileProblem(f"--rejects {options.rejects}: that is the file being imported; name another file for the refused rows")
    summary = Summary(dry_run=options.dry_run)
    started = time.perf_counter()
    try:
        # The reject file starts with a byte order mark, as the console's CSV exports do: a
        # spreadsheet opening it then reads its Chinese as UTF-8.
        with path.open("rb") as raw, options.rejects.open("w", newline="", encoding="utf-8-sig") as rejects_file:
            if gateway is not None:
                options.stores = await chain_stores(gateway)
            await _import(raw, rejects_file, fmt, encoding, client, options, summary)
    finally:
        # No reject file is left of a run that refused nothing, nor of one that could not read the file.
        if summary.rejected == 0:
            options.rejects.unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    return summary


def _same_file(path: Path, other: Path) -> bool:
    """Whether `other` names `path`, through a relative path, a symbolic or a hard link."""
    if path.resolve() == other.resolve():
        return True
    try:
        return os.path.samefile(path, other)
    except OSError:  # one of them does not exist (yet): not the same
        return False


async def _import(
    raw: BinaryIO, rejects_file: TextIO, fmt: str, encoding: str, client: httpx.AsyncClient, options: Options,
    summary: Summary,
) -> None:
    size = os.fstat(raw.fileno()).st_size
    with _progress(options.progress) as bar:
        task = bar.add_task("checking the text", total=size)
        pending: list[asyncio.Task[list[tuple[SourceSale, str, str | None]]]] = []
        try:
            # The whole file, before a sale is sent: one in the wrong encoding is refused at once.
            for done in check_text(raw, encoding, given=options.encoding is not None):
                bar.update(task, completed=done)
                await asyncio.sleep(0)  # a Ctrl-C is heard between blocks
            bar.reset(task, description="importing")
            lines = Counting(raw, encoding)
            sales, columns, delimiter = _sales(lines, fmt, options)
            rejects = csv.writer(rejects_file, delimiter=delimiter)
            rejects.writerow(reject_header(fmt, columns))

            async def settle_first() -> None:
                _settle(await pending.pop(0), summary, rejects, fmt)
                bar.update(task, completed=lines.read, description=_status(summary))

            try:
                for batch in _batches(sales, options.batch_size):
                    pending.append(asyncio.create_task(_send(client, batch, options)))
                    while len(pending) >= options.in_flight:
                        await settle_first()
            except FileProblem as problem:  # a line that cannot be read: the batches sent are settled
                summary.problem = str(problem)
            while pending:
                await settle_first()
        except (KeyboardInterrupt, asyncio.CancelledError):
            summary.interrupted = True
        finally:
            for p in pending:  # interrupted, or a batch refused: nothing more is sent
                p.cancel()


def _sales(lines: Counting, fmt: str, options: Options) -> tuple[Iterator[SourceSale], list[str], str]:
    """The file's sales, the columns of its reject file and their separator."""
    sales: Iterator[SourceSale]
    if fmt == "csv":
        csv_sales = CsvSales(iter(lines))
        columns, sales, delimiter = csv_sales.columns, iter(csv_sales), csv_sales.delimiter
    else:
        columns, sales, delimiter = [], read_jsonl(iter(lines)), ","
    if options.stores is not None:
        sales = _at_known_stores(sales, options.stores)
    return _one_sale_per_transaction(sales, options.local_time_zone), columns, delimiter


def _at_known_stores(sales: Iterator[SourceSale], stores: frozenset[str]) -> Iterator[SourceSale]:
    """Refuses a sale of a store the chain does not have: recorded, it would count in reports of a
    store nobody can name or choose, and its returns could never be taken at a till."""
    for sale in sales:
        # As members reads it: Ｓ００１ typed in full-width mode is S001.
        store = half_width(sale.sale.get("store_id")) if sale.sale is not None else None
        if isinstance(store, str) and store not in stores:
            sale.problem = (f"store_id: {store} is not one of the chain's stores; add it at the gateway "
                            f"(PUT /api/v1/stores/{store}, inactive if it has closed) and import again")
            sale.sale = None
        yield sale


def _one_sale_per_transaction(sales: Iterator[SourceSale], local_time_zone: str | None) -> Iterator[SourceSale]:
    """Refuses a sale under the store and transaction id of an earlier line of the file that is
    another sale (another card, total, time or lines): sent, it would be answered present, as the
    sale recorded from that line, and lost without a word. The same sale again is sent, and
    answered present, as a run again is.

    Read as members reads it (`parse_sale`), so that a repeat spelling a value differently is still
    the same sale; one members will refuse anyway is left to it. Kept for the latest
    `RECENT_TRANSACTIONS` transactions, as the CSV reader's own check: a file of years takes no more
    memory than that, and a repeat further back meets the sale recorded from it at members, which
    refuses another amount or day."""
    zone = _zone(local_time_zone)
    now = datetime.now(UTC)
    first: dict[tuple[str, str], tuple[int, int]] = {}  # the latest transactions' (line, fingerprint), oldest first
    for sale in sales:
        if sale.sale is not None and isinstance(parsed := parse_sale(sale.sale, now, zone), ImportedSale):
            key, this = (parsed.store_id, parsed.pos_txn_id), fingerprint(parsed)
            if (earlier := first.get(key)) is None:
                first[key] = (sale.line, this)
                if len(first) > RECENT_TRANSACTIONS:
                    del first[next(iter(first))]
            elif earlier[1] != this:
                sale.problem = conflicting_repeat(f"line {earlier[0]} of this file")
                sale.sale = None
        yield sale


def _zone(name: str | None) -> ZoneInfo | None:
    # A name that is no zone is members' to refuse (422, naming --local-time-zone): here its times
    # read as having no offset, which only leaves those sales unchecked.
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


async def chain_stores(gateway: httpx.AsyncClient) -> frozenset[str]:
    """Every store the gateway keeps, closed ones too (a past sale may be of a store since closed)."""
    r = await gateway.get("/api/v1/stores")
    if r.status_code != 200:
        raise ImportFailed(f"{r.status_code} from the gateway's store list: {r.text[:200]}")
    return frozenset(store["store_id"] for store in r.json())


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(), disable=not enabled,
    )


def _status(s: Summary) -> str:
    return f"imported {s.imported:,} · present {s.present:,} · rejected {s.rejected:,}"


def _batches(sales: Iterator[SourceSale], batch_size: int) -> Iterator[list[tuple[SourceSale, str | None]]]:
    """Sales with their JSON text (None when refused here), cut by count and by bytes.

    The count is of the batch's entries, the sales refused here included: a long run of them (a
    file of a store the chain does not have) is settled, and written to the reject file, a batch at
    a time as the file is read, instead of piling up in one batch until a sale to send comes."""
    batch: list[tuple[SourceSale, str | None]] = []
    size = 0
    try:
        for sale in sales:
            text = json.dumps(sale.sale, ensure_ascii=False) if sale.sale is not None else None
            length = len(text.encode()) + 1 if text is not None else 0
            if length > MAX_BATCH_BYTES:
                # One sale past what one request may carry (a field of megabytes): refused here, as
                # members would refuse the whole batch, and the rest of the file goes on.
                sale.sale, sale.problem = None, f"record: {length:,} bytes as JSON, more than the {MAX_BATCH_BYTES:,} one sale may take"
                text, length = None, 0
            if batch and (len(batch) >= batch_size or size + length > MAX_BATCH_BYTES):
                yield batch
                batch, size = [], 0
            batch.append((sale, text))
            size += length
    except FileProblem:
        # The sales read before a line that cannot be read are whole (a CSV sale is handed over
        # only once a row of the next one is read): they are sent before the import stops.
        if batch:
            yield batch
        raise
    if batch:
        yield batch


async def _send(
    client: httpx.AsyncClient, batch: list[tuple[SourceSale, str | None]], options: Options
) -> list[tuple[SourceSale, str, str | None]]:
    """(sale, status, reason) for each sale of the batch, in order."""
    texts = [t for _, t in batch if t is not None]
    answers: list[dict[str, Any]] = []
    if texts:
        head = json.dumps({"points": options.points, "local_time_zone": options.local_time_zone, "dry_run": options.dry_run})
        body = head[:-1] + ',"sales":[' + ",".join(texts) + "]}"
        answers = list(reversed((await _post(client, body.encode()))["results"]))
    out = []
    for sale, text in batch:
        if text is None:
            out.append((sale, "rejected", sale.problem))
        else:
            answer = answers.pop()
            out.append((sale, answer["status"], answer.get("reason")))
    return out


async def _post(client: httpx.AsyncClient, body: bytes) -> dict[str, Any]:
    # A batch is safe to send again: what it recorded before the failure is answered present.
    for attempt in range(RETRIES + 1):
        try:
            r = await client.post(PATH, content=body, headers={"Content-Type": "application/json"})
        except httpx.TransportError:
            if attempt == RETRIES:
                raise
        else:
            if r.status_code == 200:
                return r.json()  # type: ignore[no-any-return]
            if (r.status_code < 500 and r.status_code != 429) or attempt == RETRIES:
                raise ImportFailed(f"{r.status_code} from members: {r.text[:500]}")
        await asyncio.sleep(0.5 * 2 ** attempt)
    raise AssertionError("unreachable")


def _settle(results: list[tuple[SourceSale, str, str | None]], summary: Summary, rejects: Any, fmt: str) -> None:
    for sale, status, reason in results:
        summary.read += 1
        if status == "imported":
            summary.imported += 1
        elif status == "present":
            summary.present += 1
        else:
            summary.rejected += 1
            for line, fields in sale.rows:
                rejects.writerow([line, reason or "", *fields])


def run(args: Any, base_url: str, token: str, out: TextIO, gateway: str | None = None) -> int:
    """`gateway`: its address when the import goes through it, whose stores the sales are checked against."""
    path = Path(args.file)
    options = Options(
        points=args.points, rejects=Path(args.rejects) if args.rejects else path.with_name(path.name + ".rejects.csv"),
        fmt=args.format, encoding=args.encoding, local_time_zone=args.local_time_zone, dry_run=args.dry_run, batch_size=args.batch_size, progress=out.isatty(),
    )

    async def main() -> Summary:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:
            if gateway is None:
                return await import_sales(path, client, options)
            async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=30) as stores:
                return await import_sales(path, client, options, stores)

    summary = asyncio.run(main())
    print(summary.text(), file=out)
    if summary.rejected:
        print(f"rejected rows with their reasons: {options.rejects}", file=out)
    if summary.problem:
        kept = "; what was imported before it is kept (present when run again)" if summary.imported and not summary.dry_run else ""
        print(f"error: {summary.problem}{kept}", file=sys.stderr)
        return 2
    if summary.interrupted:
        # A batch in flight may have been recorded all the same: members finishes what it was sent.
        print("interrupted: the batches sent when it stopped may have been recorded too; run the same command "
              "again to go on: what was recorded is answered present", file=out)
        return 130
    return EXIT_REJECTED if summary.rejected else 0
