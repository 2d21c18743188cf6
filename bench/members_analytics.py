"""Value-analytics benchmark: the `value-analytics` job over the whole chain on PostgreSQL.

Starts an embedded PostgreSQL and Tansu, migrates a members database with the service's own
migrations, bulk-inserts 100,000 members and 200,000 purchases through the app's sessions, then
runs the job (`members.service_layer.analytics.run`) with the same clock three times: the first
run scores every member and publishes each one's attributes, the rerun must find nothing to
change (it reuses the first run's results: nothing it reads changed), and after one new sale the
job must score again. It times them next to the raw limits of this machine measured in the same
run (multi-row INSERTs of outbox-shaped rows, a count, an aggregate and a plain read over the
purchase table), checks the results and prints PASS/MISS against the goals. Time is reported,
never asserted; on a shared machine the CPU seconds of the job's process are the steadier figure.

    .venv/bin/python bench/members_analytics.py [--members 100000] [--purchases 200000]

Exit code 0 whether the goal is met or not; 2 if a correctness check failed, 1 if the benchmark
could not run, 130 on Ctrl-C. Everything it starts is stopped by process id when it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
from _support import PrivateStack, cpu_seconds, log, members_app, migrate_members, run_bench

from shared.auth import generate_keypair
from shared.columns import MoneyColumn
from shared.events.registry import MEMBER_ATTRIBUTES

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

GOAL_FIRST_RUN_S = 10.0
GOAL_RERUN_S = 3.0
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # noon in Shanghai
BUYERS = 0.7  # share of members with purchases; the rest bought nothing
HISTORY_DAYS = 730
FULLY_RETURNED = 0.03
SEED_BATCH = 10_000
RAW_BATCH = 5_000  # the job writes in batches of this size too


# --------------------------------------------------------------------------------------------
# Seed: bulk INSERTs through the app's sessions (Core statements, executemany, one transaction)


async def seed(sessions, members: int, purchases: int, rng: random.Random) -> None:
    from sqlalchemy import insert

    from members.adapters.tables import MemberRow, PurchaseRow

    member_rows = [
        MemberRow(
            id=f"m{i:07d}", card_no=f"88{i:011d}", name="", community="阳光花园", address="", channel="retail",
            created_at=NOW - timedelta(days=800),
        ).model_dump()
        for i in range(members)
    ]
    buyers = max(1, int(members * BUYERS))
    purchase_rows = []
    for n in range(purchases):
        total = Decimal(rng.randint(100, 200_000)) / 100
        purchase_rows.append({
            "sale_event_id": f"e{n}", "store_id": "S001", "pos_txn_id": f"T{n:09d}",
            "member_id": f"m{rng.randrange(buyers):07d}",
            "occurred_at": NOW - timedelta(minutes=rng.randrange(HISTORY_DAYS * 1440)),
            "total": total, "returned": total if rng.random() < FULLY_RETURNED else Decimal("0.00"),
            "payment": "cash", "received_at": NOW,
        })
    async with sessions() as s, s.begin():
        for rows, table in ((member_rows, MemberRow), (purchase_rows, PurchaseRow)):
            for start in range(0, len(rows), SEED_BATCH):
                await s.exec(insert(table), params=rows[start:start + SEED_BATCH])


# --------------------------------------------------------------------------------------------
# Raw limits


async def timed(probe: Callable[[], Awaitable[object]], runs: int) -> float:
    """Median seconds of `runs` runs after one warm-up run."""
    await probe()
    seconds = []
    for _ in range(runs):
        t = time.perf_counter()
        await probe()
        seconds.append(time.perf_counter() - t)
    return statistics.median(seconds)


async def raw_outbox_insert_rate(conn: asyncpg.Connection, rows: int) -> tuple[float, int]:
    """Rows/s of plain multi-row INSERTs into a copy of the outbox table (same columns, indexes and
    unique event id), filled with the job's own envelopes, batches of 5,000 in one transaction as
    the job writes them. Returns the rate and the mean envelope size in bytes."""
    samples = await conn.fetch("SELECT event_type, topic, key, envelope FROM outbox WHERE event_type = $1 LIMIT 1000",
                               MEMBER_ATTRIBUTES)
    if not samples:
        raise RuntimeError("the first run left no attributes event in the outbox to copy")
    await conn.execute("CREATE TABLE raw_outbox (LIKE outbox INCLUDING ALL EXCLUDING DEFAULTS)")
    await conn.execute("CREATE SEQUENCE raw_outbox_id_seq OWNED BY raw_outbox.id")
    await conn.execute("ALTER TABLE raw_outbox ALTER COLUMN id SET DEFAULT nextval('raw_outbox_id_seq')")
    try:
        now = datetime.now(UTC)
        data = [(str(uuid.uuid4()), *samples[i % len(samples)], now) for i in range(rows)]
        sql = "INSERT INTO raw_outbox (event_id, event_type, topic, key, envelope, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
        t = time.perf_counter()
        async with conn.transaction():
            for start in range(0, rows, RAW_BATCH):
                await conn.executemany(sql, data[start:start + RAW_BATCH])
        rate = rows / (time.perf_counter() - t)
    finally:
        await conn.execute("DROP TABLE raw_outbox")
    return rate, round(statistics.fmean(len(r["envelope"].encode()) for r in samples))


PER_MEMBER = """
    SELECT member_id, count(*), sum(total - returned) FILTER (WHERE occurred_at > $1), max(occurred_at)
    FROM purchase WHERE member_id IS NOT NULL AND total > returned AND occurred_at <= $2
    GROUP BY member_id"""
JOB_READ = """
    SELECT member_id, occurred_at, total, returned
    FROM purchase WHERE member_id IS NOT NULL AND total > returned AND occurred_at <= $1
    ORDER BY member_id, occurred_at"""


# --------------------------------------------------------------------------------------------
# The run


async def wait_published(conn: asyncpg.Connection, timeout: float) -> tuple[int, float]:
    """Polls until the relay has published every outbox row; returns what is left and the seconds."""
    t = time.perf_counter()
    deadline = time.monotonic() + timeout
    next_note = time.monotonic() + 10
    while True:
        pending = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        if pending == 0 or time.monotonic() > deadline:
            return pending, time.perf_counter() - t
        if time.monotonic() >= next_note:
            log(f"  relay: {pending:,} events still to publish")
            next_note = time.monotonic() + 10
        await asyncio.sleep(0.2)


async def timed_job(app, stack: PrivateStack, label: str) -> dict:
    from members.service_layer import analytics

    log(f"{label}")
    app_cpu, pg_cpu = cpu_seconds(os.getpid()), cpu_seconds(stack.pg_pid, children=True)
    t = time.perf_counter()
    summary = await analytics.run(app.state.commands, app.state.settings, NOW)
    seconds = time.perf_counter() - t
    log(f"  {seconds:.1f} s, {summary['published']:,} published, {summary['snapshots_changed']:,} snapshots changed")
    return {"seconds": seconds, "summary": summary, "cpu_app_s": cpu_seconds(os.getpid()) - app_cpu,
            "cpu_pg_s": cpu_seconds(stack.pg_pid, children=True) - pg_cpu}


async def run(args: argparse.Namespace, stack: PrivateStack, results: dict) -> None:
    stack.start_postgres()
    log(f"PostgreSQL pid {stack.pg_pid}")
    # The app's relay needs a broker to start; it publishes the first run's events to it.
    stack.start_broker()
    log(f"Tansu pid {stack.broker.pid if stack.broker else None} on port {stack.broker_port}")
    await migrate_members(stack)
    _, public = generate_keypair()
    app = members_app(stack, public, consume_events=False)
    conn = await stack.connect()
    try:
        async with app.router.lifespan_context(app):
            log(f"seeding {args.members:,} members and {args.purchases:,} purchases")
            t = time.perf_counter()
            await seed(app.state.sessions, args.members, args.purchases, random.Random(args.seed))
            await conn.execute("ANALYZE")  # a database that grew over time has statistics
            results["seed_s"] = time.perf_counter() - t
            log(f"  seeded in {results['seed_s']:.1f} s")

            results["first"] = await timed_job(app, stack, "first run")
            left, seconds = await wait_published(conn, args.drain_timeout)
            results["relay"] = {"left": left, "seconds": seconds}
            results["rerun"] = await timed_job(app, stack, "rerun, same clock")
            # One more sale, as a till would add it between two runs: the stored results are stale.
            await conn.execute(
                "INSERT INTO purchase (sale_event_id, store_id, pos_txn_id, member_id, occurred_at, total, discount,"
                " returned, returned_paid, payment, received_at, attributed_at)"
                " VALUES ('bench-new', 'S001', 'T-new', 'm0000000', $1, 50000, 0, 0, 0, 'cash', $1, $1)",
                NOW - timedelta(hours=1))
            results["after_sale"] = await timed_job(app, stack, "after one new sale, same clock")

            log("raw limits")
            window_start = NOW - timedelta(days=app.state.settings.analytics_window_days)
            per_member: list = []

            async def count() -> None:
                await conn.fetchval("SELECT count(*) FROM purchase")

            results["raw_count_s"] = await timed(count, args.runs)

            async def aggregate() -> None:
                per_member[:] = await conn.fetch(PER_MEMBER, window_start, NOW)

            async def job_read() -> None:
                await conn.fetch(JOB_READ, NOW)

            results["raw_aggregate_s"] = await timed(aggregate, args.runs)
            results["raw_read_s"] = await timed(job_read, args.runs)
            results["raw_insert_per_s"], results["envelope_bytes"] = await raw_outbox_insert_rate(conn, args.raw_rows)
            results["checks"] = await checks(conn, args, results, per_member)
    finally:
        await conn.close()


async def checks(conn: asyncpg.Connection, args: argparse.Namespace, results: dict, per_member: list) -> list:
    """(label, measured, expected): the job's figures against counts taken straight from the tables."""
    first, rerun, after = (results[k]["summary"] for k in ("first", "rerun", "after_sale"))
    window = [r[2] for r in per_member if r[2] is not None and r[2] > 0]  # amounts as stored: fen
    outbox = await conn.fetchrow("SELECT count(*) AS n, count(DISTINCT key) AS members FROM outbox WHERE event_type = $1",
                                 MEMBER_ATTRIBUTES)
    return [
        ("first run: members scored", first["members_total"], args.members),
        ("first run: events published (one per member)", first["published"], args.members),
        ("first run: members in a value class", sum(first["classes"].values()), args.members),
        # The aggregate is taken at the end, with the new sale.
        ("after a new sale: buyers in the window", after["buyers"], len(window)),
        ("after a new sale: window spend", Decimal(after["window_spend_total"]), Decimal(sum(window)).scaleb(-MoneyColumn.scale)),
        ("outbox: attributes events", outbox["n"], args.members + after["published"]),
        ("outbox: members with an attributes event", outbox["members"], args.members),
        ("snapshots (member_value rows)", await conn.fetchval("SELECT count(*) FROM member_value"), args.members),
        ("runs recorded", await conn.fetchval("SELECT count(*) FROM value_analytics_run"), 3),
        ("rerun: members scored", rerun["members_total"], args.members),
        ("rerun: events published", rerun["published"], 0),
        ("rerun: snapshots changed", rerun["snapshots_changed"], 0),
        ("rerun: the first run's results reused", rerun["reused"], True),
        ("after a new sale: scored again", after["reused"], False),
        ("after a new sale: its member's snapshot changed", after["snapshots_changed"] >= 1, True),
        ("after a new sale: window spend grew by it", Decimal(after["window_spend_total"]) - Decimal(first["window_spend_total"]),
         Decimal("500.00")),
    ]


def report(args: argparse.Namespace, results: dict) -> bool:
    """Prints the figures; returns whether every correctness check held."""
    lines = ["", f"=== Value analytics benchmark: {args.members:,} members, {args.purchases:,} purchases, "
             f"{os.cpu_count()} CPUs ==="]

    def row(label: str, value: str) -> None:
        lines.append(f"  {label:<64} {value}")

    def heading(title: str) -> None:
        lines.extend(("", title))

    if "seed_s" in results:
        row("seed (bulk INSERTs through the app's sessions, then ANALYZE)", f"{results['seed_s']:9.1f} s")
    raw = results.get("raw_insert_per_s")
    if raw:
        heading("Raw limits (same machine, same run)")
        row(f"PostgreSQL multi-row INSERT, outbox rows (~{results['envelope_bytes']} B envelopes)", f"{raw:9,.0f} rows/s")
        row(f"SELECT count(*) FROM purchase (median of {args.runs})", f"{results['raw_count_s']:9.3f} s")
        row(f"aggregate over purchase, GROUP BY member (median of {args.runs})", f"{results['raw_aggregate_s']:9.3f} s")
        row("read of the purchase rows the job reads, in its order", f"{results['raw_read_s']:9.3f} s")
    for key, title in (("first", "First run"), ("rerun", "Rerun (same clock)"), ("after_sale", "After one new sale (same clock)")):
        job = results.get(key)
        if not job:
            continue
        heading(title)
        row("seconds", f"{job['seconds']:9.1f} s")
        row("members/s", f"{args.members / job['seconds']:9,.0f}")
        row("events published", f"{job['summary']['published']:9,}")
        row("snapshots written or changed", f"{job['summary']['snapshots_changed']:9,}")
        row("CPU seconds: this process (the job) / PostgreSQL", f"{job['cpu_app_s']:9.1f} / {job['cpu_pg_s']:.1f}")
        relay = results.get("relay") if key == "first" else None
        if relay:
            state = "all published" if relay["left"] == 0 else f"{relay['left']:,} NOT published"
            row(f"then the relay to the broker ({state}; not part of the run)", f"{relay['seconds']:9.1f} s")
    first, rerun = results.get("first"), results.get("rerun")
    if raw and first and rerun:
        published = first["summary"]["published"]
        heading("Ratios")
        row(f"first run / raw INSERT of its {published:,} outbox rows ({published / raw:.2f} s)",
            f"{first['seconds'] / (published / raw):9.1f} x")
        row("events published per s / raw outbox rows per s", f"{published / first['seconds'] / raw:9.1%}")
        row("rerun / raw count over purchase", f"{rerun['seconds'] / results['raw_count_s']:9.1f} x")
        row("rerun / raw aggregate over purchase", f"{rerun['seconds'] / results['raw_aggregate_s']:9.1f} x")
        row("rerun / raw read of the rows it reads", f"{rerun['seconds'] / results['raw_read_s']:9.1f} x")
    held = True
    if "checks" in results:
        heading("Checks")
        for label, got, want in results["checks"]:
            held = held and got == want
            row(label, f"{got!s:>14} / {want!s:<14} {'OK' if got == want else 'WRONG'}")
    heading("Goals")
    for job, label, goal in ((first, "first run", GOAL_FIRST_RUN_S), (rerun, "rerun", GOAL_RERUN_S)):
        verdict = f"{job['seconds']:9.1f} s   {'PASS' if job['seconds'] < goal else 'MISS'}" if job else "incomplete"
        row(f"{label} < {goal:.0f} s", verdict)
    print("\n".join(lines), flush=True)
    return held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000, help="members seeded (default 100000)")
    parser.add_argument("--purchases", type=int, default=200_000, help="purchases seeded (default 200000)")
    parser.add_argument("--raw-rows", type=int, default=0, help="rows of the raw outbox insert (default: --members)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each raw query (default 5)")
    parser.add_argument("--drain-timeout", type=float, default=300.0,
                        help="seconds to wait for the relay to publish the first run's events before the rerun")
    parser.add_argument("--seed", type=int, default=20261123, help="random seed of the data")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (database files, logs)")
    args = parser.parse_args()
    args.raw_rows = args.raw_rows or args.members

    stack = PrivateStack(Path(tempfile.mkdtemp(prefix="crm-bench-analytics-")), "members")
    results: dict = {}
    code = run_bench(stack, lambda: run(args, stack, results), keep=args.keep)
    if not report(args, results) and code == 0:
        code = 2
    return code


if __name__ == "__main__":
    sys.exit(main())
