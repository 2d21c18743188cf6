"""Information base benchmark: level 1 (communities ranked) at the chain's scale on PostgreSQL.

Starts an embedded PostgreSQL and Tansu, migrates a members database with the service's own
migrations, bulk-loads 100,000 members and 1,000,000 purchase lines (with the read model the
event path would have built from them), then times level 1 through the real HTTP route (the
members app in-process, httpx ASGI transport, a real bearer token) and the query alone, next to
the raw limits of this machine measured in the same run. Prints the figures, their ratios and
PASS/MISS against the goal; it reports, it never fails a build.

    .venv/bin/python bench/members_infobase.py [--members 100000] [--lines 1000000] [--runs 20]

Everything it starts is stopped by process id when it ends, on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from _support import PrivateStack, log, members_app, migrate_members, run_bench

from shared.auth import Role, TokenIssuer, generate_keypair

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

GOAL_S = 0.200
STORES = ("S001", "S002", "S003", "S004")
ZONE = ZoneInfo("Asia/Shanghai")
LAST_DAY = date(2026, 11, 22)
DAYS = 365
MEMBERS_PER_COMMUNITY = 200
LINES_PER_SALE = (1, 7)  # uniform, 4 on average
ANONYMOUS = 0.10


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --------------------------------------------------------------------------------------------
# Bulk load: the same tables the migrations create, filled with COPY


def local_instant(day: date, rng: random.Random) -> datetime:
    """A moment during opening hours (08:00-22:00 local) of a business day, in UTC."""
    return (datetime.combine(day, clock(8), ZONE) + timedelta(seconds=rng.randrange(14 * 3600))).astimezone(UTC)


async def load(conn: asyncpg.Connection, members: int, lines: int, rng: random.Random) -> dict:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    communities = max(1, members // MEMBERS_PER_COMMUNITY)
    community_ids = [str(uuid.uuid4()) for _ in range(communities)]
    await conn.copy_records_to_table("community", columns=["id", "name", "created_at"], records=[
        (cid, f"小区{i:04d}", now) for i, cid in enumerate(community_ids)])
    await conn.copy_records_to_table("community_alias", columns=["alias_key", "alias", "community_id"], records=[
        (f"小区{i:04d}", f"小区{i:04d}", cid) for i, cid in enumerate(community_ids)])

    # Four in five members live alone at their address; the rest share it with one other member.
    households: list[tuple[str, str]] = []
    member_home: list[tuple[str, str, str, str]] = []
    for i in range(members):
        if households and rng.random() < 0.2:
            household_id, community_id = households[-1]
        else:
            community_id = community_ids[rng.randrange(communities)]
            household_id = str(uuid.uuid4())
            households.append((household_id, community_id))
        home = STORES[rng.randrange(len(STORES))]
        member_home.append((f"m{i:07d}", household_id, community_id, home))
    await conn.copy_records_to_table("household", columns=["id", "community_id", "address_key", "created_at"], records=[
        (hid, cid, f"{n}幢", now) for n, (hid, cid) in enumerate(households)])

    sales: dict[str, list] = {}  # member id -> [spend fen, count, first, last]
    days: dict[tuple[str, str, date], list] = {}
    rollups: dict[tuple[str, str], list] = {}  # (household, store or "*") -> [community, spend, count]
    months: dict[tuple[str, date, str, str], list] = {}  # (store or "*", month, community, household) -> [spend, count]
    purchase_rows, line_rows = [], []
    purchase_id, written = 0, 0
    while written < lines:
        purchase_id += 1
        count = min(rng.randint(*LINES_PER_SALE), lines - written)
        member = None if rng.random() < ANONYMOUS else member_home[rng.randrange(members)]
        store = member[3] if member and rng.random() < 0.7 else STORES[rng.randrange(len(STORES))]
        day = LAST_DAY - timedelta(days=rng.randrange(DAYS))
        at = local_instant(day, rng)
        total = 0
        for line_no in range(1, count + 1):
            qty, price = rng.randint(1, 3), rng.randint(150, 9900)
            line_rows.append((purchase_id, line_no, f"SKU{rng.randrange(5000):05d}", "商品", "grocery", qty * 1000, price, qty * price))
            total += qty * price
        returned = total // 2 if rng.random() < 0.03 else 0
        purchase_rows.append((purchase_id, f"bench:{purchase_id}", store, f"T{purchase_id:09d}",
                              member[0] if member else None, at, total, returned, "cash", at, at if member else None))
        written += count
        if member is None:
            continue
        stats = sales.setdefault(member[0], [0, 0, at, at])
        stats[0] += total - returned
        stats[1] += 1
        stats[2], stats[3] = min(stats[2], at), max(stats[3], at)
        row = days.setdefault((member[0], store, day), [member[2], member[1], 0, 0, at])
        row[2] += total - returned
        row[3] += 1
        row[4] = max(row[4], at)
        for key in ((member[1], store), (member[1], "*")):
            rollup = rollups.setdefault(key, [member[2], 0, 0])
            rollup[1] += total - returned
            rollup[2] += 1
        for month_store in (store, "*"):
            month = months.setdefault((month_store, day.replace(day=1), member[2], member[1]), [0, 0, day])
            month[0] += total - returned
            month[1] += 1
            month[2] = max(month[2], day)

    member_rows = []
    for member_id, household_id, community_id, home in member_home:
        spend, count, first, last = sales.get(member_id, [0, 0, None, None])
        n = int(member_id[1:])
        member_rows.append((member_id, f"88{n:011d}", "会员", f"139{n:08d}", f"h{n}", "小区", community_id, household_id,
                            "地址", "retail", home, spend, count, first, last, now))
    await conn.copy_records_to_table("member", columns=[
        "id", "card_no", "name", "phone", "phone_hmac", "community", "community_id", "household_id", "address", "channel",
        "home_store_id", "lifetime_spend", "purchase_count", "first_purchase_at", "last_purchase_at", "created_at",
    ], records=member_rows)
    await conn.copy_records_to_table("purchase", columns=[
        "id", "sale_event_id", "store_id", "pos_txn_id", "member_id", "occurred_at", "total", "returned", "payment",
        "received_at", "attributed_at",
    ], records=purchase_rows)
    await conn.copy_records_to_table("purchase_line", columns=[
        "purchase_id", "line_no", "sku", "name", "category", "qty", "unit_price", "amount"], records=line_rows)
    await conn.execute("SELECT setval(pg_get_serial_sequence('purchase', 'id'), $1)", purchase_id)
    await conn.copy_records_to_table("infobase_member_day", columns=[
        "member_id", "store_id", "business_day", "community_id", "household_id", "spend", "purchases", "last_purchase_at",
    ], records=[(m, s, d, *values) for (m, s, d), values in days.items()])
    await conn.copy_records_to_table("infobase_household_store", columns=[
        "household_id", "store_id", "community_id", "spend", "purchases",
    ], records=[(h, s, *values) for (h, s), values in rollups.items()])
    previous: dict[tuple[str, str, str], date] = {}  # each month row points at the last day of the one before
    month_rows = []
    for key in sorted(months):
        month_store, _, community_id, household_id = key
        month_rows.append((*key, *months[key], previous.get((month_store, community_id, household_id))))
        previous[(month_store, community_id, household_id)] = months[key][2]
    await conn.copy_records_to_table("infobase_household_month", columns=[
        "store_id", "month", "community_id", "household_id", "spend", "purchases", "last_day", "prev_day",
    ], records=month_rows)
    await conn.execute("VACUUM ANALYZE")
    return {"communities": communities, "households": len(households), "members": members,
            "purchases": purchase_id, "lines": len(line_rows), "read_model_rows": len(days),
            "rollup_rows": len(rollups), "month_rows": len(months)}


async def check_read_model(conn: asyncpg.Connection) -> None:
    """The loaded read model agrees with the sales it summarises, as the event path would keep it."""
    expected = await conn.fetchval("SELECT sum(total - returned) FROM purchase WHERE member_id IS NOT NULL")
    for table, where in (("infobase_member_day", ""), ("infobase_household_store", " WHERE store_id = '*'"),
                         ("infobase_household_month", " WHERE store_id = '*'")):
        loaded = await conn.fetchval(f"SELECT sum(spend) FROM {table}{where}")
        if expected != loaded:
            raise RuntimeError(f"{table} spend {loaded} differs from the purchases' {expected}")


# --------------------------------------------------------------------------------------------
# Timing


async def timed(probe: Callable[[], Awaitable[object]], runs: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        await probe()
    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await probe()
        seconds.append(time.perf_counter() - t0)
    return seconds


async def run(args: argparse.Namespace, stack: PrivateStack, results: dict) -> None:
    from sqlalchemy.dialects import postgresql

    from members.service_layer.infobase_queries import CommunityOrder, Period, community_ranking, rank_communities

    stack.start_postgres()
    log(f"PostgreSQL pid {stack.pg_pid}")
    stack.start_broker()
    log(f"Tansu pid {stack.broker.pid if stack.broker else None} on port {stack.broker_port}")
    await migrate_members(stack)
    log("migrated; loading")
    conn = await stack.connect()
    t0 = time.perf_counter()
    sizes = await load(conn, args.members, args.lines, random.Random(args.seed))
    results["load_s"] = time.perf_counter() - t0
    await check_read_model(conn)
    sizes["read_model_bytes"] = await conn.fetchval(
        "SELECT pg_total_relation_size('infobase_member_day') + pg_total_relation_size('infobase_household_store')"
        " + pg_total_relation_size('infobase_household_month')")
    results["sizes"] = sizes
    log(f"loaded in {results['load_s']:.1f}s: {sizes}")
    if args.explain:
        for name, period in (("no filter", Period(ZONE)), ("last 30 days", Period(ZONE, None, LAST_DAY - timedelta(days=29), LAST_DAY)),
                             ("whole year as dates", Period(ZONE, None, LAST_DAY - timedelta(days=DAYS - 1), LAST_DAY))):
            sql = community_ranking(period, CommunityOrder.HOUSEHOLDS, 200, 0).compile(
                dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
            plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            print(f"\n-- {name}\n" + "\n".join(r[0] for r in plan), flush=True)

    private, public = generate_keypair()
    app = members_app(stack, public)
    token = TokenIssuer(private).mint("bench-marketing", Role.MARKETING)
    month = {"from": (LAST_DAY - timedelta(days=29)).isoformat(), "to": LAST_DAY.isoformat()}
    cases = {
        "no filter": {},
        "store S002": {"store_id": "S002"},
        "last 30 days": month,
        "store + 30 days": {"store_id": "S002", **month},
        "by spend": {"sort": "spend"},
        # The worst case for dates: a range covering the whole history groups every day row.
        "whole year as dates": {"from": (LAST_DAY - timedelta(days=DAYS - 1)).isoformat(), "to": LAST_DAY.isoformat()},
    }
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://members",
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            sessions = app.state.sessions

            async def select_1() -> None:
                async with sessions() as s:
                    await (await s.connection()).exec_driver_sql("SELECT 1")

            async def seq_scan() -> None:
                async with sessions() as s:
                    await (await s.connection()).exec_driver_sql(
                        "SELECT count(*), sum(spend) FROM infobase_member_day")

            async def health() -> None:
                (await client.get("/health/live")).raise_for_status()

            results["raw"] = {
                "SELECT 1 round trip": await timed(select_1, args.runs),
                "seq scan of the read model": await timed(seq_scan, args.runs),
                "trivial GET in-process": await timed(health, args.runs),
            }
            results["http"], results["query"] = {}, {}
            for name, params in cases.items():
                async def http(params: dict = params) -> None:
                    r = await client.get("/v1/infobase/communities", params={**params, "limit": 200})
                    r.raise_for_status()

                period = Period(ZONE, params.get("store_id"), date.fromisoformat(params["from"]) if "from" in params else None,
                                date.fromisoformat(params["to"]) if "to" in params else None)
                order = CommunityOrder(params.get("sort", "households"))

                async def query(period: Period = period, order: CommunityOrder = order) -> None:
                    async with sessions() as s:
                        await rank_communities(s, period, order, 200, 0)

                results["http"][name] = await timed(http, args.runs)
                results["query"][name] = await timed(query, args.runs)
                log(f"{name}: HTTP p50 {pct(results['http'][name], 0.5) * 1000:.1f} ms")
            results["check"] = await check_months_answer_as_days(sessions, conn, cases["whole year as dates"])


DAYS_ALONE = """
SELECT community_id, count(*), sum(spend), sum(purchases) FROM (
  SELECT community_id, household_id, sum(spend) AS spend, sum(purchases) AS purchases FROM infobase_member_day
  WHERE business_day BETWEEN $1 AND $2 GROUP BY community_id, household_id) AS h
GROUP BY community_id"""


async def check_months_answer_as_days(sessions, conn: asyncpg.Connection, params: dict) -> str:
    """Level 1 over the range as the service answers it (month rows and the days around them)
    against the day rows alone, every community."""
    from decimal import Decimal

    from members.service_layer.infobase_queries import CommunityOrder, Period, rank_communities

    first, last = date.fromisoformat(params["from"]), date.fromisoformat(params["to"])
    async with sessions() as s:
        ranked, _ = await rank_communities(s, Period(ZONE, None, first, last), CommunityOrder.HOUSEHOLDS, 100_000, 0)
    answered = {r.community_id: (r.households, r.spend, r.purchases) for r in ranked if r.households}
    alone = {r[0]: (r[1], Decimal(r[2]).scaleb(-2), r[3]) for r in await conn.fetch(DAYS_ALONE, first, last)}
    if answered != alone:
        raise RuntimeError(f"level 1 over {first}..{last} differs from the day rows alone in "
                           f"{len(set(answered.items()) ^ set(alone.items()))} communities")
    return f"level 1 over {first}..{last} equals the day rows alone in all {len(alone):,} communities"


def report(results: dict) -> None:
    def ms(values: list[float], q: float) -> str:
        return f"{pct(values, q) * 1000:8.1f}"

    sizes = results["sizes"]
    print()
    print(f"Data: {sizes['members']:,} members, {sizes['households']:,} households, {sizes['communities']:,} communities, "
          f"{sizes['purchases']:,} sales, {sizes['lines']:,} purchase lines; read model {sizes['read_model_rows']:,} day rows, "
          f"{sizes['month_rows']:,} household month rows and {sizes['rollup_rows']:,} household rows ({sizes['read_model_bytes'] / 1e6:.1f} MB with indexes); loaded in {results['load_s']:.1f} s")
    print(f"Check: {results['check']}")
    scan = pct(results["raw"]["seq scan of the read model"], 0.5)
    print(f"\n{'raw limits of this machine':46} {'p50 ms':>8} {'p95 ms':>8}")
    for name, values in results["raw"].items():
        print(f"  {name:44} {ms(values, 0.5)} {ms(values, 0.95)}")
    print(f"\n{'level 1 (200 communities per page)':46} {'p50 ms':>8} {'p95 ms':>8} {'x scan':>7}  goal p95 < 200 ms")
    for name in results["http"]:
        for kind in ("http", "query"):
            values = results[kind][name]
            verdict = ("PASS" if pct(values, 0.95) < GOAL_S else "MISS") if kind == "http" else ""
            label = f"{name}, {'through HTTP' if kind == 'http' else 'query alone'}"
            print(f"  {label:44} {ms(values, 0.5)} {ms(values, 0.95)} {pct(values, 0.5) / scan:7.1f}  {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=100_000, help="members loaded (default 100000)")
    parser.add_argument("--lines", type=int, default=1_000_000, help="purchase lines loaded (default 1000000)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each measurement (default 20)")
    parser.add_argument("--seed", type=int, default=20261123, help="random seed of the data")
    parser.add_argument("--explain", action="store_true", help="print PostgreSQL's plans of level 1 after loading")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (database files, logs)")
    args = parser.parse_args()

    stack = PrivateStack(Path(tempfile.mkdtemp(prefix="crm-bench-infobase-")), "members")
    results: dict = {}
    code = run_bench(stack, lambda: run(args, stack, results), keep=args.keep)
    if code == 0:
        report(results)
    return code


if __name__ == "__main__":
    sys.exit(main())
