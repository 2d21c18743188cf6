"""Campaign benchmarks: launching a coupon campaign to 100,000 members, and `validate` at the till.

Starts an embedded PostgreSQL with a campaigns and a gateway database, bulk-loads the campaigns
read model (customers with SMS consent and their cards, multi-row INSERTs: the event path is what
the consumer tests cover), then starts Tansu, the campaigns service and the gateway as uvicorn
processes with the launcher's own code (crm_cli.stack). Through the public API it creates a
segment matching everyone, a 满100减20 template and a campaign with a 10 % control group, a
message and the coupon, and times `POST /v1/campaigns/{id}/launch`; it checks what the launch wrote
(one coupon and one notification request per treated member, the control group held out). Once
the relay has published those events, 32 tills (one keep-alive connection and a POS token each)
validate baskets with the members' codes and cards for a fixed time, straight to campaigns and
through the gateway (the till's path): paced, each till once every `--pace` seconds as between
customers, and back to back, the most the stack answers (where latency is 32 / throughput by
Little's law). Raw limits measured in the same run: the rows the launch wrote inserted again into
copies of their tables, and a trivial authenticated GET through the same stack, in the same modes.

    .venv/bin/python bench/campaign_launch.py [--customers 100000] [--tills 32] [--seconds 30]

Exit code 0 whether the goals are met or not; 2 if a correctness check failed, 1 if the benchmark
could not run, 130 on Ctrl-C. Everything it starts is stopped by process id when it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _support import PrivateStack, cpu_seconds, insert_copy, log, run_bench

from crm_cli.demo import PRODUCTS
from crm_cli.stack import Stack as PlatformStack
from crm_cli.stack import StackConfig
from shared.auth import Role, TokenIssuer, ensure_dev_keypair
from shared.events.registry import CAMPAIGN_NOTIFICATION_REQUESTED, COUPON_ISSUED
from shared.migrations import upgrade

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

GOAL_LAUNCH_S = 60.0
GOAL_VALIDATE_P99_S = 0.050
SERVICES = ("campaigns", "gateway")
STORES = ("S001", "S002", "S003", "S004")
SEED_BATCH = 10_000
RAW_BATCH = 5_000
THRESHOLD, AMOUNT = Decimal("100"), Decimal("20")
# Matches every customer: the segment of the issue's figure is "100,000 members".
EVERYONE = {"field": "channel", "op": "in", "value": ["retail", "partner"]}


def pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))]


class Bench:
    """The embedded PostgreSQL (from _support) and the launcher's Stack on top of it; `stop()`
    ends the services and Tansu by pid (gateway first), then PostgreSQL."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pg = PrivateStack(root, "campaigns")
        self.platform = PlatformStack(StackConfig.on_free_ports(
            root / "data", SERVICES,
            env={"CRM_LOG_LEVEL": "WARNING"}, passthrough=(), own_session=True,
        ))

    def db_url(self, name: str) -> str:
        return f"postgresql+asyncpg://postgres@/{name}?host={self.pg.socket_dir}"

    def url(self, service: str) -> str:
        return self.platform.config.url(service)

    def pid(self, service: str) -> int | None:
        return self.platform.pids().get(service)

    def stop(self) -> None:
        self.platform.stop()
        self.pg.stop()


# --------------------------------------------------------------------------------------------
# Seed: the read model the campaigns consumer would have built from members' events


def card_of(i: int) -> str:
    return f"88{i:011d}"


async def seed(bench: Bench, customers: int, rng: random.Random) -> None:
    from sqlalchemy import insert
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlmodel.ext.asyncio.session import AsyncSession

    from campaigns.adapters.tables import MemberCardRow
    from campaigns.service_layer.segments import CUSTOMERS

    cards = MemberCardRow.__table__  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    engine = create_async_engine(bench.db_url("campaigns"))
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    try:
        async with sessions() as s, s.begin():
            for start in range(0, customers, SEED_BATCH):
                batch, card_rows = [], []
                for i in range(start, min(start + SEED_BATCH, customers)):
                    member_id = f"m{i:07d}"
                    batch.append({
                        "member_id": member_id, "registered_at": now - timedelta(days=rng.randint(30, 2000)),
                        "channel": "partner" if rng.random() < 0.2 else "retail",
                        "home_store_id": rng.choice(STORES), "community_id": f"C{rng.randint(1, 400):03d}",
                        "tier": "vip" if rng.random() < 0.05 else "member", "tier_at": None, "attributes_as_of": now,
                        "value_class": rng.choice(["key", "secondary", "ordinary"]), "recency": rng.randint(0, 5),
                        "frequency": rng.randint(0, 5), "monetary": rng.randint(0, 5),
                        "churn_risk": rng.choice(["low", "medium", "high"]), "days_since_last_purchase": None,
                        "birth_month": rng.randint(1, 12), "last_purchase_at": now - timedelta(hours=rng.randint(1, 9000)),
                        "lifetime_spend": Decimal(rng.randint(0, 3_000_000)).scaleb(-2),
                        # Everyone agreed to SMS: the marketing campaign then reaches the whole segment.
                        "consent_sms": True, "consent_sms_at": now, "consent_email": False, "consent_email_at": now,
                        "erased_at": None,
                    })
                    card_rows.append({"card_no": card_of(i), "member_id": member_id})
                await s.exec(insert(CUSTOMERS), params=batch)  # type: ignore[call-overload]
                await s.exec(insert(cards), params=card_rows)  # type: ignore[call-overload]
    finally:
        await engine.dispose()
    conn = await bench.pg.connect("campaigns")
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


# --------------------------------------------------------------------------------------------
# The launch


async def create_campaign(client: httpx.AsyncClient, marketing: dict[str, str], control: Decimal) -> tuple[str, str]:
    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        # Each create under a key of its own, as every create must carry one (a segment ignores it)
        r = await client.post(path, json=body, headers={**marketing, "Idempotency-Key": uuid.uuid4().hex})
        if r.status_code != 201:
            raise RuntimeError(f"POST {path}: HTTP {r.status_code} {r.text[:300]}")
        return dict(r.json())

    segment = await post("/v1/segments", {"name": "everyone", "rule": EVERYONE})
    template = await post("/v1/coupon-templates", {
        "name": "满100减20", "kind": "threshold", "amount": str(AMOUNT), "threshold": str(THRESHOLD),
        "validity": {"days": 30},
    })
    campaign = await post("/v1/campaigns", {
        "name": "满100减20 for everyone", "kind": "one_off", "segment_id": segment["id"],
        "coupon_template_id": template["id"], "control_share": str(control),
        "message": {"template": "coupon_offer", "params": {"offer": "满100减20"}}, "marketing": True, "channel": "sms",
    })
    return campaign["id"], template["id"]


async def check_launch(bench: Bench, campaign_id: str, answer: dict[str, Any], customers: int, control: Decimal,
                       since: datetime, errors: list[str]) -> dict[str, int]:
    """What the launch wrote, counted in the database and compared with its answer."""
    conn = await bench.pg.connect("campaigns")
    try:
        groups = dict(await conn.fetch(
            "SELECT control, count(*) FROM campaign_member WHERE campaign_id = $1 GROUP BY control", campaign_id))
        coupons = await conn.fetchval(
            "SELECT count(*) FROM coupon WHERE campaign_id = $1 AND code IS NOT NULL AND state = 'issued'", campaign_id)
        events = dict(await conn.fetch(
            "SELECT event_type, count(*) FROM outbox WHERE created_at >= $1 GROUP BY event_type", since))
    finally:
        await conn.close()
    found = {"treated": groups.get(False, 0), "control": groups.get(True, 0), "coupons": coupons,
             "coupon_issued": events.get(COUPON_ISSUED, 0), "requests": events.get(CAMPAIGN_NOTIFICATION_REQUESTED, 0)}
    if found["treated"] + found["control"] != customers:
        errors.append(f"launch: {found['treated']} + {found['control']} members reached, not {customers}")
    if (answer.get("treatment_size"), answer.get("control_size")) != (found["treated"], found["control"]):
        errors.append(f"launch: answered {answer.get('treatment_size')}/{answer.get('control_size')}, recorded {found}")
    if not found["treated"] == found["coupons"] == found["coupon_issued"] == found["requests"]:
        errors.append(f"launch: treated, coupons, coupon_issued and requests differ: {found}")
    share = found["control"] / customers if customers else 0
    if abs(share - float(control)) > 0.02:
        errors.append(f"launch: control share {share:.3f}, asked for {control}")
    return found


async def wait_published(bench: Bench, limit_s: float, campaign_id: str, treated: int) -> float | None:
    """Seconds until the relay has published every outbox row and the sender has taken in and sent
    every message the launch asked for, or None at the deadline: validate should not share the CPU
    with publishing 200,000 events and delivering 100,000 messages (a launch's aftermath, not a
    till's load)."""
    conn = await bench.pg.connect("campaigns")
    start = time.monotonic()
    busy = """SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL)
                   + ($2 - (SELECT count(*) FROM message WHERE campaign_id = $1))
                   + (SELECT count(*) FROM message WHERE status = 'queued')"""
    try:
        while await conn.fetchval(busy, campaign_id, treated):
            bench.platform.check_alive()
            if time.monotonic() - start > limit_s:
                return None
            await asyncio.sleep(0.5)
        # The consumer still reads the launch's own events back (the sender's requests among them):
        # wait until campaigns has gone quiet, under a tenth of a core over two seconds.
        pid = bench.pid("campaigns")
        while time.monotonic() - start <= limit_s:
            before = cpu_seconds(pid)
            await asyncio.sleep(2.0)
            if cpu_seconds(pid) - before < 0.2:
                break
        else:
            return None
    finally:
        await conn.close()
    return time.monotonic() - start


async def raw_inserts(bench: Bench, campaign_id: str, since: datetime) -> dict[str, Any]:
    """The rows the launch wrote, read back and inserted again into copies of their tables (same
    columns and indexes), RAW_BATCH rows per executemany, one transaction: the floor of the launch's
    writes on this machine. Also a plain 100,000-row insert of coupon-shaped rows alone."""
    conn = await bench.pg.connect("campaigns")
    out: dict[str, Any] = {}
    try:
        sources = {
            "campaign_member": ("SELECT * FROM campaign_member WHERE campaign_id = $1", campaign_id),
            "coupon": ("SELECT * FROM coupon WHERE campaign_id = $1", campaign_id),
            # id left to the copy's own sequence, as the outbox's is
            "outbox": ("SELECT event_id, event_type, topic, key, envelope, created_at, published_at,"
                       " kafka_partition, kafka_offset FROM outbox WHERE created_at >= $1", since),
        }
        loaded: dict[str, list[asyncpg.Record]] = {}
        for table, (query, arg) in sources.items():
            await conn.execute(f"DROP TABLE IF EXISTS raw_{table}")
            await conn.execute(f"CREATE TABLE raw_{table} (LIKE {table} INCLUDING ALL)")
            loaded[table] = await conn.fetch(query, arg)

        async def insert(table: str, rows: list[asyncpg.Record]) -> float:
            return await insert_copy(conn, table, rows, RAW_BATCH)

        coupons = loaded["coupon"]
        plain = coupons[:100_000]
        out["plain_rows"] = len(plain)
        out["plain_s"] = await insert("coupon", plain)
        await conn.execute("TRUNCATE raw_coupon")
        out["all_rows"] = sum(len(rows) for rows in loaded.values())
        out["all_s"] = sum([await insert(table, rows) for table, rows in loaded.items() if rows])
        for table in sources:
            await conn.execute(f"DROP TABLE raw_{table}")
    finally:
        await conn.close()
    return out


# --------------------------------------------------------------------------------------------
# The till


@dataclass
class Check:
    body: bytes
    ok: bool  # the basket reaches the threshold


def basket(rng: random.Random) -> tuple[list[dict[str, str]], Decimal]:
    lines, total = [], Decimal("0.00")
    for sku, name, category, price, _ in rng.sample(PRODUCTS, k=rng.randint(1, 4)):
        qty = Decimal(rng.randint(1, 3))
        amount = (Decimal(price) * qty).quantize(Decimal("0.01"))
        total += amount
        lines.append({"sku": sku, "name": name, "category": category, "qty": str(qty), "unit_price": price,
                      "amount": str(amount)})
    return lines, total


def plan_checks(rng: random.Random, holders: list[tuple[str, str]], store: str, tag: str, n: int) -> list[Check]:
    """`n` baskets for one till, each with one member's code and card; some stay under 100 yuan."""
    checks = []
    for i in range(n):
        code, card = rng.choice(holders)
        lines, total = basket(rng)
        body = {"store_id": store, "pos_txn_id": f"{store}-{tag}-{i:07d}", "member": {"card_no": card},
                "lines": lines, "codes": [code]}
        checks.append(Check(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), total >= THRESHOLD))
    return checks


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    wrong: int = 0
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def per_s(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def figures(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {"requests": len(lat), "per_s": self.per_s, "p50": pct(lat, 0.50), "p95": pct(lat, 0.95),
                "p99": pct(lat, 0.99), "errors": dict(self.errors), "wrong": self.wrong,
                "cpu_ms_per_request": {k: v * 1000 / len(lat) for k, v in self.cpu.items()} if lat else {}}


async def drive(bench: Bench, base_url: str, headers: list[dict[str, str]], seconds: float,
                request: Any, pace: float = 0.0) -> Run:
    """Each client sends `request(client, no, i, run)` until `seconds` have passed: back to back
    (`pace` 0: the most the stack answers), or one every `pace` seconds from a random offset, as a
    till does between customers; a request that is late because the last was slow goes at once."""
    run = Run()
    clients = [httpx.AsyncClient(base_url=base_url, timeout=30, headers=h) for h in headers]
    try:
        for no, c in enumerate(clients):  # connections opened outside the timed window
            await request(c, no, 0, run)
        run.latencies.clear()
        run.errors.clear()
        run.wrong = 0
        pids = {s: bench.pid(s) for s in SERVICES}
        cpu_before = {s: cpu_seconds(p) for s, p in pids.items()} | {"postgres": cpu_seconds(bench.pg.pg_pid, children=True)}
        start = time.perf_counter()
        stop_at = start + seconds

        async def worker(no: int, client: httpx.AsyncClient) -> None:
            due = start + random.random() * pace
            i = 1
            while (now := time.perf_counter()) < stop_at:
                if pace and due > now:
                    await asyncio.sleep(due - now)
                    continue
                await request(client, no, i, run)
                due += pace
                i += 1

        await asyncio.gather(*(worker(no, c) for no, c in enumerate(clients)))
        run.seconds = time.perf_counter() - start
        cpu_after = {s: cpu_seconds(p) for s, p in pids.items()} | {"postgres": cpu_seconds(bench.pg.pg_pid, children=True)}
        run.cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_before}
    finally:
        for c in clients:
            await c.aclose()
    return run


async def till_run(bench: Bench, base_url: str, path: str, tokens: list[str], plans: list[list[Check]],
                   seconds: float, pace: float) -> Run:
    async def request(client: httpx.AsyncClient, no: int, i: int, run: Run) -> None:
        plan = plans[no]
        check = plan[i % len(plan)]
        t = time.perf_counter()
        try:
            r = await client.post(path, content=check.body, headers={"content-type": "application/json"})
        except httpx.HTTPError as exc:
            run.errors[type(exc).__name__] = run.errors.get(type(exc).__name__, 0) + 1
            return
        run.latencies.append(time.perf_counter() - t)
        if r.status_code != 200:
            key = f"HTTP {r.status_code}"
            if key not in run.errors:
                log(f"  first {key}: {r.text[:300]}")
            run.errors[key] = run.errors.get(key, 0) + 1
            return
        answer = r.json()["codes"][0]
        if answer["ok"] != check.ok or (check.ok and Decimal(answer["discount"]) != AMOUNT):
            run.wrong += 1

    headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
    return await drive(bench, base_url, headers, seconds, request, pace)


async def get_run(bench: Bench, base_url: str, path: str, token: str, clients: int, seconds: float, pace: float) -> Run:
    async def request(client: httpx.AsyncClient, no: int, i: int, run: Run) -> None:
        t = time.perf_counter()
        r = await client.get(path)
        run.latencies.append(time.perf_counter() - t)
        if r.status_code != 200:
            run.errors[f"HTTP {r.status_code}"] = run.errors.get(f"HTTP {r.status_code}", 0) + 1

    return await drive(bench, base_url, [{"Authorization": f"Bearer {token}"}] * clients, seconds, request, pace)


# --------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, bench: Bench, results: dict[str, Any]) -> None:
    import campaigns

    rng = random.Random(args.seed)
    errors: list[str] = results.setdefault("errors", [])
    bench.pg.start_postgres()
    log(f"PostgreSQL pid {bench.pg.pg_pid}")
    await bench.pg.create_databases(*SERVICES)
    await asyncio.to_thread(upgrade, Path(campaigns.__file__).parent / "migrations", bench.db_url("campaigns"))
    t = time.perf_counter()
    await seed(bench, args.customers, rng)
    log(f"seeded {args.customers} customers and their cards in {time.perf_counter() - t:.1f}s")

    bench.platform.config.database_urls = {s: bench.db_url(s) for s in SERVICES}
    bench.platform.start()
    log("started " + ", ".join(f"{name} pid {pid}" for name, pid in bench.platform.pids().items()))
    await asyncio.to_thread(bench.platform.wait_ready, 120)
    private, _ = ensure_dev_keypair(bench.platform.config.data_dir / "keys")
    issuer = TokenIssuer(private)
    marketing = {"Authorization": f"Bearer {issuer.mint('bench-marketing', Role.MARKETING)}"}

    async with httpx.AsyncClient(base_url=bench.url("campaigns"), timeout=args.launch_timeout) as client:
        campaign_id, template_id = await create_campaign(client, marketing, args.control)
        since = datetime.now(UTC)
        pid = bench.pid("campaigns")
        cpu0 = (cpu_seconds(pid), cpu_seconds(bench.pg.pg_pid, children=True))
        t = time.perf_counter()
        r = await client.post(f"/v1/campaigns/{campaign_id}/launch", headers=marketing)
        launch_s = time.perf_counter() - t
        cpu1 = (cpu_seconds(pid), cpu_seconds(bench.pg.pg_pid, children=True))
    if r.status_code != 200:
        raise RuntimeError(f"launch: HTTP {r.status_code} {r.text[:500]}")
    results["launch"] = {"seconds": launch_s, "cpu_campaigns": cpu1[0] - cpu0[0], "cpu_postgres": cpu1[1] - cpu0[1],
                         **await check_launch(bench, campaign_id, r.json(), args.customers, args.control, since, errors)}
    log(f"launch: {launch_s:.1f}s, {results['launch']['treated']} coupons and requests, {results['launch']['control']} held out")

    published = await wait_published(bench, args.publish_timeout, campaign_id, results["launch"]["treated"])
    results["published_s"] = published
    log("relay and sender: " + (f"every event published and message sent {published:.1f}s after the launch"
                                if published is not None else f"still busy after {args.publish_timeout:.0f}s; measuring anyway"))

    results["raw_insert"] = await raw_inserts(bench, campaign_id, since)
    log(f"raw insert: {results['raw_insert']['all_rows']} rows in {results['raw_insert']['all_s']:.1f}s")

    conn = await bench.pg.connect("campaigns")
    try:
        holders = [(r["code"], r["card_no"]) for r in await conn.fetch(
            "SELECT c.code, m.card_no FROM coupon c JOIN member_card m ON m.member_id = c.member_id"
            " WHERE c.campaign_id = $1 ORDER BY random() LIMIT 20000", campaign_id)]
    finally:
        await conn.close()
    if not holders:
        raise RuntimeError("no coupons to validate")
    stores = [STORES[no % len(STORES)] for no in range(args.tills)]
    tokens = [issuer.mint(f"bench-till-{no:02d}", Role.POS, store_id=store) for no, store in enumerate(stores)]
    plans = [plan_checks(rng, holders, store, f"T{no:02d}", 2000) for no, store in enumerate(stores)]
    staff = issuer.mint("bench-marketing", Role.MARKETING)
    if "gateway" in args.via:
        # The gateway prices codes only for a store of the chain open for business, as it takes
        # sales only from one: the tills' stores are the chain's.
        admin = {"Authorization": f"Bearer {issuer.mint('bench-admin', Role.ADMIN)}"}
        async with httpx.AsyncClient(base_url=bench.url("gateway"), timeout=30) as client:
            for store in STORES:
                r = await client.put(f"/api/v1/stores/{store}", json={"name": f"Store {store}", "city": "Shanghai"}, headers=admin)
                r.raise_for_status()
    paths = {"direct": (bench.url("campaigns"), "/v1/coupons/validate", f"/v1/coupon-templates/{template_id}"),
             "gateway": (bench.url("gateway"), "/pos/v1/coupons/validate", f"/api/campaigns/v1/coupon-templates/{template_id}")}
    for via in args.via:
        base, validate_path, get_path = paths[via]
        for mode, pace in (("paced", args.pace), ("back to back", 0.0)):
            name = f"{via}, {mode}"
            raw = await get_run(bench, base, get_path, staff, args.tills, args.raw_seconds, pace)
            results[f"raw_get|{name}"] = raw.figures()
            log(f"raw GET ({name}): {raw.per_s:.0f}/s, p99 {results[f'raw_get|{name}']['p99'] * 1000:.1f} ms")
            till = await till_run(bench, base, validate_path, tokens, plans, args.seconds, pace)
            results[f"validate|{name}"] = till.figures()
            log(f"validate ({name}): {till.per_s:.0f}/s, p99 {results[f'validate|{name}']['p99'] * 1000:.1f} ms")
            if till.errors or till.wrong:
                errors.append(f"validate ({name}): errors {till.errors}, {till.wrong} wrong answers")


def report(args: argparse.Namespace, results: dict[str, Any]) -> None:
    lines = [f"\nCampaigns on PostgreSQL, {args.customers} customers, {args.tills} tills"]
    if "launch" in results:
        la, raw = results["launch"], results.get("raw_insert")
        verdict = "MET" if la["seconds"] < GOAL_LAUNCH_S else "MISS"
        lines += [
            f"  launch: {la['seconds']:.1f} s (goal < {GOAL_LAUNCH_S:.0f} s: {verdict}); {la['treated']} coupons and"
            f" notification requests, {la['control']} held out",
            f"    CPU during the launch: campaigns {la['cpu_campaigns']:.1f} s, PostgreSQL {la['cpu_postgres']:.1f} s",
        ]
        if raw:
            lines += [
                f"    raw limit: {raw['plain_rows']} coupon rows inserted into a copy of the table in {raw['plain_s']:.2f} s"
                f" ({raw['plain_rows'] / raw['plain_s']:.0f} rows/s)",
                f"    raw limit: every row the launch wrote ({raw['all_rows']}) inserted again in {raw['all_s']:.2f} s;"
                f" launch / raw = {la['seconds'] / raw['all_s']:.1f}x",
            ]
        if results.get("published_s") is not None:
            lines.append(f"    the relay published the launch's events and the sender sent its messages "
                         f"{results['published_s']:.1f} s after it answered")
    for key in [k for k in results if k.startswith("validate|")]:
        name = key.split("|", 1)[1]
        v, g = results[key], results[f"raw_get|{name}"]
        verdict = "MET" if v["p99"] < GOAL_VALIDATE_P99_S and not v["errors"] else "MISS"
        cpu = ", ".join(f"{k} {ms:.2f}" for k, ms in v["cpu_ms_per_request"].items())
        raw_cpu = ", ".join(f"{k} {ms:.2f}" for k, ms in g["cpu_ms_per_request"].items())
        lines += [
            f"  validate ({name}): {v['requests']} requests, {v['per_s']:.0f}/s, p50 {v['p50'] * 1000:.1f} /"
            f" p95 {v['p95'] * 1000:.1f} / p99 {v['p99'] * 1000:.1f} ms (goal p99 < {GOAL_VALIDATE_P99_S * 1000:.0f} ms: {verdict})",
            f"    CPU ms per request: {cpu}",
            f"    raw limit: authenticated GET of the template, {g['per_s']:.0f}/s, p50 {g['p50'] * 1000:.1f} /"
            f" p99 {g['p99'] * 1000:.1f} ms (CPU ms: {raw_cpu}); validate / GET: throughput {v['per_s'] / g['per_s']:.0%},"
            f" p99 {v['p99'] / g['p99']:.1f}x",
        ]
    for error in results.get("errors", []):
        lines.append(f"  CHECK FAILED: {error}")
    print("\n".join(lines), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000, help="customers in the segment (default 100000)")
    parser.add_argument("--control", type=Decimal, default=Decimal("0.10"), help="control share (default 0.10)")
    parser.add_argument("--tills", type=int, default=32, help="concurrent tills (default 32)")
    parser.add_argument("--seconds", type=float, default=30.0, help="validate run per path (default 30)")
    parser.add_argument("--pace", type=float, default=0.5,
                        help="paced run: each till validates once every PACE seconds (default 0.5)")
    parser.add_argument("--raw-seconds", type=float, default=10.0, help="trivial GET run per path (default 10)")
    parser.add_argument("--via", nargs="+", choices=["direct", "gateway"], default=["direct", "gateway"],
                        help="validate straight to campaigns, through the gateway (the till's path), or both")
    parser.add_argument("--launch-timeout", type=float, default=900.0, help="HTTP timeout of the launch (s)")
    parser.add_argument("--publish-timeout", type=float, default=300.0, help="wait for the relay and the sender at most (s)")
    parser.add_argument("--seed", type=int, default=20261123, help="random seed of the data")
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, database files)")
    args = parser.parse_args()

    bench = Bench(Path(tempfile.mkdtemp(prefix="crm-bench-campaigns-")))
    results: dict[str, Any] = {}
    code = run_bench(bench, lambda: run(args, bench, results), keep=args.keep)
    report(args, results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    if results.get("errors") and code == 0:
        code = 2
    return code


if __name__ == "__main__":
    sys.exit(main())
