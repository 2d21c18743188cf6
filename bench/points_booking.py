"""Points booking benchmark: how many attributed sales per second the points consumer books.

Starts a private stack (embedded PostgreSQL, Tansu, the points service as a uvicorn process), opens
the members' accounts through `member_registered` events, then stops the service and writes a
backlog of `purchase_attributed` events straight to the broker, with redeliveries mixed in (the
same event twice, and the same sale under a new event id). It starts the service again and times
how fast the backlog is booked, then checks that every sale was booked exactly once and that every
balance equals its ledger. The raw PostgreSQL insert rate and the raw Kafka produce rate are
measured in the same run, on the same machine.

    .venv/bin/python bench/points_booking.py [--sales 100000] [--members 5000] [--batch-size 2000]

It reports and never fails a build (exit code 0 whether the goal is met or not; 1 if it could not
run, 130 on Ctrl-C). Everything it starts is stopped by process id when it ends.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from _support import (
    OneService,
    Profilers,
    cpu_seconds,
    ensure_topic,
    log,
    produce,
    raw_consume_rate,
    run_bench,
    wait_for,
)

from shared.events import contracts as c
from shared.events.envelope import new_event
from shared.events.registry import MEMBER_REGISTERED, PURCHASE_ATTRIBUTED, Topics

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

GOAL_SALES_PER_S = 5000.0
PREFIX = "bench."
CATEGORIES = [("grain", "5.90", "89.00"), ("fresh", "3.20", "66.00"), ("dairy", "4.50", "39.90"),
              ("household", "9.90", "199.00"), ("appliances", "99.00", "1299.00"), ("tiles", "35.00", "280.00")]


# --------------------------------------------------------------------------------------------
# Workload


def make_sales(rng: random.Random, members: list[str], n: int) -> tuple[list, int]:
    """Envelopes of `n` distinct sales and the points they must earn under the default rule."""
    start = datetime.now(UTC) - timedelta(days=1)
    envelopes, expected = [], 0
    for i in range(n):
        member = rng.choice(members)
        lines = []
        for k in range(rng.randint(1, 4)):
            category, low, high = rng.choice(CATEGORIES)
            amount = Decimal(rng.uniform(float(low), float(high))).quantize(Decimal("0.01"))
            lines.append(c.AttributedLine(sku=f"69{k:011d}", category=category, qty=Decimal(1), amount=amount))
        total = sum((ln.amount for ln in lines), Decimal("0.00"))
        expected += int(total.to_integral_value(rounding=ROUND_DOWN))
        store = f"S00{1 + i % 4}"
        sale = c.PurchaseAttributedV1(
            member_id=member, sale_event_id=str(uuid.uuid4()), store_id=store, pos_txn_id=f"{store}-B-{i:08d}",
            occurred_at=start + timedelta(milliseconds=i), total=total, lines=lines,
        )
        envelopes.append(new_event(PURCHASE_ATTRIBUTED, sale, source="crm/members", subject=member))
    return envelopes, expected


async def raw_insert_rate(stack: OneService, rows: int, batch: int) -> float:
    """Rows/s of plain multi-row inserts into a ledger-shaped table, one transaction per batch."""
    conn = await stack.connect("rawbench")
    try:
        await conn.execute(
            "CREATE TABLE raw_ledger (id bigserial PRIMARY KEY, member_id varchar(36) NOT NULL, entry_type varchar(16) NOT NULL,"
            " points int NOT NULL, balance_after int NOT NULL, reason varchar(200) NOT NULL, source_ref varchar(200) NOT NULL,"
            " source_event_id varchar(200), occurred_at timestamptz NOT NULL, booked_at timestamptz NOT NULL,"
            " UNIQUE (member_id, entry_type, source_ref))"
        )
        now = datetime.now(UTC)
        data = [(f"m{i % 5000}", "earn", i % 500, i, f"purchase S001/R{i}", f"sale:S001/R{i}", str(uuid.uuid4()), now, now)
                for i in range(rows)]
        sql = ("INSERT INTO raw_ledger (member_id, entry_type, points, balance_after, reason, source_ref, source_event_id,"
               " occurred_at, booked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        t = time.perf_counter()
        for start in range(0, rows, batch):
            async with conn.transaction():
                await conn.executemany(sql, data[start:start + batch])
        return rows / (time.perf_counter() - t)
    finally:
        await conn.close()


# --------------------------------------------------------------------------------------------
# The run


async def run(args: argparse.Namespace, stack: OneService, results: dict) -> None:
    rng = random.Random(args.seed)
    log(f"starting PostgreSQL and Tansu in {stack.root}")
    stack.start_postgres()
    await stack.create_databases("points", "rawbench")
    stack.start_broker(stack.logs / "broker.log")
    topic = f"{PREFIX}{Topics.MEMBERS}"
    await ensure_topic(stack.bootstrap, topic)

    log(f"raw limits: PostgreSQL inserts ({args.raw_rows} rows in batches of {args.batch_size})")
    results["raw_insert_per_s"] = await raw_insert_rate(stack, args.raw_rows, args.batch_size)

    members = [str(uuid.uuid4()) for _ in range(args.members)]
    log(f"opening {args.members} accounts through member_registered")
    await stack.start_service(args.batch_size)
    registrations = [
        new_event(MEMBER_REGISTERED, c.MemberRegisteredV1(member_id=m, card_no=f"88{i:011d}", channel="retail",
                                                           registered_at=datetime.now(UTC)), source="crm/members", subject=m)
        for i, m in enumerate(members)
    ]
    await produce(stack.bootstrap, topic, registrations)
    db = await stack.connect()
    try:
        await wait_for(db, "SELECT count(*) FROM points_account", args.members, args.drain_timeout, "accounts opened")
        stack.stop_service()

        log(f"writing a backlog of {args.sales} sales (+{args.duplicates:.0%} redelivered, +{args.resent:.0%} resent "
            "under new ids) while the service is stopped")
        sales, expected_points = make_sales(rng, members, args.sales)
        redelivered = rng.sample(sales, int(args.sales * args.duplicates))
        resent = [new_event(PURCHASE_ATTRIBUTED, c.PurchaseAttributedV1.model_validate(e.data), source="crm/members",
                            subject=e.subject) for e in rng.sample(sales, int(args.sales * args.resent))]
        backlog = sales + redelivered + resent
        rng.shuffle(backlog)
        # Sales are independent of each other, so the order does not matter; redeliveries may come first.
        results["produce_per_s"] = await produce(stack.bootstrap, topic, backlog)
        results["backlog"] = len(backlog)
        results["consume_per_s"] = await raw_consume_rate(stack.bootstrap, topic, len(backlog), args.batch_size)

        log(f"starting points (consumer batch size {args.batch_size}) and timing the drain")
        cpu_pg_before = cpu_seconds(stack.pg_pid, children=True)
        started = time.perf_counter()
        await stack.start_service(args.batch_size)
        cpu_points_before = cpu_seconds(stack.pid)
        profiler = Profilers(args.profile, {"points": stack.pid} if stack.pid else {})
        profiler.start()
        try:
            await wait_for(db, "SELECT count(*) FROM sale_earning", args.sales, args.drain_timeout, "sales booked")
        finally:
            profiler.stop()
        results["drain_wall_s"] = time.perf_counter() - started
        results["cpu_points_s"] = cpu_seconds(stack.pid) - cpu_points_before
        results["cpu_pg_s"] = cpu_seconds(stack.pg_pid, children=True) - cpu_pg_before
        first, last = await db.fetchrow("SELECT min(booked_at), max(booked_at) FROM points_ledger WHERE entry_type = 'earn'")
        in_first = await db.fetchval("SELECT count(*) FROM points_ledger WHERE entry_type = 'earn' AND booked_at = $1", first)
        span = (last - first).total_seconds()
        results["booking_span_s"] = span
        results["booked_per_s"] = (args.sales - in_first) / span if span > 0 else float("nan")

        earns = await db.fetchval("SELECT count(*) FROM points_ledger WHERE entry_type = 'earn'")
        ledger_total = await db.fetchval("SELECT coalesce(sum(points), 0) FROM points_ledger")
        balances = await db.fetchval("SELECT coalesce(sum(balance), 0) FROM points_account")
        mismatched = await db.fetchval(
            "SELECT count(*) FROM points_account a LEFT JOIN (SELECT member_id, sum(points) s FROM points_ledger GROUP BY member_id) l"
            " ON l.member_id = a.member_id WHERE a.balance <> coalesce(l.s, 0)"
        )
        results["check"] = {
            "earn entries == distinct sales": (earns, args.sales),
            "ledger points == expected points": (ledger_total, expected_points),
            "sum of balances == ledger points": (balances, ledger_total),
            "accounts whose balance differs from their ledger": (mismatched, 0),
        }
    finally:
        await db.close()


def report(args: argparse.Namespace, results: dict) -> None:
    lines = ["", f"=== Points booking benchmark: {args.sales} sales, {args.members} members, batch {args.batch_size}"
             f"{f', {args.in_flight} partitions in flight' if args.in_flight else ''}, "
             f"{os.cpu_count()} CPUs ==="]
    add = lines.append
    raw, produced = results.get("raw_insert_per_s"), results.get("produce_per_s")
    add("")
    add("Raw limits (same machine, same run)")
    if raw:
        add(f"  PostgreSQL multi-row INSERT, ledger-shaped rows            {raw:>10,.0f} rows/s")
    if produced:
        add(f"  Kafka produce of the backlog ({results['backlog']} events)          {produced:>10,.0f} msg/s")
    if results.get("consume_per_s"):
        add(f"  Kafka consume of the backlog, plain consumer, no parsing   {results['consume_per_s']:>10,.0f} msg/s")
    rate = results.get("booked_per_s")
    if rate:
        add("")
        add("Booking by the points consumer (PostgreSQL)")
        add(f"  sales booked, first to last committed batch                {rate:>10,.0f} sales/s "
            f"({results['booking_span_s']:.1f}s)")
        add(f"  whole drain incl. service start-up                         {args.sales / results['drain_wall_s']:>10,.0f} sales/s "
            f"({results['drain_wall_s']:.1f}s)")
        add(f"  CPU per sale: points {results['cpu_points_s'] * 1000 / args.sales:.3f} ms, "
            f"PostgreSQL {results['cpu_pg_s'] * 1000 / args.sales:.3f} ms")
        # Per sale the consumer writes a processed-event row, a ledger row and a sale_earning row.
        if raw:
            add(f"  rows written per second (3 per sale) / raw insert rows/s   {3 * rate / raw:>10.1%}")
        if produced:
            add(f"  sales booked/s / raw produce msg/s                          {rate / produced:>10.1%}")
    check = results.get("check")
    if check:
        add("")
        add("Exactly once, after redeliveries")
        for label, (got, want) in check.items():
            add(f"  {label:<52} {got!s:>12} / {want!s:<12} {'OK' if got == want else 'WRONG'}")
    add("")
    add("Goal")
    ok = bool(rate and rate >= GOAL_SALES_PER_S and check and all(g == w for g, w in check.values()))
    add(f"  >= {GOAL_SALES_PER_S:,.0f} sales/s booked with exactly-once effects     "
        f"{(f'{rate:,.0f}' if rate else 'incomplete'):>10}   {'PASS' if ok else 'MISS'}")
    print("\n".join(lines), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sales", type=int, default=100_000, help="distinct sales in the backlog (default 100000)")
    parser.add_argument("--members", type=int, default=5_000, help="members (default 5000)")
    parser.add_argument("--batch-size", type=int, default=2_000, help="consumer batch size (CRM_CONSUMER_BATCH_SIZE)")
    parser.add_argument("--in-flight", type=int, metavar="N",
                        help="partitions applied at once (CRM_CONSUMER_PARTITIONS_IN_FLIGHT; default: the service's own)")
    parser.add_argument("--duplicates", type=float, default=0.02, help="share of sales delivered twice (same event id)")
    parser.add_argument("--resent", type=float, default=0.01, help="share of sales resent under a new event id")
    parser.add_argument("--raw-rows", type=int, default=100_000, help="rows of the raw insert measurement")
    parser.add_argument("--drain-timeout", type=float, default=300.0, help="seconds to wait for the backlog to be booked")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, database)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="sample the points process with py-spy during the drain; collapsed stacks to DIR/points.txt")
    args = parser.parse_args()

    stack = OneService(Path(tempfile.mkdtemp(prefix="crm-points-bench-")), "points", in_flight=args.in_flight, prefix=PREFIX)
    results: dict = {}
    code = run_bench(stack, lambda: run(args, stack, results), keep=args.keep)
    report(args, results)
    return code


if __name__ == "__main__":
    sys.exit(main())
