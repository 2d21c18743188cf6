"""Members backlog benchmark: how many POS sales per second the members consumer records.

Starts a private stack (embedded PostgreSQL, Tansu, the members service as a uvicorn process), lets
the service migrate its database, stops it and loads the members straight into their tables
(communities, households, members with cards and phone digests). Then it writes a backlog of
`purchase_made` events to the POS topic as the gateway would (binary mode, keyed by the customer,
each with its till's credential): known cards, known phones, cards not registered yet and
anonymous sales, with redeliveries mixed in (the same event twice, and the same sale under a new
event id). It starts the service again and times how fast the backlog is recorded, then checks
that every sale was recorded once, that spend, purchase counts, the information base and the
`purchase_attributed` announcements match what the benchmark computed on its own. The raw
PostgreSQL insert rate of purchase-shaped rows and the raw Kafka produce and consume rates are
measured in the same run, on the same machine.

    .venv/bin/python bench/members_backlog.py [--sales 100000] [--members 20000] [--batch-size 2000] [--profile DIR]

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
from decimal import Decimal
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

from shared.auth import Role, TokenIssuer, ensure_dev_keypair
from shared.events import contracts as c
from shared.events.envelope import Envelope, new_event, sale_event_id
from shared.events.registry import PURCHASE_MADE, Topics
from shared.pseudonyms import phone_hmac

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

GOAL_SALES_PER_S = 3000.0
SQL_SHOWN = 20  # statements listed by --sql-stats
PREFIX = "bench."
PEPPER = "bench-identity-pepper-0123456789"
STORES = ("S001", "S002", "S003", "S004")
MEMBERS_PER_COMMUNITY = 200
# What identifies the customer of a sale: a registered card, a registered phone, a card nobody
# registered yet (kept unattributed), nobody.
MIX = (("card", 0.70), ("phone", 0.10), ("unknown", 0.10), ("anonymous", 0.10))
CATEGORIES = [("grain", "5.90", "89.00"), ("fresh", "3.20", "66.00"), ("dairy", "4.50", "39.90"),
              ("household", "9.90", "199.00")]


# --------------------------------------------------------------------------------------------
# Workload


async def load_members(stack: OneService, members: int) -> list[tuple[str, str, str]]:
    """Communities, households (one in five shared by two members) and members, by COPY;
    answers (member id, card number, phone) of each."""
    conn = await stack.connect()
    try:
        now = datetime.now(UTC)
        communities = [str(uuid.uuid4()) for _ in range(max(1, members // MEMBERS_PER_COMMUNITY))]
        await conn.copy_records_to_table("community", columns=["id", "name", "created_at"], records=[
            (cid, f"小区{i:04d}", now) for i, cid in enumerate(communities)])
        households, rows, people = [], [], []
        for i in range(members):
            if households and i % 5 == 4:
                household, community = households[-1]
            else:
                household, community = str(uuid.uuid4()), communities[i % len(communities)]
                households.append((household, community))
            member_id, card, phone = str(uuid.uuid4()), f"88{i:011d}", f"139{i:08d}"
            rows.append((member_id, card, "会员", phone, phone_hmac(phone, PEPPER), "小区", community, household, "地址",
                         "retail", STORES[i % len(STORES)], 0, 0, "member", "unspecified", now))
            people.append((member_id, card, phone))
        await conn.copy_records_to_table("household", columns=["id", "community_id", "address_key", "created_at"],
                                         records=[(h, cid, f"{n}幢", now) for n, (h, cid) in enumerate(households)])
        await conn.copy_records_to_table("member", columns=[
            "id", "card_no", "name", "phone", "phone_hmac", "community", "community_id", "household_id", "address",
            "channel", "home_store_id", "lifetime_spend", "purchase_count", "tier", "gender", "created_at",
        ], records=rows)
        await conn.execute("ANALYZE")
        return people
    finally:
        await conn.close()


def make_sales(rng: random.Random, people: list[tuple[str, str, str]], n: int, tokens: dict[str, str]) -> tuple[list, dict]:
    """Envelopes of `n` distinct sales and what they must add up to once recorded."""
    start = datetime.now(UTC) - timedelta(hours=3)
    kinds, weights = zip(*MIX, strict=True)
    envelopes: list[Envelope] = []
    expected = {"attributed": 0, "spend": Decimal("0.00"), "unattributed_cards": 0}
    for i in range(n):
        store = STORES[i % len(STORES)]
        kind = rng.choices(kinds, weights)[0]
        _, card, phone = people[rng.randrange(len(people))]
        customer = {
            "card": c.CustomerRef(card_no=card),
            "phone": c.CustomerRef(phone_hmac=phone_hmac(phone, PEPPER)),
            "unknown": c.CustomerRef(card_no=f"77{i:011d}"),
            "anonymous": None,
        }[kind]
        lines = []
        for k in range(rng.randint(1, 4)):
            category, low, high = rng.choice(CATEGORIES)
            price = Decimal(rng.uniform(float(low), float(high))).quantize(Decimal("0.01"))
            lines.append(c.SaleLine(sku=f"69{k:011d}", name="商品", category=category, qty=Decimal(1), unit_price=price,
                                    amount=price))
        total = sum((ln.amount for ln in lines), Decimal("0.00"))
        txn = f"{store}-M-{i:08d}"
        sale = c.PurchaseMadeV1(store_id=store, pos_txn_id=txn, occurred_at=start + timedelta(milliseconds=i),
                                customer=customer, lines=lines, total=total, payment="wechat")
        envelopes.append(new_event(PURCHASE_MADE, sale, source="pos/bench", event_id=sale_event_id(store, txn),
                                   credential=tokens[store]))
        if kind in ("card", "phone"):
            expected["attributed"] += 1
            expected["spend"] += total
        elif kind == "unknown":
            expected["unattributed_cards"] += 1
    return envelopes, expected


def pos_key(envelope: Envelope) -> str:
    """The record key the gateway gives a sale: the customer reference, else the store."""
    customer = envelope.data.get("customer")
    if customer:
        return f"card:{customer['card_no']}" if customer.get("card_no") else f"phone:{customer['phone_hmac']}"
    return f"store:{envelope.data['store_id']}"


async def raw_insert_rate(stack: OneService, rows: int, batch: int) -> float:
    """Rows/s of plain multi-row inserts into a purchase-shaped table, one transaction per batch."""
    conn = await stack.connect("rawbench")
    try:
        await conn.execute(
            "CREATE TABLE raw_purchase (id serial PRIMARY KEY, sale_event_id varchar(200) NOT NULL,"
            " store_id varchar(32) NOT NULL, pos_txn_id varchar(64) NOT NULL, member_id varchar(36),"
            " card_no varchar(32), occurred_at timestamptz NOT NULL, total bigint NOT NULL, payment varchar(32) NOT NULL,"
            " received_at timestamptz NOT NULL, UNIQUE (store_id, pos_txn_id))"
        )
        now = datetime.now(UTC)
        data = [(str(uuid.uuid4()), "S001", f"R{i:09d}", f"m{i % 5000}", f"88{i:011d}", now, 4990 + i % 500, "wechat", now)
                for i in range(rows)]
        sql = ("INSERT INTO raw_purchase (sale_event_id, store_id, pos_txn_id, member_id, card_no, occurred_at, total,"
               " payment, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
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
    if args.sql_stats:
        await stack.enable_statement_stats()
    await stack.create_databases("members", "rawbench")
    stack.start_broker(stack.logs / "broker.log")
    topic = f"{PREFIX}{Topics.POS_PURCHASES}"
    await ensure_topic(stack.bootstrap, topic)

    log(f"raw limits: PostgreSQL inserts ({args.raw_rows} rows in batches of {args.batch_size})")
    results["raw_insert_per_s"] = await raw_insert_rate(stack, args.raw_rows, args.batch_size)

    log("starting members once, to migrate its database")
    await stack.start_service(args.batch_size)
    stack.stop_service()
    log(f"loading {args.members} members")
    people = await load_members(stack, args.members)

    private, _ = ensure_dev_keypair(stack.data_dir / "keys")
    issuer = TokenIssuer(private)
    tokens = {s: issuer.mint(f"till-{s}", Role.POS, store_id=s) for s in STORES}
    log(f"writing a backlog of {args.sales} sales (+{args.duplicates:.0%} redelivered, +{args.resent:.0%} resent "
        "under new ids) while the service is stopped")
    sales, expected = make_sales(rng, people, args.sales, tokens)
    redelivered = rng.sample(sales, int(args.sales * args.duplicates))
    resent = [new_event(PURCHASE_MADE, c.PurchaseMadeV1.model_validate(e.data), source="pos/bench",
                        credential=e.crmcredential) for e in rng.sample(sales, int(args.sales * args.resent))]
    # Redeliveries and resends come after the original, as they would: the first event of a
    # transaction is the one that counts.
    backlog = sales + redelivered + resent
    results["produce_per_s"] = await produce(stack.bootstrap, topic, backlog, key=pos_key)
    results["backlog"] = len(backlog)
    results["consume_per_s"] = await raw_consume_rate(stack.bootstrap, topic, len(backlog), args.batch_size)

    db = await stack.connect()
    try:
        log(f"starting members (consumer batch size {args.batch_size}) and timing the drain")
        if args.sql_stats:
            await stack.reset_statement_stats()
        cpu_pg_before = cpu_seconds(stack.pg_pid, children=True)
        started = time.perf_counter()
        stack.spawn_service(args.batch_size)
        assert stack.pid is not None
        # Attached before the service is ready: it starts consuming the moment its partitions are
        # assigned, and the profile should see the whole drain.
        profilers = Profilers(args.profile, {"members": stack.pid})
        profilers.start()
        try:
            await stack.wait_ready(180.0)
            cpu_members_before = cpu_seconds(stack.pid)
            await wait_for(db, "SELECT count(*) FROM purchase", args.sales, args.drain_timeout, "sales recorded")
        finally:
            profilers.stop()
        results["drain_wall_s"] = time.perf_counter() - started
        results["cpu_members_s"] = cpu_seconds(stack.pid) - cpu_members_before
        results["cpu_pg_s"] = cpu_seconds(stack.pg_pid, children=True) - cpu_pg_before
        if args.sql_stats:
            results["sql"] = [(r["calls"], r["total_exec_time"], r["query"]) for r in await stack.statement_stats()]
        first, last = await db.fetchrow("SELECT min(received_at), max(received_at) FROM purchase")
        in_first = await db.fetchval("SELECT count(*) FROM purchase WHERE received_at = $1", first)
        span = (last - first).total_seconds()
        results["recording_span_s"] = span
        results["recorded_per_s"] = (args.sales - in_first) / span if span > 0 else float("nan")
        results["load_average"] = os.getloadavg()

        purchases = await db.fetchval("SELECT count(*) FROM purchase")
        attributed = await db.fetchval("SELECT count(*) FROM purchase WHERE member_id IS NOT NULL")
        waiting = await db.fetchval("SELECT count(*) FROM purchase WHERE member_id IS NULL AND card_no LIKE '77%'")
        counted, spend = await db.fetchrow("SELECT coalesce(sum(purchase_count), 0), coalesce(sum(lifetime_spend), 0) FROM member")
        day_rows = await db.fetchval("SELECT coalesce(sum(purchases), 0) FROM infobase_member_day")
        all_stores = await db.fetchval("SELECT coalesce(sum(spend), 0) FROM infobase_household_store WHERE store_id = '*'")
        announced = await db.fetchval("SELECT count(*) FROM outbox WHERE event_type = 'crm.members.purchase_attributed.v1'")
        fen = int(expected["spend"] * 100)
        results["check"] = {
            "purchases == distinct sales": (purchases, args.sales),
            "attributed == sales by known card or phone": (attributed, expected["attributed"]),
            "unattributed sales of unknown cards": (waiting, expected["unattributed_cards"]),
            "sum of purchase counts == attributed": (counted, expected["attributed"]),
            "sum of lifetime spend (fen) == expected": (spend, fen),
            "day rows' purchases == attributed": (day_rows, expected["attributed"]),
            "household rollups' spend (fen) == expected": (all_stores, fen),
            "purchase_attributed announced == attributed": (announced, expected["attributed"]),
        }
    finally:
        await db.close()


def report(args: argparse.Namespace, results: dict) -> None:
    lines = ["", f"=== Members backlog benchmark: {args.sales} sales, {args.members} members, batch {args.batch_size}, "
             f"{os.cpu_count()} CPUs ==="]
    add = lines.append
    raw, produced = results.get("raw_insert_per_s"), results.get("produce_per_s")
    add("")
    add("Raw limits (same machine, same run)")
    if raw:
        add(f"  PostgreSQL multi-row INSERT, purchase-shaped rows          {raw:>10,.0f} rows/s")
    if produced:
        add(f"  Kafka produce of the backlog ({results['backlog']} events)          {produced:>10,.0f} msg/s")
    if results.get("consume_per_s"):
        add(f"  Kafka consume of the backlog, plain consumer, no parsing   {results['consume_per_s']:>10,.0f} msg/s")
    rate = results.get("recorded_per_s")
    if rate:
        add("")
        add("Recording by the members consumer (PostgreSQL)")
        add(f"  sales recorded, first to last committed batch              {rate:>10,.0f} sales/s "
            f"({results['recording_span_s']:.1f}s)")
        add(f"  whole drain incl. service start-up                         {args.sales / results['drain_wall_s']:>10,.0f} sales/s "
            f"({results['drain_wall_s']:.1f}s)")
        add(f"  CPU per sale: members {results['cpu_members_s'] * 1000 / args.sales:.3f} ms (consumer and relay), "
            f"PostgreSQL {results['cpu_pg_s'] * 1000 / args.sales:.3f} ms")
        add(f"  load average (1, 5, 15 min) at the end                     {' '.join(f'{x:.1f}' for x in results['load_average']):>10}")
        if raw:
            add(f"  sales recorded/s / raw insert rows/s                        {rate / raw:>10.1%}")
        if produced:
            add(f"  sales recorded/s / raw produce msg/s                        {rate / produced:>10.1%}")
    if results.get("sql"):
        add("")
        add(f"SQL statements of the drain, the most time first (pg_stat_statements; per sale of {args.sales})")
        add(f"  {'calls/sale':>10} {'µs/sale':>8}  statement")
        for calls, ms, query in results["sql"][:SQL_SHOWN]:
            text = " ".join(query.split())
            add(f"  {calls / args.sales:>10.3f} {ms * 1000 / args.sales:>8.1f}  {text[:150]}")
    check = results.get("check")
    if check:
        add("")
        add("Exactly once, after redeliveries")
        for label, (got, want) in check.items():
            add(f"  {label:<52} {got!s:>12} / {want!s:<12} {'OK' if got == want else 'WRONG'}")
    add("")
    add("Goal")
    ok = bool(rate and rate >= GOAL_SALES_PER_S and check and all(g == w for g, w in check.values()))
    add(f"  >= {GOAL_SALES_PER_S:,.0f} sales/s recorded with exactly-once effects    "
        f"{(f'{rate:,.0f}' if rate else 'incomplete'):>10}   {'PASS' if ok else 'MISS'}")
    print("\n".join(lines), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sales", type=int, default=100_000, help="distinct sales in the backlog (default 100000)")
    parser.add_argument("--members", type=int, default=20_000, help="members (default 20000)")
    parser.add_argument("--batch-size", type=int, default=2_000, help="consumer batch size (CRM_CONSUMER_BATCH_SIZE)")
    parser.add_argument("--in-flight", type=int, metavar="N",
                        help="partitions applied at once (CRM_CONSUMER_PARTITIONS_IN_FLIGHT; default: the service's own)")
    parser.add_argument("--duplicates", type=float, default=0.02, help="share of sales delivered twice (same event id)")
    parser.add_argument("--resent", type=float, default=0.01, help="share of sales resent under a new event id")
    parser.add_argument("--raw-rows", type=int, default=100_000, help="rows of the raw insert measurement")
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds to wait for the backlog to be recorded")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, database)")
    parser.add_argument("--sql-stats", action="store_true",
                        help="load pg_stat_statements and list the drain's SQL statements by time per sale")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="sample the members process with py-spy (pip install py-spy), GIL holders only, from its "
                             "start until drained; writes collapsed stacks to DIR/members.txt")
    args = parser.parse_args()

    stack = OneService(Path(tempfile.mkdtemp(prefix="crm-members-bench-")), "members", in_flight=args.in_flight,
                       prefix=PREFIX, env={"CRM_IDENTITY_PEPPER": PEPPER})
    results: dict = {}
    code = run_bench(stack, lambda: run(args, stack, results), keep=args.keep)
    report(args, results)
    return code


if __name__ == "__main__":
    sys.exit(main())
